"""GFZ Potsdam Kp from its web services: the JSON API and the ``Kp_ap_Ap_SN_F107`` text files.

* JSON (``https://kp.gfz-potsdam.de/app/json/?start=...&end=...&index=Kp``, the service GFZ's
  ``getKpindex`` client and pysatSpaceWeather use): ``{"meta": ..., "datetime": [ISO times],
  "Kp": [values], "status": ["def" | "now", ...]}``; each time is the start of a 3-hour interval.
* Text (``Kp_ap_Ap_SN_F107_nowcast.txt``, ``..._since_1932.txt``): ``#`` comment lines, then one
  line per day ``YYYY MM DD days days_m Bsr dB Kp1 ... Kp8 ap1 ... ap8 Ap SN F10.7obs F10.7adj D``
  with Kp as decimals (2.333 = 2+); -1 marks a value not yet known.

Both give ``kp`` at 00, 03, ..., 21 UT, like the WDC-format reader (:func:`geopipe.sources.wdc.read_kp`).
"""

from __future__ import annotations

import io
import json

from geopipe.errors import InputError
from geopipe.lazy import lazy_import

np = lazy_import("numpy")
pd = lazy_import("pandas")


def looks_like_json(raw: bytes) -> bool:
    head = raw[:2000].lstrip()
    return head.startswith(b"{") and b'"Kp"' in raw[:200000] and b'"datetime"' in raw[:200000]


def looks_like_text(raw: bytes) -> bool:
    return b"Kp1" in raw[:20000] and b"F10.7" in raw[:20000] and raw.lstrip().startswith(b"#")


def read_json(path: str, raw: bytes) -> pd.DataFrame:
    try:
        doc = json.loads(raw)
        times = pd.to_datetime(doc["datetime"], utc=True).tz_convert(None)
        kp = np.asarray(doc["Kp"], dtype="f8")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a GFZ Kp JSON answer ({type(exc).__name__}: {exc})") from None
    if len(times) != len(kp):
        raise InputError(path, f"{len(times)} times but {len(kp)} Kp values")
    kp[kp < 0] = np.nan
    return pd.DataFrame({"kp": kp}, index=pd.DatetimeIndex(times, name="time")).sort_index()


def read_text(path: str, raw: bytes) -> pd.DataFrame:
    try:
        table = np.loadtxt(io.BytesIO(raw), comments="#", ndmin=2)
    except ValueError as exc:
        raise InputError(path, f"not a GFZ Kp_ap_Ap_SN_F107 table ({exc})") from None
    if table.shape[1] < 15:
        raise InputError(path, f"rows have {table.shape[1]} columns, the GFZ table has 28")
    days = pd.to_datetime(pd.DataFrame({"year": table[:, 0], "month": table[:, 1], "day": table[:, 2]}))
    kp = table[:, 7:15].copy()
    kp[kp < 0] = np.nan
    times = np.repeat(days.values, 8) + np.tile(pd.to_timedelta(np.arange(0, 24, 3), unit="h").values, len(days))
    return pd.DataFrame({"kp": kp.ravel()}, index=pd.DatetimeIndex(times, name="time")).sort_index()
