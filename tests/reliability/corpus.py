"""The bad-input corpus, built from the real bundled samples (deterministic: no randomness).

Each :class:`Case` is one broken file and what ``geopipe ingest SOURCE FILE`` must say about
it.  The files are made here with eccodes, netCDF4 and byte edits of the real files in
``geopipe/sample/data`` (never with the readers under test), so every case is a real file
with one realistic defect: a download cut short, a grid the reader does not support, a
typo in a table, a header damaged on disk, an empty file, or a file of the wrong kind.
"""

from __future__ import annotations

import bz2
import dataclasses
import functools
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

# isort: off
import geopipe  # noqa: F401  (pyproj before eccodes, or the process crashes at exit; see geopipe/__init__.py)
import eccodes
# isort: on

from geopipe.sample import REAL
from tests.support.netcdf import copy_netcdf_without

GFS = REAL / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
GOES_C13 = REAL / "goes" / "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc"
GOES_C01 = REAL / "goes" / "OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc"
IBTRACS_CSV = REAL / "ibtracs" / "ibtracs.SA.list.v04r00.csv"
IBTRACS_NC = REAL / "ibtracs" / "IBTrACS.SP.v04r00.nc"
KYOTO_MONTH = REAL / "isgi" / "kyoto_asysym_iaga2002" / "WWW_aeasy00025746.dat.txt.bz2"
KYOTO_YEAR = REAL / "isgi" / "kyoto_asysym_iaga2002" / "SYM-2017.dat.txt.bz2"
DST = REAL / "isgi" / "dst2000_kyoto_wdc_hourly.txt"
KP = REAL / "isgi" / "Kp_def2009.wdc"
OBSERVATORY = REAL / "isgi" / "bou20141101vmin.min"
OMNI_SWVO = REAL / "isgi" / "omni_swvo_csv" / "OMNI_HIGH_RES_1min_202405.csv"

#: lines before the first data row of the Kyoto IAGA-2002 files: 12 header records, 2 comments, the column line
KYOTO_HEADER_LINES = 15
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: ``geopipe ingest SOURCE PATH`` must fail with one line naming PATH and ``expect``."""

    name: str
    source: str
    path: Path
    expect: tuple[str, ...]  # words of the problem that the error line must contain
    line: int | None = None  # the file line the error must point at (PATH:LINE), where it is known
    defect: str = ""  # what is wrong with the file, for the report


# ----------------------------------------------------------------------------- real-format helpers


@functools.lru_cache(maxsize=4)
def grib_messages(path: Path) -> list[dict]:
    """Every GRIB message of ``path`` as read by eccodes: keys, byte offset, message bytes (cached: read only)."""
    out = []
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                out.append({"shortName": eccodes.codes_get(h, "shortName"),
                            "typeOfLevel": eccodes.codes_get(h, "typeOfLevel"),
                            "offset": int(eccodes.codes_get(h, "offset")),
                            "length": int(eccodes.codes_get(h, "totalLength")),
                            "message": eccodes.codes_get_message(h)})
            finally:
                eccodes.codes_release(h)
    return out


def grib_message(short: str, type_of_level: str) -> bytes:
    """The one message of the real GFS 2.5 degree sample holding ``short`` on ``type_of_level``."""
    hits = [m for m in grib_messages(GFS) if m["shortName"] == short and m["typeOfLevel"] == type_of_level]
    assert len(hits) == 1, (short, type_of_level, len(hits))
    return hits[0]["message"]


def grib_edit(message: bytes, **keys) -> bytes:
    """``message`` with eccodes keys set, in the order given."""
    h = eccodes.codes_new_from_message(message)
    try:
        for key, value in keys.items():
            eccodes.codes_set(h, key, value)
        return eccodes.codes_get_message(h)
    finally:
        eccodes.codes_release(h)


def grib2_sections(message: bytes) -> dict[int, tuple[int, int]]:
    """GRIB2 section number -> (byte offset, length) of a single-field message (the layout of section 0 is fixed)."""
    pos, out = 16, {}
    while pos < len(message) - 4:
        length = int.from_bytes(message[pos:pos + 4], "big")
        out[message[pos + 4]] = (pos, length)
        pos += length
    return out


def png(width: int = 16, height: int = 8) -> bytes:
    """A valid 8-bit greyscale PNG (a gradient)."""
    rows = b"".join(b"\x00" + bytes((16 * x + 8 * y) % 256 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def damage_hdf5_superblock(data: bytes) -> bytes:
    """Keep the HDF5 signature (the file still claims to be NetCDF-4/HDF5), garble the superblock after it."""
    assert data.startswith(HDF5_SIGNATURE)
    return data[:8] + b"\xff" * 40 + data[48:]


def kyoto_day() -> list[bytes]:
    """The first day of the real Kyoto month file: its 15 header lines and 1,440 one-minute rows."""
    lines = bz2.decompress(KYOTO_MONTH.read_bytes()).split(b"\n")
    return lines[:KYOTO_HEADER_LINES + 1440]


def _lines_edit(src: list[bytes], line: int, edit: Callable[[bytes], bytes | None]) -> bytes:
    """``src`` with 1-based ``line`` replaced by ``edit(line)`` (None deletes it)."""
    out = list(src)
    new = edit(out[line - 1])
    if new is None:
        del out[line - 1]
    else:
        out[line - 1] = new
    return b"\n".join(out) + b"\n"


def _csv_field(line: bytes, index: int, value: bytes) -> bytes:
    cells = line.split(b",")
    cells[index] = value
    return b",".join(cells)


# ----------------------------------------------------------------------------- the corpus


def _gfs(folder: Path) -> list[Case]:
    messages = grib_messages(GFS)
    data = GFS.read_bytes()
    cut = messages[3]["offset"] + messages[3]["length"] // 2
    prmsl = grib_message("prmsl", "meanSea")
    corrupt = bytearray(prmsl)
    start, length = grib2_sections(prmsl)[7]
    corrupt[start + 5:start + length] = b"\xff" * (length - 5)
    bit_width = bytearray(prmsl)
    bit_width[grib2_sections(prmsl)[5][0] + 19] = 200  # octet 20 of section 5: bits per packed value
    group_width = bytearray(prmsl)
    group_width[grib2_sections(prmsl)[5][0] + 36] = 31  # octet 37: bits of the group widths (eccodes aborted on it)
    files = {
        "truncated.grib2": data[:cut],
        "polar_stereographic.grib2": grib_edit(prmsl, gridType="polar_stereographic", Nx=144, Ny=73),
        "reduced_gaussian.grib2": grib_edit(grib_message("pwat", "atmosphereSingleLayer"), gridType="reduced_gg"),
        "corrupt_data_section.grib2": bytes(corrupt),
        "corrupt_bit_width.grib2": bytes(bit_width),
        "group_width_31.grib2": bytes(group_width),
        "empty.grib2": b"",
    }
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    return [
        Case("gfs-truncated-mid-message", "gfs", folder / "truncated.grib2", ("truncated",),
             defect="the real GFS file cut in the middle of its 4th message"),
        Case("gfs-polar-stereographic-grid", "gfs", folder / "polar_stereographic.grib2", ("polar_stereographic",),
             defect="the real prmsl message re-gridded to polar stereographic (eccodes gridType)"),
        Case("gfs-reduced-gaussian-grid", "gfs", folder / "reduced_gaussian.grib2", ("reduced_gg",),
             defect="the real pwat message declared reduced Gaussian (eccodes gridType)"),
        Case("gfs-corrupt-data-section", "gfs", folder / "corrupt_data_section.grib2", ("cannot be decoded",),
             defect="the real prmsl message with its packed values (section 7) overwritten"),
        Case("gfs-corrupt-bit-width", "gfs", folder / "corrupt_bit_width.grib2", (),
             defect="the real prmsl message with one byte changed: 200 bits per packed value (section 5)"),
        Case("gfs-group-width-31", "gfs", folder / "group_width_31.grib2", ("section 5",),
             defect="the real prmsl message with one byte changed: group widths of 31 bits (section 5 octet 37), "
                    "on which eccodes aborted the process"),
        Case("gfs-empty", "gfs", folder / "empty.grib2", ("empty",), defect="an empty file"),
    ]


def _goes(folder: Path) -> list[Case]:
    copy_netcdf_without(GOES_C13, folder / "no_projection.nc", "goes_imager_projection")
    (folder / "corrupt_header.nc").write_bytes(damage_hdf5_superblock(GOES_C13.read_bytes()))
    c01 = GOES_C01.read_bytes()
    (folder / "truncated.nc").write_bytes(c01[:len(c01) * 2 // 5])
    (folder / "empty.nc").write_bytes(b"")
    return [
        Case("goes-missing-projection", "goes", folder / "no_projection.nc", ("no goes_imager_projection",),
             defect="the real C13 file without its goes_imager_projection variable"),
        Case("goes-corrupt-header", "goes", folder / "corrupt_header.nc", ("not a readable NetCDF-4",),
             defect="the real C13 file with its HDF5 superblock garbled"),
        Case("goes-truncated", "goes", folder / "truncated.nc", ("not a readable NetCDF-4",),
             defect="the first 40 % of the real C01 file (a cut download)"),
        Case("goes-empty", "goes", folder / "empty.nc", ("not a readable NetCDF-4",), defect="an empty file"),
    ]


def _ibtracs(folder: Path) -> list[Case]:
    lines = IBTRACS_CSV.read_bytes().split(b"\n")
    if lines[-1] == b"":
        lines = lines[:-1]
    header = lines[0].decode().split(",")
    lat, iso = header.index("LAT"), header.index("ISO_TIME")
    (folder / "malformed_row.csv").write_bytes(_lines_edit(lines, 10, lambda ln: _csv_field(ln, lat, b"-2B.6000")))
    (folder / "wrong_column_count.csv").write_bytes(_lines_edit(lines, 20, lambda ln: ln + b",extra"))
    bad_time = _lines_edit(lines, 30, lambda ln: _csv_field(ln, iso, b"2004-03-32 06:00:00"))
    (folder / "bad_time.csv").write_bytes(bad_time)
    (folder / "corrupt_header.nc").write_bytes(damage_hdf5_superblock(IBTRACS_NC.read_bytes()))
    (folder / "empty.csv").write_bytes(b"")
    return [
        Case("ibtracs-malformed-row", "ibtracs", folder / "malformed_row.csv", ("LAT", "not a number"), line=10,
             defect="the real SA CSV with a typo in LAT on line 10"),
        Case("ibtracs-wrong-column-count", "ibtracs", folder / "wrong_column_count.csv", ("164 fields", "163"), line=20,
             defect="the real SA CSV with an extra field on line 20"),
        Case("ibtracs-bad-time", "ibtracs", folder / "bad_time.csv", ("bad ISO_TIME",), line=30,
             defect="the real SA CSV with ISO_TIME 2004-03-32 on line 30"),
        Case("ibtracs-netcdf-corrupt-header", "ibtracs", folder / "corrupt_header.nc", ("not a readable NetCDF",),
             defect="the real SP NetCDF with its HDF5 superblock garbled"),
        Case("ibtracs-empty", "ibtracs", folder / "empty.csv", ("empty",), defect="an empty file"),
    ]


def _isgi(folder: Path) -> list[Case]:
    day = kyoto_day()
    h = KYOTO_HEADER_LINES
    (folder / "broken_header.txt").write_bytes(_lines_edit(day, 4, lambda ln: ln.rstrip().rstrip(b"|")))
    conflicting = day[h + 100][:-6] + b"-77.00"  # the 01:40 row again, with another SYM-H
    duplicated = day[:h + 101] + [conflicting] + day[h + 101:]
    (folder / "duplicate_times.txt").write_bytes(b"\n".join(duplicated) + b"\n")
    # the letter O for a zero in the last column (SYM-H) of the 03:20 row
    non_numeric = _lines_edit(day, h + 201, lambda ln: ln[:-6] + ln[-6:].replace(b"0", b"O", 1))
    (folder / "non_numeric.txt").write_bytes(non_numeric)
    (folder / "no_column_line.txt").write_bytes(_lines_edit(day, h, lambda ln: None))
    month = KYOTO_MONTH.read_bytes()
    (folder / "cut_download.txt.bz2").write_bytes(month[:len(month) // 2])
    dst = DST.read_bytes().split(b"\n")
    (folder / "dst_bad_value.txt").write_bytes(_lines_edit(dst, 5, lambda ln: ln[:28] + b"-0X8" + ln[32:]))
    (folder / "empty.txt").write_bytes(b"")
    shutil.copy(OBSERVATORY, folder / "observatory.min")
    return [
        Case("isgi-iaga2002-broken-header", "isgi", folder / "broken_header.txt", ("does not end in '|'",), line=4,
             defect="the real Kyoto file, header record 4 without its closing '|'"),
        Case("isgi-iaga2002-duplicate-times", "isgi", folder / "duplicate_times.txt", ("same time", "different values"),
             line=h + 102, defect="the real Kyoto file with its 01:40 row written twice, with two SYM-H values"),
        Case("isgi-iaga2002-non-numeric", "isgi", folder / "non_numeric.txt", ("not a number",), line=h + 201,
             defect="the real Kyoto file with the letter O for a zero in SYM-H on one row"),
        Case("isgi-iaga2002-no-column-line", "isgi", folder / "no_column_line.txt", ("no column line",), line=h,
             defect="the real Kyoto file without its DATE TIME DOY column line"),
        Case("isgi-cut-bzip2-download", "isgi", folder / "cut_download.txt.bz2", ("corrupt bzip2",),
             defect="the first half of the real bz2 Kyoto file"),
        Case("isgi-wdc-dst-bad-value", "isgi", folder / "dst_bad_value.txt", ("not a number",), line=5,
             defect="the real WDC Dst file with -0X8 for an hourly value on line 5"),
        Case("isgi-empty", "isgi", folder / "empty.txt", ("empty",), defect="an empty file"),
        Case("isgi-observatory-data", "isgi", folder / "observatory.min", ("no ASY/SYM/Dst/Kp index column",),
             defect="a real IAGA-2002 observatory file (BOU), not an index"),
    ]


def _omni(folder: Path) -> list[Case]:
    lines = OMNI_SWVO.read_bytes().split(b"\n")[:500]
    speed = lines[0].decode().split(",").index("speed")
    (folder / "omni_non_numeric.csv").write_bytes(_lines_edit(lines, 100, lambda ln: _csv_field(ln, speed, b"4O0.5")))
    (folder / "omni_empty.csv").write_bytes(b"")
    return [
        Case("omni-non-numeric", "omni", folder / "omni_non_numeric.csv", ("speed", "not a number"), line=100,
             defect="the real SWVO OMNI CSV with 4O0.5 for a speed on line 100"),
        Case("omni-empty", "omni", folder / "omni_empty.csv", ("empty",), defect="an empty file"),
    ]


def _wrong_kind(folder: Path) -> list[Case]:
    (folder / "picture.png").write_bytes(png())
    shutil.copy(IBTRACS_CSV, folder / "tracks.csv")
    (folder / "field.grib2").write_bytes(grib_message("prmsl", "meanSea"))
    shutil.copy(GOES_C13, folder / "scene.nc")
    return [
        Case("png-given-to-gfs", "gfs", folder / "picture.png", ("no GRIB message",), defect="a PNG image"),
        Case("csv-given-to-gfs", "gfs", folder / "tracks.csv", ("no GRIB message",), defect="the IBTrACS CSV"),
        Case("grib-given-to-goes", "goes", folder / "field.grib2", ("not a readable NetCDF-4",),
             defect="a GRIB2 message"),
        Case("netcdf-given-to-isgi", "isgi", folder / "scene.nc", ("not a recognised index format",),
             defect="a GOES NetCDF file"),
        Case("png-given-to-ibtracs", "ibtracs", folder / "picture.png", ("not an IBTrACS",), defect="a PNG image"),
        Case("grib-given-to-omni", "omni", folder / "field.grib2", ("not an OMNI CSV",), defect="a GRIB2 message"),
    ]


def build(folder: str | Path) -> list[Case]:
    """Write the corpus under ``folder`` (one sub-folder per family) and return its cases."""
    folder = Path(folder)
    cases = []
    for family, make in (("gfs", _gfs), ("goes", _goes), ("ibtracs", _ibtracs), ("isgi", _isgi), ("omni", _omni),
                         ("wrong_kind", _wrong_kind)):
        sub = folder / family
        sub.mkdir(parents=True, exist_ok=True)
        cases.extend(make(sub))
    return cases
