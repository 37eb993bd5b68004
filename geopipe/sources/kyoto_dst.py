"""WDC Kyoto's monthly hourly-Dst web page (``dst_final|dst_provisional|dst_realtime/YYYYMM/index.html``).

The page holds the month as preformatted text after the title ``Hourly Equatorial Dst
Values``: a line with the month and year (``MARCH   2003``), then one row per day, the day
number followed by up to 24 hourly values in I4 fields (three groups of eight).  Values fill
their fields, so neighbours can touch (``-159`` then ``9999`` reads ``-1599999``): a token longer
than a field is cut into 4-character fields from the right (every field after the first in such
a run is full; pyspedas' ``kyoto/load_dst.py`` handles the same case).  9999 is
missing; a realtime page stops at the current hour (the rest of the row is absent -> NaN).

Kyoto's hour ``1`` is 00-01 UT: it is stored at hh:00 = 00:00, like the WDC-format reader
(:func:`geopipe.sources.wdc.read_dst`).
"""

from __future__ import annotations

import re

from geopipe.errors import InputError
from geopipe.lazy import lazy_import

np = lazy_import("numpy")
pd = lazy_import("pandas")

TITLE = b"Hourly Equatorial Dst Values"
_MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
           "NOVEMBER", "DECEMBER")
_MONTH_LINE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
_ROW = re.compile(r"^\s*(\d{1,2})\s+(\S.*)$")
_NUMBER = re.compile(r"[-+]?\d+")
VERSIONS = ("final", "provisional", "realtime")


def looks_like(raw: bytes) -> bool:
    return TITLE.lower() in raw[:20000].lower()


def _fields(text: str) -> list[float]:
    out = []
    for token in _NUMBER.findall(text):
        # touching I4 fields: every field but the first is full (4 characters), so cut from the right
        pieces = []
        while len(token) > 4:
            pieces.append(token[-4:])
            token = token[:-4]
        out.extend(float(x) for x in [token, *reversed(pieces)])
    return out


def read(path: str, raw: bytes) -> pd.DataFrame:
    """The page -> DataFrame with ``dst`` (nT) at hh:00 of each hour it has; 9999 -> NaN."""
    text = raw.decode("latin-1")
    start = text.lower().find(TITLE.decode().lower())
    if start < 0:
        raise InputError(path, "not a Kyoto Dst page: no 'Hourly Equatorial Dst Values' title")
    lines = text[start:].splitlines()
    month = next(((i, m) for i, ln in enumerate(lines[:8]) if (m := _MONTH_LINE.search(ln))), None)
    if month is None:
        raise InputError(path, "Kyoto Dst page without its month and year line (e.g. 'MARCH   2003')")
    first, m = month
    year, mon = int(m[2]), _MONTHS.index(m[1].upper()) + 1
    times, values = [], []
    for i, line in enumerate(lines[first + 1:], first + 1):
        body = re.sub(r"<[^>]*>", "", line)
        if "</pre" in line.lower() or (times and not body.strip()):
            break
        row = _ROW.match(body)
        if not row or not body.strip()[0].isdigit():
            continue
        day = int(row[1])
        hourly = _fields(row[2])
        if len(hourly) > 24:
            raise InputError(path, f"day {day} has {len(hourly)} hourly values, a day has 24")
        try:
            base = pd.Timestamp(year=year, month=mon, day=day)
        except ValueError:
            raise InputError(path, f"day {day} is not a day of {year}-{mon:02d}") from None
        times.extend(base + pd.Timedelta(hours=h) for h in range(len(hourly)))
        values.extend(hourly)
    if not times:
        raise InputError(path, "Kyoto Dst page without day rows")
    dst = np.asarray(values, dtype="f8")
    dst[dst == 9999] = np.nan
    index = pd.DatetimeIndex(times, name="time")
    if not index.is_unique:
        raise InputError(path, f"repeats the hour {index[index.duplicated()][0]}")
    return pd.DataFrame({"dst": dst}, index=index).sort_index()
