"""A seeded fuzz corpus built from the bundled real files, each case with its expected outcome.

:func:`build` writes the clean inputs and the mutated ones under a folder and returns the
:class:`Mutant` list; each mutant is either *refused* (the ingest must fail with an
``InputError`` naming the file and one of the ``reasons`` phrases) or *accepted* (what the
ingest would write must equal what the clean file gives, value for value).  The mutations
are those a download, a disk or a hand edit makes: truncations, byte flips in GRIB section
5 and in reference values and scale factors, damaged ``GRIB``/``7777`` markers, junk
between messages, a second valid time, edited NetCDF attributes (scale factor, band,
platform), non-numeric and ``inf`` cells, out-of-range values, renamed, removed, swapped
and extra columns, shuffled and duplicated rows, conflicting duplicates, CRLF, a UTF-8 BOM,
trailing blank lines, a last row cut inside its value.  ``random.Random(SEED)`` picks rows,
bytes and values, so every run builds the same files.

``python -m tests.reliability.fuzz FOLDER OUT.jsonl`` builds the corpus and runs every case
in that one process (decoding in-process, as the ingest driver does), writing one JSON line
per case as soon as it is decided, so a case that killed the process is the one after the
last line.
"""

from __future__ import annotations

import bz2
import dataclasses
import json
import random
import shutil
import sys
from pathlib import Path

# isort: off
import geopipe  # noqa: F401
import eccodes
import netCDF4
# isort: on
import numpy as np

from geopipe.sample import REAL
from geopipe.sources.gribcheck import sections

SEED = 19
GFS = REAL / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
GOES_C13 = REAL / "goes" / "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc"
GOES_C01 = REAL / "goes" / "OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc"
IBTRACS = REAL / "ibtracs" / "ibtracs.SA.list.v04r00.csv"
KYOTO = REAL / "isgi" / "kyoto_asysym_iaga2002" / "WWW_aeasy00025746.dat.txt.bz2"
DST = REAL / "isgi" / "dst2000_kyoto_wdc_hourly.txt"
KP = REAL / "isgi" / "Kp_def2009.wdc"
SWVO = REAL / "isgi" / "omni_swvo_csv" / "OMNI_HIGH_RES_1min_202405.csv"
ML = REAL / "isgi" / "ml_omni1min_storms" / "2015_out.csv"
CDAWEB = REAL / "isgi" / "omni_cdaweb_csv" / "OMNI_HRO2_1MIN.csv"
#: the GFS fields of the small clean GRIB file (shortName, typeOfLevel, level)
GFS_FIELDS = [("prmsl", "meanSea", 0), ("pwat", "atmosphereSingleLayer", 0), ("gh", "isobaricInhPa", 30),
              ("gh", "isobaricInhPa", 500), ("o3mr", "isobaricInhPa", 10), ("t", "isobaricInhPa", 850),
              ("u", "isobaricInhPa", 250), ("r", "isobaricInhPa", 700)]

RANGE = ("outside the valid range",)
PACKING = ("section 5", "section 7", "groups", "bits", "cannot be decoded", "cannot be read")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One input: ``source``, ``path``, its ``clean`` original, and the expected outcome."""

    name: str
    source: str
    path: str
    clean: str
    reasons: tuple[str, ...] = ()  # refused: the error names the file and one of these; () = accepted, equal to clean
    defect: str = ""

    @property
    def accepted(self) -> bool:
        return not self.reasons


# ----------------------------------------------------------------------------- clean inputs


def _gfs_messages() -> list[bytes]:
    picked = {}
    with open(GFS, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            key = (eccodes.codes_get(h, "shortName"), eccodes.codes_get(h, "typeOfLevel"),
                   int(eccodes.codes_get(h, "level")))
            if key in GFS_FIELDS and key not in picked:
                picked[key] = eccodes.codes_get_message(h)
            eccodes.codes_release(h)
    return [picked[k] for k in GFS_FIELDS]


def _lines(data: bytes) -> list[bytes]:
    out = data.split(b"\n")
    return out[:-1] if out[-1] == b"" else out


def _join(lines: list[bytes], end: bytes = b"\n") -> bytes:
    return b"\n".join(lines) + end


class _Builder:
    def __init__(self, folder: Path):
        self.folder, self.rng, self.cases = folder, random.Random(SEED), []

    def add(self, source: str, clean: Path, name: str, data: bytes, reasons=(), defect: str = "", suffix=None):
        name = name.replace("/", "-")
        stem = "gfs.t12z.pgrbf120." if source == "gfs" else ""  # NOAA's name: one valid time per file
        path = self.folder / source / f"{stem}{len(self.cases):03d}-{name}{suffix or clean.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.cases.append(Mutant(name, source, str(path), str(clean), tuple(reasons), defect))

    # -------------------------------------------------------------------------- GFS
    def gfs(self) -> None:
        rng, msgs = self.rng, _gfs_messages()
        clean = self.folder / "clean" / "gfs.t12z.pgrbf120.2p5deg.small.grib2"
        clean.parent.mkdir(parents=True, exist_ok=True)
        clean.write_bytes(b"".join(msgs))
        starts = np.cumsum([0] + [len(m) for m in msgs])

        def with_message(k: int, new: bytes) -> bytes:
            return b"".join(msgs[:k] + [new] + msgs[k + 1:])

        def poke(k: int, offset: int, value: int) -> bytes:
            m = bytearray(msgs[k])
            m[offset] = value
            return with_message(k, bytes(m))

        for _ in range(10):
            k = rng.randrange(len(msgs))
            cut = int(starts[k]) + rng.randrange(20, len(msgs[k]) - 4)
            self.add("gfs", clean, "truncated", clean.read_bytes()[:cut], ("truncated", "cut short"),
                     f"cut at byte {cut}, inside message {k + 1}")
        for _ in range(14):
            k = rng.randrange(len(msgs))
            s5 = sections(msgs[k])[5][0]
            octet = rng.choice([20, 32, 33, 34, 35, 37, 47])
            value = {20: rng.randrange(33, 256), 37: rng.randrange(25, 256), 47: rng.randrange(33, 256)}.get(
                octet, rng.randrange(1, 256))
            self.add("gfs", clean, f"section5-octet{octet}", poke(k, s5 + octet - 1, value), PACKING,
                     f"message {k + 1}: section 5 octet {octet} set to {value}")
        for k, short in ((0, "prmsl"), (2, "gh30"), (3, "gh500"), (5, "t850")):
            s5 = sections(msgs[k])[5][0]
            self.add("gfs", clean, f"{short}-decimal-scale", poke(k, s5 + 18, (msgs[k][s5 + 18] - 1) % 256), RANGE,
                     f"{short}: decimal scale factor one less (values x10)")
            m = bytearray(msgs[k])
            m[s5 + 11] = (m[s5 + 11] & 0x80) | min(0x7E, (m[s5 + 11] & 0x7F) + 2)  # reference value exponent +2
            self.add("gfs", clean, f"{short}-reference-exponent", with_message(k, bytes(m)), RANGE,
                     f"{short}: reference value x2^16 (exponent byte)")
        m = bytearray(msgs[4])
        s5 = sections(msgs[4])[5][0]
        m[s5 + 11] |= 0x80  # o3mr reference value negative
        self.add("gfs", clean, "o3mr-negative-reference", with_message(4, bytes(m)), RANGE,
                 "o3mr: reference value sign flipped (negative ozone mixing ratio)")
        for _ in range(5):
            k = rng.randrange(1, len(msgs))
            m = bytearray(msgs[k])
            m[rng.randrange(4)] = rng.choice(b"gRIXB0 ")
            if bytes(m[:4]) == b"GRIB":
                m[0] = ord("X")
            self.add("gfs", clean, "damaged-GRIB-marker", with_message(k, bytes(m)), ("not part of any GRIB message",),
                     f"message {k + 1}: its 'GRIB' marker damaged")
        for _ in range(5):
            k = rng.randrange(1, len(msgs))
            junk = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 64)))
            self.add("gfs", clean, "junk-between-messages", b"".join(msgs[:k]) + junk + b"".join(msgs[k:]),
                     ("not part of any GRIB message",), f"{len(junk)} junk bytes before message {k + 1}")
        for _ in range(4):
            k = rng.randrange(len(msgs))
            m = bytearray(msgs[k])
            m[-rng.randrange(1, 5)] = rng.choice(b"0X6\x00")
            self.add("gfs", clean, "broken-7777", with_message(k, bytes(m)), ("7777",),
                     f"message {k + 1}: end marker damaged")
        for _ in range(6):
            k = rng.randrange(len(msgs))
            number = rng.choice([3, 4, 5, 7])
            start, length = sections(msgs[k])[number]
            m = bytearray(msgs[k])
            m[start:start + 4] = (length + rng.choice([-3, 1, 7, 4000])).to_bytes(4, "big")
            self.add("gfs", clean, f"section{number}-length", with_message(k, bytes(m)),
                     ("cannot be read", "cannot be decoded", "bad length", "section"),
                     f"message {k + 1}: section {number} length changed")
        h = eccodes.codes_new_from_message(msgs[1])
        eccodes.codes_set(h, "forecastTime", eccodes.codes_get(h, "forecastTime") + 6)
        later = eccodes.codes_get_message(h)
        eccodes.codes_release(h)
        self.add("gfs", clean, "second-valid-time", clean.read_bytes() + later, ("valid times",),
                 "a pwat message 6 hours later appended to a one-time-per-file product")
        self.add("gfs", clean, "zero-padding", clean.read_bytes() + b"\x00" * rng.randrange(1, 4096),
                 defect="zero padding after the last message (accepted)")
        self.add("gfs", clean, "copy", clean.read_bytes(), defect="the clean file under another name (accepted)")

    # -------------------------------------------------------------------------- GOES
    def goes(self) -> None:
        rng = self.rng
        for clean in (GOES_C13, GOES_C01):
            data = clean.read_bytes()
            for _ in range(4):
                frac = rng.uniform(0.05, 0.95)
                self.add("goes", clean, "truncated", data[:int(len(data) * frac)], ("not a readable NetCDF",),
                         f"first {frac:.0%} of the file")
            self.add("goes", clean, "copy", data, defect="the clean file (accepted)")
        edits = [(GOES_C01, "scale-factor-x10", lambda nc: nc["CMI"].setncattr("scale_factor", np.float32(nc["CMI"].scale_factor * 10)), RANGE),
                 (GOES_C13, "add-offset-plus-300", lambda nc: nc["CMI"].setncattr("add_offset", np.float32(nc["CMI"].add_offset + 300)), RANGE),
                 (GOES_C01, "band-99", lambda nc: nc["band_id"].__setitem__(slice(None), 99), ("band_id 99",)),
                 (GOES_C01, "band-0", lambda nc: nc["band_id"].__setitem__(slice(None), 0), ("band_id 0",)),
                 (GOES_C13, "platform-G99", lambda nc: nc.setncattr("platform_ID", "G99"), ("platform_ID",)),
                 (GOES_C13, "title-edited", lambda nc: nc.setncattr("title", "edited by hand"), ())]
        for clean, name, edit, reasons in edits:
            path = self.folder / "goes" / f"{len(self.cases):03d}-{name}.nc"
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(clean, path)
            with netCDF4.Dataset(path, "r+") as nc:
                edit(nc)
            self.cases.append(Mutant(name, "goes", str(path), str(clean), tuple(reasons), name))

    # -------------------------------------------------------------------------- text helpers
    def text_cases(self, source: str, clean: Path, lines: list[bytes], first: int, header: int, cell,
                   cut_ok: bool = True) -> None:
        """Mutations every table reader must handle; ``cell(line, col_from_end, value)`` edits one value."""
        rng = self.rng
        body = list(range(first, len(lines)))
        self.add(source, clean, "crlf", _join(lines, b"\r\n").replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"),
                 defect="CRLF line ends (accepted)")
        self.add(source, clean, "bom", b"\xef\xbb\xbf" + _join(lines), defect="a UTF-8 BOM (accepted)")
        for tail in (b"\n\n", b"\n   \n", b"\n\t \n\n"):
            self.add(source, clean, "trailing-blank", _join(lines) + tail, defect="trailing blank lines (accepted)")
        self.add(source, clean, "no-final-newline", _join(lines, b""), defect="no newline after the last row (accepted)")
        i = rng.choice(body[1:])
        self.add(source, clean, "blank-line-inside", _join(lines[:i] + [b""] + lines[i:]),
                 defect=f"an empty line before line {i + 1} (accepted)")
        for _ in range(3):
            rows = lines[first:]
            order = list(range(len(rows)))
            rng.shuffle(order)
            self.add(source, clean, "shuffled", _join(lines[:first] + [rows[i] for i in order]),
                     defect="data rows shuffled (accepted, sorted)")
        for _ in range(3):
            i = rng.choice(body)
            self.add(source, clean, "exact-duplicate", _join(lines[:i + 1] + [lines[i]] + lines[i + 1:]),
                     defect=f"line {i + 1} written twice (accepted)")
        for _ in range(3):
            i = rng.choice(body)
            self.add(source, clean, "conflicting-duplicate",
                     _join(lines[:i + 1] + [cell(lines[i], rng.choice([0, 1]), "777")] + lines[i + 1:]),
                     ("same time", "different fixes"), f"line {i + 1} repeated with another value")
        for token, reasons in ((b"inf", ("infinite",)), (b"-inf", ("infinite",)), (b"Infinity", ("infinite",)),
                               (b"1.5O", ("not a number",)), (b"n/a", ("not a number",)), (b"--", ("not a number",))):
            i = rng.choice(body)
            self.add(source, clean, f"cell-{token.decode()}", _join(lines[:i] + [cell(lines[i], rng.choice([0, 1]), token.decode())] + lines[i + 1:]),
                     reasons, f"{token.decode()} in a cell on line {i + 1}")
        if cut_ok:
            for _ in range(2):
                last = lines[-1].rstrip()
                self.add(source, clean, "last-row-cut", _join(lines[:-1] + [last[:-rng.randrange(1, 3)]], b""),
                         ("cut short",), "the last row cut inside its last value, no final newline")
        for _ in range(2):
            i = rng.choice(body)
            self.add(source, clean, "extra-field-one-row", _join(lines[:i] + [lines[i] + b",9" if b"," in lines[i] else lines[i] + b" 9"] + lines[i + 1:]),
                     ("fields", "columns"), f"an extra field on line {i + 1}")

    # -------------------------------------------------------------------------- IBTrACS
    def ibtracs(self) -> None:
        rng, clean = self.rng, IBTRACS
        lines = _lines(clean.read_bytes())
        header = lines[0].decode().split(",")
        col = {n: header.index(n) for n in header}

        def cell(line: bytes, which: int, value: str, name: str | None = None) -> bytes:
            cells = line.split(b",")
            cells[col[name or ("USA_WIND", "LAT")[which]]] = value.encode()
            return b",".join(cells)

        self.text_cases("ibtracs", clean, lines, 2, 0, cell)
        for name, value in (("LAT", "123.5"), ("LON", "-270.5"), ("WMO_PRES", "1300"), ("USA_WIND", "900"),
                            ("STORM_DIR", "400")):
            i = rng.randrange(2, len(lines))
            self.add("ibtracs", clean, f"{name.lower()}-out-of-range", _join(lines[:i] + [cell(lines[i], 0, value, name)] + lines[i + 1:]),
                     RANGE, f"{name} {value} on line {i + 1}")
        swap = list(header)
        swap[col["LAT"]], swap[col["LON"]] = "LON", "LAT"
        self.add("ibtracs", clean, "lat-lon-swapped", _join([",".join(swap).encode()] + lines[1:]), ("swapped",),
                 "header LAT,LON written as LON,LAT")
        for name in ("LAT", "ISO_TIME", "USA_WIND"):
            renamed = [h if h != name else name.lower() + "_x" for h in header]
            self.add("ibtracs", clean, f"{name.lower()}-renamed", _join([",".join(renamed).encode()] + lines[1:]),
                     ("lacks",), f"header column {name} renamed")

    # -------------------------------------------------------------------------- ISGI
    def isgi(self) -> None:
        rng = self.rng
        day = bz2.decompress(KYOTO.read_bytes()).split(b"\n")[:15 + 1440]
        clean = self.folder / "clean" / "kyoto-day.txt"
        clean.write_bytes(_join(day))

        def cell(line: bytes, which: int, value: str) -> bytes:
            cells = line.split()
            k = len(cells) - 1 - which
            text = line.decode()
            at = text.rfind(cells[k].decode()) if which == 0 else text.rfind(cells[k].decode(), 0, text.rfind(cells[-1].decode()))
            return (text[:at] + value.rjust(len(cells[k])) + text[at + len(cells[k]):]).encode()

        self.text_cases("isgi", clean, day, 15, 14, cell)
        for value in ("-5000.00", "9000.00", "-1600.00"):
            i = rng.randrange(15, len(day))
            self.add("isgi", clean, "sym-h-out-of-range", _join(day[:i] + [cell(day[i], 0, value)] + day[i + 1:]),
                     RANGE, f"SYM-H {value} on line {i + 1}")
        for old, new in ((b"SYM-H", b"SYM-X"), (b"ASY-H", b"ASY_H"), (b"SYM-D", b"SYMDD")):
            self.add("isgi", clean, "column-renamed", _join(day[:14] + [day[14].replace(old, new)] + day[15:]),
                     ("not an index column",), f"column {old.decode()} renamed {new.decode()}")
        self.add("isgi", clean, "extra-field-every-row", _join(day[:15] + [ln + b"      1.00" for ln in day[15:]]),
                 ("fields",), "an extra value on every row")
        for _ in range(3):
            i = rng.randrange(0, 12)
            self.add("isgi", clean, "header-record-damaged", _join(day[:i] + [day[i].rstrip().rstrip(b"|")] + day[i + 1:]),
                     ("does not end in '|'",), f"header record {i + 1} without its '|'")
        data = KYOTO.read_bytes()
        for _ in range(3):
            self.add("isgi", KYOTO, "bz2-cut", data[:rng.randrange(100, len(data) - 10)], ("corrupt bzip2",),
                     "a cut bz2 download", suffix=".bz2")
        for clean_wdc in (DST, KP):
            lines = _lines(clean_wdc.read_bytes())
            for _ in range(2):
                self.add("isgi", clean_wdc, "wdc-last-record-cut", _join(lines[:-1] + [lines[-1][:-rng.randrange(2, 9)]], b""),
                         ("cut short",), "the last record cut short, no final newline")
            self.add("isgi", clean_wdc, "wdc-crlf", _join(lines).replace(b"\n", b"\r\n"), defect="CRLF (accepted)")
            self.add("isgi", clean_wdc, "wdc-trailing-blank", _join(lines) + b"\n  \n", defect="trailing blank lines (accepted)")
            i = rng.randrange(len(lines) // 2, len(lines))
            if not lines[i].startswith(b"#"):
                bad = lines[i][:20] + b"X" + lines[i][21:]
                self.add("isgi", clean_wdc, "wdc-letter", _join(lines[:i] + [bad] + lines[i + 1:]), ("not a number",),
                         f"a letter in a value on line {i + 1}")

    # -------------------------------------------------------------------------- OMNI
    def omni(self) -> None:
        rng = self.rng
        swvo = _lines(SWVO.read_bytes())[:600]
        clean = self.folder / "clean" / "omni-swvo.csv"
        clean.write_bytes(_join(swvo))
        header = swvo[0].decode().split(",")

        def cell(line: bytes, which: int, value: str) -> bytes:
            cells = line.split(b",")
            cells[header.index(("sym-h", "speed")[which])] = value.encode()
            return b",".join(cells)

        self.text_cases("omni", clean, swvo, 1, 0, cell)
        for name, value in (("speed", "50000"), ("bz_gsm", "-700"), ("proton_density", "-4"), ("pdyn", "700"),
                            ("sym-h", "-3000")):
            i = rng.randrange(1, len(swvo))
            cells = swvo[i].split(b",")
            cells[header.index(name)] = value.encode()
            self.add("omni", clean, f"{name}-out-of-range", _join(swvo[:i] + [b",".join(cells)] + swvo[i + 1:]), RANGE,
                     f"{name} {value} on line {i + 1}")
        for a, b in (("by_gsm", "bz_gsm"), ("bx_gsm", "by_gsm"), ("speed", "proton_density")):
            h = list(header)
            h[header.index(a)], h[header.index(b)] = b, a
            self.add("omni", clean, f"{a}-{b}-swapped", _join([",".join(h).encode()] + swvo[1:]), ("swapped",),
                     f"header {a},{b} swapped")
        for old, new in (("by_gsm", "by_gsn"), ("sym-h", "sym-x"), ("speed", "sped")):
            self.add("omni", clean, f"{old}-renamed", _join([",".join(new if c == old else c for c in header).encode()] + swvo[1:]),
                     ("not a column",), f"column {old} renamed {new}")
        for name in ("bz_gsm", "pdyn"):
            k = header.index(name)
            self.add("omni", clean, f"{name}-removed", _join([b",".join(c for j, c in enumerate(ln.split(b",")) if j != k) for ln in swvo]),
                     ("does not",), f"column {name} removed")
        ml = _lines(ML.read_bytes())[:800]
        clean_ml = self.folder / "clean" / "omni-ml.csv"
        clean_ml.write_bytes(_join(ml))
        for _ in range(3):
            self.add("omni", clean_ml, "ml-last-row-cut", _join(ml[:-1] + [ml[-1].rstrip()[:-rng.randrange(1, 3)]], b""),
                     ("cut short",), "ML-repo CSV: last row cut inside its last value")
        self.add("omni", clean_ml, "ml-bom-crlf", b"\xef\xbb\xbf" + _join(ml).replace(b"\n", b"\r\n"),
                 defect="ML-repo CSV with a BOM and CRLF (accepted)")
        cda = CDAWEB.read_bytes()
        self.add("omni", CDAWEB, "cdaweb-copy", cda, defect="the CDAWeb CSV (accepted)")
        self.add("omni", CDAWEB, "cdaweb-trailing", cda.rstrip(b"\n") + b"\n \n\n", defect="trailing blank lines (accepted)")


def build(folder: str | Path) -> list[Mutant]:
    """Write the clean inputs and the seeded mutants under ``folder``; the cases in a fixed order."""
    b = _Builder(Path(folder))
    for family in (b.gfs, b.goes, b.ibtracs, b.isgi, b.omni):
        family()
    return b.cases


# ----------------------------------------------------------------------------- running a case


def read(source: str, path: str):
    """What ``geopipe ingest`` would write for one input: the reader's Dataset after the checks, loaded."""
    from geopipe import validate
    from geopipe.ingest import _open
    from geopipe.sources import get_reader

    reader = get_reader(source)
    ds = _open(reader, path)
    validate.check(ds, source, path)
    ds.attrs.pop("_geopipe_record", None)
    return ds.load()


def same_values(a, b) -> str:
    """Where two Datasets differ ("" when every variable and coordinate is equal, NaN == NaN)."""
    if sorted(a.variables) != sorted(b.variables):
        return f"variables {sorted(a.variables)} != {sorted(b.variables)}"
    for name in a.variables:
        x, y = a[name].values, b[name].values
        if x.shape != y.shape:
            return f"{name}: shape {x.shape} != {y.shape}"
        if x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True):
                return f"{name}: values differ"
        elif not np.array_equal(x, y):
            return f"{name}: values differ"
    return ""


def run_case(case: Mutant, clean_cache: dict) -> dict:
    from geopipe.errors import InputError

    out = {"name": case.name, "source": case.source, "path": case.path,
           "expected": "accepted" if case.accepted else "refused"}
    try:
        ds = read(case.source, case.path)
    except InputError as exc:
        message = str(exc)
        out.update(outcome="refused", message=message,
                   ok=bool(case.reasons) and message.startswith(case.path)
                   and any(r in message for r in case.reasons) and "\n" not in message)
        return out
    except Exception as exc:  # not an InputError: a raw failure the user would see as a traceback
        out.update(outcome="crashed", message=f"{type(exc).__name__}: {exc}"[:500], ok=False)
        return out
    if case.clean not in clean_cache:
        clean_cache[case.clean] = read(case.source, case.clean)
    diff = same_values(ds, clean_cache[case.clean])
    out.update(outcome="accepted", message=diff, ok=case.accepted and not diff)
    return out


def main(folder: str, out: str) -> None:
    cases = build(folder)
    cache: dict = {}
    with open(out, "w") as fh:
        fh.write(json.dumps({"cases": len(cases)}) + "\n")
        fh.flush()
        for case in cases:
            fh.write(json.dumps(run_case(case, cache)) + "\n")
            fh.flush()


if __name__ == "__main__":
    main(*sys.argv[1:3])
