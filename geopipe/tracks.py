"""Where the tropical cyclones were: best-track positions at any time, interpolated between fixes.

Reads the ``ibtracs`` store (:mod:`geopipe.sources.ibtracs`).  A storm is *active* at ``t``
when ``first fix - window <= t <= last fix + window``:

* between two fixes, latitude, longitude, wind and pressure are interpolated linearly in
  time; longitude takes the short way round, so a storm crossing the dateline from 179.5
  to -179.5 passes 180, not 0, and the result is wrapped back to [-180, 180)
* within ``window`` before the first fix or after the last one, the end fix is reported
  as it is (no extrapolation of the motion)

``wind`` is ``wmo_wind`` where the WMO agency reported one, else ``usa_wind`` (provisional
tracks have no WMO values); ``pres`` likewise.  ``nature`` is that of the nearer fix.

Load the table once with :func:`load` when asking for many times::

    table = tracks.load()                       # the catalog product under the data root
    df = tracks.positions(grid_times, table)    # one row per (time, active storm)
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import xarray as xr

COLUMNS = ["sid", "name", "basin", "lat", "lon", "wind", "pres", "nature"]


@dataclasses.dataclass
class TrackTable:
    """Fixes sorted by storm then time, as flat numpy arrays (length = number of fixes)."""

    sid: np.ndarray
    name: np.ndarray
    basin: np.ndarray
    nature: np.ndarray
    time: np.ndarray  # datetime64[ns]
    lat: np.ndarray
    lon: np.ndarray
    wind: np.ndarray
    pres: np.ndarray

    def __len__(self) -> int:
        return len(self.sid)


REQUIRED = ["sid", "time", "lat", "lon"]


def load(tracks=None, spurs: bool = False) -> TrackTable:
    """The one best-track table: a :class:`TrackTable` from a Dataset (the ``ibtracs`` store
    layout, dim ``obs``), a store path/URL, a DataFrame (at least ``sid, time, lat, lon``), a
    TrackTable, or None (the catalog product ``ibtracs`` under the data root).

    Fixes without a time or a position are dropped, and one fix is kept per (storm, time).
    ``spurs=False`` (the default, used by the labels, the maps and the skill alike) drops IBTrACS
    *spur* tracks, the alternative branches that would mark or draw a storm twice.
    Raises ``KeyError`` naming a missing column.
    """
    if isinstance(tracks, TrackTable):
        return tracks
    if tracks is None:
        from geopipe.catalog import open_product

        tracks = open_product("ibtracs")
    elif isinstance(tracks, (str, os.PathLike)):
        from geopipe.store import open_store

        tracks = open_store(str(tracks))
    if isinstance(tracks, xr.Dataset):
        have = set(tracks.variables)
        table = pd.DataFrame({k: np.asarray(tracks[k].values) for k in have
                              if k in REQUIRED + ["name", "basin", "nature", "track_type", "wmo_wind", "usa_wind",
                                                  "wmo_pres", "usa_pres"]})
    elif isinstance(tracks, pd.DataFrame):
        table = tracks.copy()
    else:
        raise TypeError(f"tracks must be a Dataset, a DataFrame, a store path or None, not {type(tracks).__name__}")
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise KeyError(f"it has no {', '.join(missing)} column(s)")
    if not spurs and "track_type" in table.columns:
        table = table[~table["track_type"].astype(str).str.lower().str.startswith("spur")]
    n = len(table)
    col = lambda k, fill: table[k].to_numpy() if k in table.columns else np.full(n, fill)  # noqa: E731
    f8 = lambda v: np.asarray(v, dtype="f8")  # noqa: E731
    wind = np.where(np.isnan(f8(col("wmo_wind", np.nan))), f8(col("usa_wind", np.nan)), f8(col("wmo_wind", np.nan)))
    pres = np.where(np.isnan(f8(col("wmo_pres", np.nan))), f8(col("usa_pres", np.nan)), f8(col("wmo_pres", np.nan)))
    flat = pd.DataFrame({"sid": col("sid", "").astype(str), "name": col("name", "").astype(str),
                         "basin": col("basin", "").astype(str), "nature": col("nature", "").astype(str),
                         "time": pd.to_datetime(col("time", np.datetime64("NaT"))), "lat": f8(col("lat", np.nan)),
                         "lon": f8(col("lon", np.nan)), "wind": wind, "pres": pres})
    flat = flat.dropna(subset=["time", "lat", "lon"]).drop_duplicates(["sid", "time"])
    flat = flat.sort_values(["sid", "time"], kind="stable", ignore_index=True)
    return TrackTable(sid=flat["sid"].to_numpy(str), name=flat["name"].to_numpy(str), basin=flat["basin"].to_numpy(str),
                      nature=flat["nature"].to_numpy(str), time=flat["time"].to_numpy("datetime64[ns]"),
                      lat=flat["lat"].to_numpy("f8"), lon=flat["lon"].to_numpy("f8"),
                      wind=flat["wind"].to_numpy("f8"), pres=flat["pres"].to_numpy("f8"))


def _segments(t: TrackTable, window: np.timedelta64):
    """Time intervals, each with the fixes ``a`` and ``b`` to interpolate between.

    Between fixes: [t_a, t_b) with b = a + 1.  At each storm's ends: [t_0 - window, t_0)
    and [t_n, t_n + window] with a = b (hold the end fix).  Returns (lo, hi, a, b, closed).
    """
    n = len(t)
    ns = t.time.astype("int64")
    same = np.zeros(n, dtype=bool)
    same[1:] = t.sid[1:] == t.sid[:-1]
    first = np.flatnonzero(~same)
    last = np.concatenate([first[1:] - 1, [n - 1]]) if n else first
    inner = np.flatnonzero(same)  # fix i and i - 1 belong to one storm
    w = int(window.astype("timedelta64[ns]").astype("int64"))
    lo = np.concatenate([ns[inner - 1], ns[first] - w, ns[last]])
    hi = np.concatenate([ns[inner], ns[first], ns[last] + w])
    a = np.concatenate([inner - 1, first, last])
    b = np.concatenate([inner, first, last])
    closed = np.concatenate([np.zeros(len(inner) + len(first), bool), np.ones(len(last), bool)])
    return lo, hi, a, b, closed


def positions(times, tracks=None, window="3h") -> pd.DataFrame:
    """Storm positions at each of ``times``: one row per (time, active storm).

    ``times``  anything ``pandas.DatetimeIndex`` accepts (naive UTC); ``window`` a
    ``pandas.Timedelta`` string.  Returns columns ``time`` + :data:`COLUMNS`, sorted by time
    then sid (lat/lon in degrees, lon in [-180, 180); wind in knots; pres in hPa).
    """
    t = load(tracks)
    query = pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(times))).as_unit("ns")
    q = np.sort(query.asi8)
    empty = pd.DataFrame({"time": pd.DatetimeIndex([], dtype="datetime64[ns]"),
                          **{c: pd.Series([], dtype=float if c in ("lat", "lon", "wind", "pres") else str) for c in COLUMNS}})
    if not len(t) or not len(q):
        return empty
    lo, hi, a, b, closed = _segments(t, np.timedelta64(pd.Timedelta(window).value, "ns"))
    start = np.searchsorted(q, lo, side="left")
    stop = np.where(closed, np.searchsorted(q, hi, side="right"), np.searchsorted(q, hi, side="left"))
    count = np.maximum(stop - start, 0)
    if not count.sum():
        return empty
    seg = np.repeat(np.arange(len(lo)), count)
    # position of each (segment, query) pair within its run of queries
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    qi = np.repeat(start, count) + offset
    tq = q[qi]
    ia, ib = a[seg], b[seg]
    ta, tb = t.time[ia].astype("int64"), t.time[ib].astype("int64")
    span = (tb - ta).astype("f8")
    frac = np.divide((tq - ta).astype("f8"), span, out=np.zeros(len(tq)), where=span > 0)
    frac = np.clip(frac, 0.0, 1.0)  # hold segments (a == b) and times outside the span
    dlon = (t.lon[ib] - t.lon[ia] + 180.0) % 360.0 - 180.0  # the short way round
    near = np.where(frac <= 0.5, ia, ib)
    out = pd.DataFrame({
        "time": pd.DatetimeIndex(tq.astype("datetime64[ns]")),
        "sid": t.sid[ia], "name": t.name[ia], "basin": t.basin[near],
        "lat": t.lat[ia] + frac * (t.lat[ib] - t.lat[ia]),
        "lon": (t.lon[ia] + frac * dlon + 180.0) % 360.0 - 180.0,
        "wind": t.wind[ia] + frac * (t.wind[ib] - t.wind[ia]),
        "pres": t.pres[ia] + frac * (t.pres[ib] - t.pres[ia]),
        "nature": t.nature[near],
    })
    # a time equal to a fix is in one segment only (half-open intervals), except duplicates
    out = out.drop_duplicates(["time", "sid"]).sort_values(["time", "sid"], kind="stable")
    return out.reset_index(drop=True)


def at(time, window="3h", tracks=None) -> pd.DataFrame:
    """Storms active at ``time``: columns :data:`COLUMNS`, one row per storm (see module doc)."""
    return positions([time], tracks, window=window)[COLUMNS].reset_index(drop=True)
