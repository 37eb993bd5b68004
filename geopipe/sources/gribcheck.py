"""Checks of a GRIB2 field's packing (sections 5, 6 and 7) *before* eccodes decodes it.

eccodes trusts the counts and widths written in section 5: a single flipped byte there (a
group width of 31 bits, a reference for group widths of 200) makes it read past its buffer
and abort the whole process with a C assertion (``ecCodes assertion failed: e == 0 in
grib_bits_any_endian.cc``), which no ``try`` can catch.  :func:`check_packing` reads the same
counts with numpy and refuses, with a ``ValueError`` naming the octet, a field whose
section 7 cannot hold what section 5 says it holds.  It costs well under a millisecond for a
GFS field (the group widths and lengths are a few thousand bits), so decoding stays in the
process (a worker process per batch would cost the start-up of eccodes every time).

Templates checked (WMO GRIB2 code table 5.0): 5.0 simple packing, 5.2 complex packing and
5.3 complex packing with spatial differencing (every NCEP field), 5.40/5.41/5.42
(JPEG 2000, PNG, CCSDS: the bits per value; their codecs check their own streams).  Other
templates are left to eccodes.
"""

from __future__ import annotations

import numpy as np

#: the widest value any packing may declare (eccodes decodes into 64-bit integers)
MAX_BITS = 64
#: the widest group (and group-width / group-length field) complex packing may declare: eccodes'
#: unpacking of 5.2/5.3 reads each value as one 32-bit word
MAX_GROUP_BITS = 32


def sections(message: bytes) -> dict[int, tuple[int, int]]:
    """GRIB2 section number -> ``(byte offset, length)`` in a single-field message."""
    pos, end, out = 16, len(message) - 4, {}
    while pos < end:
        if pos + 5 > end:
            raise ValueError(f"section header at byte {pos} runs past the end of the message")
        length = int.from_bytes(message[pos:pos + 4], "big")
        number = message[pos + 4]
        if length < 5 or pos + length > end:
            raise ValueError(f"section {number} at byte {pos} has a bad length {length} (the message has {len(message)} bytes)")
        out[number] = (pos, length)
        pos += length
    for number in (5, 7):
        if number not in out:
            raise ValueError(f"the message has no section {number}")
    return out


def _uint(buf: bytes, start: int, width: int) -> int:
    return int.from_bytes(buf[start:start + width], "big")


def unpack_bits(data: bytes, bit: int, nbits: int, count: int) -> np.ndarray:
    """``count`` unsigned integers of ``nbits`` bits each from bit ``bit`` of ``data`` (int64)."""
    if nbits == 0 or count == 0:
        return np.zeros(count, np.int64)
    first, last = bit // 8, (bit + nbits * count + 7) // 8
    bits = np.unpackbits(np.frombuffer(data, np.uint8, last - first, first))
    bits = bits[bit - 8 * first: bit - 8 * first + nbits * count].reshape(count, nbits)
    return bits.astype(np.int64) @ (np.int64(1) << np.arange(nbits - 1, -1, -1, dtype=np.int64))


def check_packing(message: bytes) -> None:
    """Raise ``ValueError`` when section 5 of a single-field GRIB2 message declares more than section 7 holds.

    Checked: the section lengths against the message length, the bits per value, and for
    complex packing the group count, the group widths and lengths (decoded here), their sum
    against the number of values and the bits they need against section 7's length.
    """
    if len(message) < 16 or message[7] != 2:
        return  # GRIB edition 1 has another layout (its binary data section is left to eccodes)
    where = sections(message)
    s5, n5 = where[5]
    s7, n7 = where[7]
    if n5 < 11:
        raise ValueError(f"section 5 is {n5} bytes long, too short for any data representation template")
    values = _uint(message, s5 + 5, 4)
    template = _uint(message, s5 + 9, 2)
    data_bits = 8 * (n7 - 5)
    if template in (0, 2, 3, 40, 41, 42) and n5 < 21:
        raise ValueError(f"section 5 is {n5} bytes long, template 5.{template} needs at least 21")
    bits = message[s5 + 19] if n5 >= 21 else 0
    if template in (0, 40, 41, 42):
        if bits > MAX_BITS:
            raise ValueError(f"{bits} bits per packed value (octet 20 of section 5 is corrupt)")
        if template == 0 and bits * values > data_bits:
            raise ValueError(f"section 5 says {values} values of {bits} bits, section 7 holds only {data_bits} bits")
        return
    if template in (2, 3):
        _check_complex(message, template, s5, n5, s7, n7, values, bits)


def _check_complex(message: bytes, template: int, s5: int, n5: int, s7: int, n7: int, values: int, bits: int) -> None:
    need = 47 if template == 2 else 49
    if n5 < need:
        raise ValueError(f"section 5 is {n5} bytes long, template 5.{template} needs {need}")
    octet = lambda k: message[s5 + k - 1]  # noqa: E731  (1-based octets, as WMO numbers them)
    groups = _uint(message, s5 + 31, 4)
    width_ref, width_bits = octet(36), octet(37)
    length_ref, length_inc = _uint(message, s5 + 37, 4), octet(42)
    last_length, length_bits = _uint(message, s5 + 42, 4), octet(47)
    for name, value, number in (("bits per group reference", bits, 20), ("bits of the group widths", width_bits, 37),
                                ("bits of the group lengths", length_bits, 47)):
        if value > MAX_GROUP_BITS:
            raise ValueError(f"{value} {name} (octet {number} of section 5 is corrupt; at most {MAX_GROUP_BITS})")
    if groups == 0 and values:
        raise ValueError(f"section 5 says 0 groups for {values} values (octets 32-35 are corrupt)")
    if groups > max(values, 1):
        raise ValueError(f"section 5 says {groups} groups for only {values} values (octets 32-35 are corrupt)")
    pos = s7 + 5  # bit positions below are relative to the start of section 7's data
    end = 8 * (n7 - 5)
    extra = 0
    if template == 3:
        order, octets = octet(48), octet(49)
        if order not in (1, 2) or not 1 <= octets <= 4:
            raise ValueError(f"spatial differencing of order {order} with {octets}-octet descriptors "
                             "(octets 48-49 of section 5 are corrupt)")
        extra = 8 * octets * (order + 1)
    data = message[pos:pos + n7 - 5]
    offset = extra + _octets(groups * bits)
    widths_at, offset = offset, offset + _octets(groups * width_bits)
    lengths_at, offset = offset, offset + _octets(groups * length_bits)
    if offset > end:
        raise ValueError(f"section 5 says {groups} groups whose references, widths and lengths need {offset} bits; "
                         f"section 7 holds {end}")
    widths = width_ref + unpack_bits(data, widths_at, width_bits, groups)
    if groups and int(widths.max()) > MAX_GROUP_BITS:
        raise ValueError(f"a group of values {int(widths.max())} bits wide (reference {width_ref} + width; octet 36/37 of "
                         f"section 5 or the widths in section 7 are corrupt; at most {MAX_GROUP_BITS})")
    lengths = length_ref + length_inc * unpack_bits(data, lengths_at, length_bits, groups)
    if groups:
        lengths[-1] = last_length
    if int(lengths.sum()) != values:
        raise ValueError(f"the {groups} groups hold {int(lengths.sum())} values, section 5 says {values}")
    packed = int((widths * lengths).sum())
    if offset + packed > end:
        raise ValueError(f"the packed values need {offset + packed} bits, section 7 holds {end}")


def _octets(nbits: int) -> int:
    """``nbits`` rounded up to whole octets (each block of section 7 starts on an octet)."""
    return (nbits + 7) // 8 * 8


def check_gaps(buf, spans: list[tuple[int, int]], source: str) -> None:
    """Refuse bytes of ``buf`` outside the GRIB messages ``spans`` (``(offset, length)``, in order).

    :func:`geopipe.sources.grib.scan_messages` looks for the next ``GRIB`` marker, so a message
    whose marker was damaged, or junk between two messages, would be skipped without a word.
    Zero padding (some archives pad files to a block size) is accepted.
    """
    from geopipe.errors import InputError

    pos = 0
    for start, length in [*spans, (len(buf), 0)]:
        if start > pos:
            gap = bytes(buf[pos:start])
            if gap.strip(b"\x00"):
                what = "before the first GRIB message" if pos == 0 else "between two GRIB messages" \
                    if start < len(buf) else "after the last GRIB message"
                raise InputError(source, f"{start - pos} bytes at byte {pos} {what} are not part of any GRIB message "
                                         f"(a damaged 'GRIB' marker or junk: starts {gap[:8]!r})")
        pos = start + length
