"""Which GOES satellite, which bucket prefixes: GOES-East/West by scan time, hour by hour.

NOAA keeps one open-data bucket per satellite (``noaa-goes16`` ... ``noaa-goes19``), laid out
``PRODUCT/YYYY/DOY/HH/OR_<product>-M<mode>C<band>_G<nn>_s<YYYYDOYHHMMSSt>_...nc``.  ``east`` and
``west`` name whichever satellite held that slot at the scan time, from the operational
periods in ``catalog/sources.yaml`` (``goes.operational``, with NOAA's announcements cited
there).  Every hour of the range is one prefix to list; an hour that lists no file of the
product and bands asked for fails the request, naming the prefix
(:meth:`geopipe.sources.inputs.RemoteInputs.resolve`).
"""

from __future__ import annotations

import re

from geopipe.errors import GeopipeError
from geopipe.sources.inputs import Listing, RemoteInputs
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

SATELLITES = ("east", "west", "goes16", "goes17", "goes18", "goes19")


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return (t.tz_convert(None) if t.tzinfo else t).as_unit("ns")


def satellite_at(name: str, when) -> str:
    """``goes16`` ... ``goes19`` for ``name`` (``east``, ``west`` or a satellite) at scan time ``when``."""
    if name not in SATELLITES:
        raise GeopipeError(f"goes: satellite {name!r}: expected one of {', '.join(SATELLITES)}")
    if name.startswith("goes"):
        return name
    from geopipe.catalog import load

    t = _utc(when)
    periods = getattr(load().source("goes"), "operational", {}).get(name, [])
    for p in periods:
        if pd.Timestamp(p["from"]) <= t and ("until" not in p or t < pd.Timestamp(p["until"])):
            return p["satellite"]
    spans = ", ".join(f"{p['satellite']} from {p['from']}" for p in periods)
    raise GeopipeError(f"goes: no GOES-{name.capitalize()} satellite with an ABI bucket at {t} ({spans})")


def _keep(product: str, bands, start: pd.Timestamp, end: pd.Timestamp, satellite: str):
    from geopipe.sources.goes import parse_name

    wanted = {int(b) for b in bands} if bands else None

    def keep(key: str) -> bool:
        info = parse_name(key)
        return bool(info and info["product"].startswith(product) and info["satellite"] == satellite
                    and (wanted is None or info["band"] in wanted) and start <= info["start"] < end)

    return keep


def remote_inputs(start, end, satellite: str = "east", product: str = "ABI-L2-CMIPF", bands=None,
                  storage_options: dict | None = None) -> RemoteInputs:
    """One bucket prefix per hour of [start, end) (end exclusive), each from the satellite in
    service then; ``product`` a bucket folder (``ABI-L2-CMIPF``) or a mesoscale sector
    (``ABI-L2-CMIPM1`` lists the ``ABI-L2-CMIPM`` folder and keeps M1)."""
    from geopipe.catalog import load

    start, end = _utc(start), _utc(end)
    if end <= start:
        raise GeopipeError(f"the time range [{start}, {end}) is empty: the end must come after the start")
    source = load().source("goes")
    folder = re.sub(r"(M)[12]$", r"\1", product)
    listings = []
    for hour in pd.date_range(start.floor("h"), (end - pd.Timedelta(1, "ns")).floor("h"), freq="h"):
        sat = satellite_at(satellite, max(hour, start))
        entry = source.remote_named(sat)
        options = {**entry.storage_options, **(storage_options or {})}
        listings.append(Listing(entry.url.format(product=folder, time=hour),
                                _keep(product, bands, start, end, sat), options))
    return RemoteInputs("goes", satellite, listings=listings,
                        storage_options=listings[0].storage_options if listings else {})
