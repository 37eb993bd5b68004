"""NOAA SWPC real-time solar wind (``services.swpc.noaa.gov/products/solar-wind/*.json``).

Each product is a JSON array of rows, the first row the column names:

* ``mag-<window>.json``:    ``time_tag, bx_gsm, by_gsm, bz_gsm, lon_gsm, lat_gsm, bt`` (nT, degrees)
* ``plasma-<window>.json``: ``time_tag, density, speed, temperature`` (cm-3, km s-1, K)

``<window>`` is 2-hour, 6-hour, 1-day, 3-day or 7-day; values are strings (or null when
missing) at 1-minute steps, ``time_tag`` UTC ``YYYY-MM-DD hh:mm:ss.sss``.  They become the OMNI
store's variables (``bx_gse`` = Bx GSM, the x axes coincide; ``b_mag`` = Bt).  These are
measurements at L1 (DSCOVR or ACE), not shifted to the bow-shock nose as OMNI is.
"""

from __future__ import annotations

import json

from geopipe.errors import InputError
from geopipe.lazy import lazy_import

np = lazy_import("numpy")
pd = lazy_import("pandas")

NAMES = {"bx_gsm": "bx_gse", "by_gsm": "by_gsm", "bz_gsm": "bz_gsm", "bt": "b_mag",
         "density": "proton_density", "speed": "speed", "temperature": "temperature"}


def looks_like(raw: bytes) -> bool:
    head = raw[:300].lstrip()
    return head.startswith(b"[") and b'"time_tag"' in head


def read(path: str, raw: bytes) -> pd.DataFrame:
    """One SWPC product -> time-indexed float64 frame of OMNI store variables (null -> NaN)."""
    try:
        rows = json.loads(raw)
        header, body = rows[0], rows[1:]
        table = pd.DataFrame(body, columns=header)
    except (ValueError, IndexError, TypeError) as exc:
        raise InputError(path, f"not an SWPC solar-wind JSON product ({exc})") from None
    if "time_tag" not in table:
        raise InputError(path, f"no time_tag column (columns: {', '.join(map(str, header))})")
    known = {c: NAMES[c] for c in table.columns if c in NAMES}
    if not known:
        raise InputError(path, f"no solar-wind variable among {', '.join(map(str, header))}")
    times = pd.to_datetime(table["time_tag"], format="ISO8601", errors="coerce")
    if times.isna().any():
        raise InputError(path, f"bad time_tag {table['time_tag'][times.isna()].iloc[0]!r}")
    values = table[list(known)].apply(pd.to_numeric, errors="coerce").astype("f8").rename(columns=known)
    values.index = pd.DatetimeIndex(times, name="time")
    values = values[~values.index.duplicated(keep="last")].sort_index()
    return values.replace([np.inf, -np.inf], np.nan)
