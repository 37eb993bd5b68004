"""World Data Centre fixed-width index formats: Kyoto ASY/SYM and Dst, GFZ Kp.

All three are fixed-column text and are sliced by column, never split on spaces: values
touch (``-046-038``).  Each parser returns a float64 DataFrame indexed by a ``time``
``DatetimeIndex`` (naive UTC) and raises ``InputError(path, problem, line)`` on a bad record.

ASY/SYM (Kyoto, one record per hour, index and component; 400 bytes, newline optional)::

    cols 1-12 'ASYSYM N6E01'  13-18 YYMMDD  19 component D|H  20-21 hour UT
    22-24 'ASY'|'SYM'  25-34 'WDCC2KYOTO'  35-394 sixty I6 minute values  395-400 hourly mean
    -> columns asy_d, asy_h, sym_d, sym_h at every minute; 99999 = missing

Dst (Kyoto, one 120-byte line per day)::

    cols 1-3 'DST'  4-5 YY  6-7 month  8 '*'  9-10 day  14 version  15-16 century (blank: 19)
    17-20 base value (100 nT)  21-116 twenty-four I4 hourly values  117-120 daily mean
    -> column dst at hh:00 for the UT hour hh..hh+1 (value + 100 * base); 9999 = missing

Kp (GFZ WDC, one line per day after ``#`` comment lines)::

    cols 1-2 YY  3-4 month  5-6 day  7-10 Bartels rotation  11-12 day in rotation
    13-28 eight I2 Kp in thirds (``17`` = 2- = 1.667)  29-31 sum  32-55 eight I3 ap ...
    -> column kp at the start of each 3-hour interval (00, 03, ..., 21 UT)

Two-digit years: ASY/SYM start in 1981 (YY >= 81 -> 19YY), Kp in 1932 (YY >= 32 -> 19YY);
Dst uses its century columns, and YY >= 57 -> 19YY when they are blank.
"""

from __future__ import annotations

import numpy as np

from geopipe.errors import InputError
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

ASYSYM_LABEL = b"ASYSYM N6E01"
ASYSYM_CENTRE = b"WDCC2KYOTO"
RECORD = 400


def _ints(path: str, block: np.ndarray, lines: np.ndarray, what: str, blank=np.nan) -> np.ndarray:
    """Fixed-width integer fields -> float64. ``block`` is (n, k, width) bytes; blank -> ``blank``."""
    n, k, width = block.shape
    text = np.ascontiguousarray(block).view(f"S{width}").reshape(n, k)
    stripped = np.char.strip(text)
    empty = stripped == b""
    try:
        out = np.where(empty, b"0", stripped).astype(np.float64)
    except ValueError:
        for i in range(n):  # error path only: find the record to name
            for j in range(k):
                try:
                    float(stripped[i, j] or b"0")
                except ValueError:
                    raise InputError(path, f"{what} field {j + 1} is not a number: {stripped[i, j].decode(errors='replace')!r}",
                                     line=int(lines[i])) from None
        raise
    out[empty] = blank
    return out


def _fixed(path: str, raw: bytes, width: int, comment: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lines of ``raw`` padded to ``width`` bytes as an (n, width) uint8 array, with their line numbers."""
    lines = raw.replace(b"\r", b"").split(b"\n")
    keep = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not (comment and ln.startswith(comment))]
    if not keep:
        raise InputError(path, "no data records")
    nums = np.asarray([i for i, _ in keep], dtype=np.int64)
    for i, ln in keep:
        if len(ln) > width:
            raise InputError(path, f"record is {len(ln)} characters long, the format has {width}", line=i)
    buf = b"".join(ln.ljust(width) for _, ln in keep)
    return np.frombuffer(buf, dtype=np.uint8).reshape(len(keep), width), nums


def _dates(path: str, year: np.ndarray, month: np.ndarray, day: np.ndarray, lines: np.ndarray) -> pd.DatetimeIndex:
    frame = pd.DataFrame({"year": year, "month": month, "day": day})
    dates = pd.to_datetime(frame, errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        i = bad[0]
        raise InputError(path, f"bad date {int(year[i])}-{int(month[i])}-{int(day[i])}", line=int(lines[i]))
    return pd.DatetimeIndex(dates)


def _column(records: np.ndarray, a: int, b: int) -> np.ndarray:
    """1-based inclusive columns a..b of every record, as a bytes array."""
    return np.ascontiguousarray(records[:, a - 1:b]).view(f"S{b - a + 1}").ravel()


def _check_unique(path: str, keys: pd.Index, lines: np.ndarray, what: str) -> None:
    dup = np.flatnonzero(keys.duplicated())
    if len(dup):
        raise InputError(path, f"repeats the {what} {keys[dup[0]]}", line=int(lines[dup[0]]))


def read_asysym(path: str, raw: bytes) -> pd.DataFrame:
    """Kyoto WDC ASY/SYM records -> minute DataFrame with asy_d, asy_h, sym_d, sym_h (nT)."""
    if b"\n" in raw.strip():
        records, lines = _fixed(path, raw, RECORD)
    else:  # records written back to back
        body = raw.strip(b"\r\n")
        if len(body) % RECORD:
            raise InputError(path, f"{len(body)} bytes is not a whole number of {RECORD}-byte records")
        records = np.frombuffer(body, dtype=np.uint8).reshape(-1, RECORD)
        lines = np.arange(1, len(records) + 1)
    label, centre = _column(records, 1, 12), _column(records, 25, 34)
    comp, index = _column(records, 19, 19), _column(records, 22, 24)
    ok = (label == ASYSYM_LABEL) & (centre == ASYSYM_CENTRE) & np.isin(comp, [b"D", b"H"]) & np.isin(index, [b"ASY", b"SYM"])
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = bad[0]
        raise InputError(path, f"not a WDC ASY/SYM record: {records[i, :34].tobytes().decode(errors='replace')!r}",
                         line=int(lines[i]))
    head = _ints(path, records[:, 12:18].reshape(-1, 3, 2), lines, "date")
    hour = _ints(path, records[:, 19:21].reshape(-1, 1, 2), lines, "hour")[:, 0]
    if np.isnan(head).any() or np.isnan(hour).any() or (hour > 23).any():
        i = int(np.flatnonzero(np.isnan(head).any(axis=1) | np.isnan(hour) | (hour > 23))[0])
        raise InputError(path, "blank or bad date/hour field", line=int(lines[i]))
    yy = head[:, 0]
    year = np.where(yy >= 81, 1900 + yy, 2000 + yy)
    start = _dates(path, year, head[:, 1], head[:, 2], lines) + pd.to_timedelta(hour, unit="h")
    names = pd.Index([f"{i.decode().lower()}_{c.decode().lower()}" for i, c in zip(index, comp)])
    _check_unique(path, pd.MultiIndex.from_arrays([start, names]), lines, "record (hour, index, component)")
    values = _ints(path, records[:, 34:394].reshape(-1, 60, 6), lines, "minute value")
    values[values == 99999] = np.nan
    minutes = pd.to_timedelta(np.arange(60), unit="min")
    long = pd.DataFrame({"time": np.repeat(start.values, 60) + np.tile(minutes.values, len(start)),
                         "name": np.repeat(names.values, 60), "value": values.ravel()})
    table = long.pivot(index="time", columns="name", values="value")
    table = table.reindex(columns=["asy_d", "asy_h", "sym_d", "sym_h"])
    table.index.name = "time"
    table.columns.name = None
    return table


def read_dst(path: str, raw: bytes) -> pd.DataFrame:
    """Kyoto WDC hourly Dst -> DataFrame with ``dst`` (nT) at hh:00."""
    records, lines = _fixed(path, raw, 120)
    bad = np.flatnonzero((_column(records, 1, 3) != b"DST") | (_column(records, 8, 8) != b"*"))
    if len(bad):
        raise InputError(path, f"not a WDC Dst record: {records[bad[0], :20].tobytes().decode(errors='replace')!r}",
                         line=int(lines[bad[0]]))
    date = _ints(path, np.stack([records[:, 3:5], records[:, 5:7], records[:, 8:10], records[:, 14:16]], axis=1),
                 lines, "date")
    if np.isnan(date[:, :3]).any():
        raise InputError(path, "blank date field", line=int(lines[np.flatnonzero(np.isnan(date[:, :3]).any(axis=1))[0]]))
    yy, century = date[:, 0], date[:, 3]
    year = np.where(np.isnan(century), np.where(yy >= 57, 1900, 2000), century * 100) + yy
    days = _dates(path, year, date[:, 1], date[:, 2], lines)
    _check_unique(path, pd.Index(days), lines, "day")
    base = _ints(path, records[:, 16:20].reshape(-1, 1, 4), lines, "base", blank=0.0)
    hourly = _ints(path, records[:, 20:116].reshape(-1, 24, 4), lines, "hourly value")
    hourly[hourly == 9999] = np.nan
    hourly = hourly + 100.0 * base
    times = np.repeat(days.values, 24) + np.tile(pd.to_timedelta(np.arange(24), unit="h").values, len(days))
    return pd.DataFrame({"dst": hourly.ravel()}, index=pd.DatetimeIndex(times, name="time")).sort_index()


def read_kp(path: str, raw: bytes) -> pd.DataFrame:
    """GFZ WDC Kp -> DataFrame with ``kp`` (0-9, thirds) at 00, 03, ..., 21 UT."""
    records, lines = _fixed(path, raw, max(62, max(len(x) for x in raw.split(b"\n"))), comment=b"#")
    date = _ints(path, records[:, 0:6].reshape(-1, 3, 2), lines, "date")
    if np.isnan(date).any():
        raise InputError(path, "blank date field", line=int(lines[np.flatnonzero(np.isnan(date).any(axis=1))[0]]))
    yy = date[:, 0]
    year = np.where(yy >= 32, 1900 + yy, 2000 + yy)
    days = _dates(path, year, date[:, 1], date[:, 2], lines)
    _check_unique(path, pd.Index(days), lines, "day")
    code = _ints(path, records[:, 12:28].reshape(-1, 8, 2), lines, "Kp")
    thirds = np.isnan(code) | np.isin(code % 10, (0, 3, 7)) & (code <= 90)
    bad = np.flatnonzero(~thirds.all(axis=1))
    if len(bad):
        raise InputError(path, "Kp field is not a WDC thirds code (x0, x3 or x7, at most 90)", line=int(lines[bad[0]]))
    kp = np.round(code * 0.3) / 3.0  # 17 -> 5 thirds -> 1.667 (2-); blanks stay NaN
    times = np.repeat(days.values, 8) + np.tile(pd.to_timedelta(np.arange(0, 24, 3), unit="h").values, len(days))
    return pd.DataFrame({"kp": kp.ravel()}, index=pd.DatetimeIndex(times, name="time")).sort_index()


def looks_like(raw: bytes) -> str | None:
    """``"asysym"``, ``"dst"`` or ``"kp"`` when ``raw`` starts like that WDC format, else None."""
    head = raw.lstrip(b"\r\n")[:RECORD]
    if head.startswith(b"ASYSYM"):
        return "asysym"
    if head.startswith(b"DST") and head[7:8] == b"*":
        return "dst"
    first = next((ln for ln in raw[:4096].split(b"\n") if ln.strip() and not ln.startswith(b"#")), b"")
    comments = b"\n".join(ln for ln in raw[:4096].split(b"\n") if ln.startswith(b"#")).lower()
    if len(first) >= 55 and first[:28].replace(b" ", b"").isdigit() and (b"kp" in comments or not comments):
        return "kp"
    return None
