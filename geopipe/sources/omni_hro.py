"""SPDF's High Resolution OMNI (HRO) ASCII: 1-minute and 5-minute records, fixed width, no header.

Written from SPDF's format description (``pub/data/omni/high_res_omni/hroformat.txt``): every
record is the Fortran format ::

    (2I4,4I3,3I4,2I7,F6.2,I7, 8F8.2,4F8.1,F7.2,F9.0,F6.2,2F7.2,F6.1,6F8.2,7I6,F7.2,F5.1)

46 words at 1 min (``omni_minYYYYMM.asc`` in ``monthly_1min/``, ``omni_minYYYY.asc`` yearly), and
three more ``3F9.2`` (proton flux > 10, > 30, > 60 MeV) at 5 min (``omni_5minYYYY.asc``).  Each
word has the fill value of its format (all nines: 99 for I3, 999 for I4, 999999 for I7, 99.99
for F6.2, 9999.99 for F8.2, 99999.9 for F8.1, 999.99 for F7.2, 9999999. for F9.0, 999.9 for
F6.1, 99999 for I6, 99.9 for F5.1, 99999.99 for F9.2); every fill becomes NaN.  Records are
sliced by column, never split on blanks: neighbouring words may touch (``-1234.5-9999.99``).

:func:`read` returns every word (columns named in :data:`WORDS`); :func:`to_store` keeps the
OMNI store's variables (:mod:`geopipe.sources.omni`).
"""

from __future__ import annotations

from geopipe.errors import InputError
from geopipe.lazy import lazy_import

np = lazy_import("numpy")
pd = lazy_import("pandas")

#: (name, Fortran format) of each word, in record order
WORDS = [
    ("year", "I4"), ("day", "I4"), ("hour", "I3"), ("minute", "I3"), ("imf_sc", "I3"), ("plasma_sc", "I3"),
    ("imf_points", "I4"), ("plasma_points", "I4"), ("percent_interp", "I4"), ("timeshift", "I7"),
    ("rms_timeshift", "I7"), ("rms_phase_front_normal", "F6.2"), ("time_between_obs", "I7"),
    ("b_mag", "F8.2"), ("bx_gse", "F8.2"), ("by_gse", "F8.2"), ("bz_gse", "F8.2"), ("by_gsm", "F8.2"),
    ("bz_gsm", "F8.2"), ("rms_sd_b", "F8.2"), ("rms_sd_field_vector", "F8.2"),
    ("speed", "F8.1"), ("vx_gse", "F8.1"), ("vy_gse", "F8.1"), ("vz_gse", "F8.1"),
    ("proton_density", "F7.2"), ("temperature", "F9.0"), ("pdyn", "F6.2"), ("electric_field", "F7.2"),
    ("plasma_beta", "F7.2"), ("alfven_mach", "F6.1"),
    ("x_sc_gse", "F8.2"), ("y_sc_gse", "F8.2"), ("z_sc_gse", "F8.2"),
    ("bsn_x_gse", "F8.2"), ("bsn_y_gse", "F8.2"), ("bsn_z_gse", "F8.2"),
    ("ae", "I6"), ("al", "I6"), ("au", "I6"), ("sym_d", "I6"), ("sym_h", "I6"), ("asy_d", "I6"), ("asy_h", "I6"),
    ("pc_n", "F7.2"), ("magnetosonic_mach", "F5.1"),
]
FLUX_WORDS = [("proton_flux_10mev", "F9.2"), ("proton_flux_30mev", "F9.2"), ("proton_flux_60mev", "F9.2")]
#: the words the OMNI store keeps
STORE = ("b_mag", "bx_gse", "by_gse", "bz_gse", "by_gsm", "bz_gsm", "speed", "proton_density", "temperature",
         "pdyn", "ae", "sym_h")


def width(fmt: str) -> int:
    return int(fmt[1:].split(".")[0])


def fill(fmt: str) -> float:
    """The all-nines fill value of a format: I4 -> 999, F8.2 -> 9999.99, F9.0 -> 9999999."""
    w = width(fmt)
    if fmt[0] == "I":
        return float("9" * (w - 1))
    decimals = int(fmt.split(".")[1])
    digits = w - 2  # one column for the sign, one for the point (F9.0 writes "9999999.")
    return float("9" * (digits - decimals) + "." + "9" * decimals)


RECORD_1MIN = sum(width(f) for _, f in WORDS)
RECORD_5MIN = RECORD_1MIN + sum(width(f) for _, f in FLUX_WORDS)


def looks_like(raw: bytes) -> bool:
    """A first line of 1-min or 5-min HRO record length starting with a plausible year and day."""
    first = raw.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    if len(first) not in (RECORD_1MIN, RECORD_5MIN):
        return False
    try:
        year, day = int(first[:4]), int(first[4:8])
    except ValueError:
        return False
    return 1963 <= year <= 2200 and 1 <= day <= 366


def read(path: str, raw: bytes) -> pd.DataFrame:
    """Every word of an HRO file -> float64 frame indexed by ``time`` (start of the average); fills NaN."""
    lines = raw.replace(b"\r", b"").split(b"\n")
    rows = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip()]
    if not rows:
        raise InputError(path, "the file has no records")
    size = len(rows[0][1])
    if size not in (RECORD_1MIN, RECORD_5MIN):
        raise InputError(path, f"record of {size} characters: HRO records are {RECORD_1MIN} (1-min) or "
                               f"{RECORD_5MIN} (5-min)", line=rows[0][0])
    bad = next(((i, len(ln)) for i, ln in rows if len(ln) != size), None)
    if bad:
        raise InputError(path, f"record of {bad[1]} characters, the first has {size}", line=bad[0])
    words = WORDS if size == RECORD_1MIN else WORDS + FLUX_WORDS
    block = np.frombuffer(b"".join(ln for _, ln in rows), dtype=np.uint8).reshape(len(rows), size)
    columns, at = {}, 0
    for name, fmt in words:
        w = width(fmt)
        text = np.char.strip(np.ascontiguousarray(block[:, at:at + w]).view(f"S{w}").ravel())
        try:
            values = text.astype(np.float64)
        except ValueError:
            k = next(k for k, t in enumerate(text) if not _is_number(t))
            raise InputError(path, f"{name} (columns {at + 1}-{at + w}) is not a number: {text[k].decode(errors='replace')!r}",
                             line=rows[k][0]) from None
        if name not in ("year", "day", "hour", "minute"):
            values[np.isclose(values, fill(fmt), rtol=0, atol=1e-6)] = np.nan
        columns[name] = values
        at += w
    y, d, h, m = (columns.pop(k) for k in ("year", "day", "hour", "minute"))
    bad = np.flatnonzero((d < 1) | (d > 366) | (h > 23) | (m > 59))
    if len(bad):
        raise InputError(path, "bad day of year, hour or minute", line=rows[int(bad[0])][0])
    jan1 = pd.to_datetime(pd.DataFrame({"year": y, "month": 1, "day": 1}))
    times = pd.DatetimeIndex(jan1 + pd.to_timedelta((d - 1) * 1440 + h * 60 + m, unit="min"), name="time").as_unit("ns")
    dup = np.flatnonzero(np.diff(times.asi8) <= 0)
    if len(dup):
        raise InputError(path, f"record repeats or goes back to {times[int(dup[0]) + 1]}", line=rows[int(dup[0]) + 1][0])
    return pd.DataFrame(columns, index=times)


def to_store(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(STORE)]


def _is_number(text: bytes) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
