"""Skill of detected tropical-cyclone tracks against best tracks: POD, FAR, CSI.

A detected track and a best-track storm *match* when, at some time of a detected node, the
storm (interpolated between its fixes, and only where a fix lies within ``match_hours``)
lies within ``match_km`` of the node.  Then, over the period of the detected nodes:

* hits: best-track storms matched by at least one detected track;
* misses: best-track storms active at some of the ``times`` inside the grid, matched by none;
* false alarms: detected tracks that match no storm.

POD = hits / (hits + misses); FAR = false alarms / detected tracks;
CSI = hits / (hits + misses + false alarms).  Undefined ratios (0/0) are None (null in JSON).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from geopipe import tracks as _tracks
from geopipe.labels.settings import Settings
from geopipe.geometry import Grid, distance_km


@dataclasses.dataclass(frozen=True)
class SkillParams(Settings):
    section = "skill"
    match_km: float
    match_hours: float


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _inside(pos: pd.DataFrame, lat, lon) -> np.ndarray:
    """Rows of ``pos`` inside the grid of axes ``lat``, ``lon`` (all of them on a global grid)."""
    if lat is None or lon is None:
        return np.ones(len(pos), bool)
    grid = Grid(lat, lon)
    half_lat = abs(grid.dlat) / 2
    ok = (pos["lat"] >= grid.lat.min() - half_lat) & (pos["lat"] <= grid.lat.max() + half_lat)
    if not grid.periodic:
        col = grid.col(pos["lon"].to_numpy())
        ok &= (col >= -0.5) & (col <= grid.nx - 0.5)
    return ok.to_numpy()


def skill(detected: pd.DataFrame, ibtracs, times=None, params: SkillParams | dict | None = None,
          lat=None, lon=None) -> dict:
    """Scores of ``detected`` nodes (columns ``track, time, lat, lon``; only the tracks to be
    scored, e.g. the tropical ones) against the best tracks ``ibtracs`` (a track table).

    ``times``: the grid times the reference storms are counted over (default: the detected
    nodes' times); ``lat``/``lon``: the grid's axes, so storms outside a regional grid are not
    counted as misses.  Returns a dict of counts, the three scores and the matched pairs.
    """
    p = SkillParams.load(params)
    window = pd.Timedelta(hours=p.match_hours)
    times = pd.DatetimeIndex(detected["time"].unique() if times is None else np.asarray(times))
    table = _tracks.load(ibtracs)  # the one best-track table (spurs dropped)
    ref = _tracks.positions(times, table, window=window)
    ref = ref[_inside(ref, lat, lon)]
    node_times = pd.DatetimeIndex(detected["time"].unique())
    at_nodes = _tracks.positions(node_times, table, window=window)[["time", "sid", "lat", "lon"]]
    pairs = detected[["track", "time", "lat", "lon"]].merge(at_nodes, on="time", suffixes=("", "_ref"))
    if len(pairs):
        pairs["km"] = distance_km(pairs["lat"].to_numpy(), pairs["lon"].to_numpy(),
                                  pairs["lat_ref"].to_numpy(), pairs["lon_ref"].to_numpy())
        pairs = pairs[pairs["km"] <= p.match_km]
    matched = pairs.groupby(["track", "sid"])["km"].min().reset_index() if len(pairs) else \
        pd.DataFrame({"track": [], "sid": [], "km": []})
    storms = set(ref["sid"]) | set(matched["sid"])
    tracks = set(detected["track"].unique())
    hits = len(set(matched["sid"]))
    misses = len(storms - set(matched["sid"]))
    false_alarms = len(tracks - set(matched["track"]))
    return {
        "match_km": p.match_km, "match_hours": p.match_hours,
        "detected_tracks": len(tracks), "best_track_storms": len(storms),
        "hits": hits, "misses": misses, "false_alarms": false_alarms,
        "pod": _ratio(hits, hits + misses), "far": _ratio(false_alarms, len(tracks)),
        "csi": _ratio(hits, hits + misses + false_alarms),
        "matches": [{"track": int(r.track), "sid": str(r.sid), "km": round(float(r.km), 1)} for r in matched.itertuples()],
        "missed": sorted(storms - set(matched["sid"])),
    }
