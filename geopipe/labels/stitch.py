"""Join nodes into tracks, after TempestExtremes StitchNodes.

Time steps are taken in order.  A track that ended at most ``max_gap_steps + 1`` steps ago
may take a node of the new step that lies within ``max_dist_deg_per_6h`` x (elapsed hours
/ 6) great-circle degrees of its last node; pairs are made closest first, each track and
node used once (greedy nearest matching).  Nodes left over start new tracks.  Tracks
shorter than ``min_duration_h`` are then dropped (their nodes get track -1).

A track is ``tropical`` (kind 1) when at least ``min_tropical_nodes`` of its nodes are,
else ``extratropical`` (2) when any node is, else ``other`` (0).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from geopipe.labels.detect import EXTRATROPICAL, OTHER, TROPICAL
from geopipe.labels.settings import Settings
from geopipe.geometry import distance_deg

TRACK_COLUMNS = ["track", "kind", "start", "end", "duration_h", "n_nodes", "min_prmsl",
                 "lat_min_prmsl", "lon_min_prmsl", "lat_start", "lon_start"]


@dataclasses.dataclass(frozen=True)
class StitchParams(Settings):
    section = "stitch"
    max_dist_deg_per_6h: float
    max_gap_steps: int
    min_duration_h: float
    min_tropical_nodes: int


def _link(nodes: pd.DataFrame, p: StitchParams) -> np.ndarray:
    """Track number (0, 1, ...) of each row of ``nodes`` (sorted by time), before the duration filter."""
    times = pd.DatetimeIndex(np.unique(nodes["time"].to_numpy("datetime64[ns]")))
    step = pd.Series(times).diff().median() if len(times) > 1 else pd.Timedelta("6h")
    reach = step * (p.max_gap_steps + 1)
    track = np.full(len(nodes), -1)
    lat, lon = nodes["lat"].to_numpy("f8"), nodes["lon"].to_numpy("f8")
    t_ns = nodes["time"].to_numpy("datetime64[ns]")
    # per track: its last node's row
    last: list[int] = []
    for t in times:
        rows = np.flatnonzero(t_ns == np.datetime64(t, "ns"))
        live = [k for k, r in enumerate(last) if pd.Timestamp(t_ns[r]) >= t - reach]
        if live and len(rows):
            ends = np.array([last[k] for k in live])
            hours = (t - pd.DatetimeIndex(t_ns[ends])) / pd.Timedelta("1h")
            allowed = p.max_dist_deg_per_6h * np.asarray(hours, "f8") / 6.0
            d = distance_deg(lat[ends][:, None], lon[ends][:, None], lat[rows][None, :], lon[rows][None, :])
            ok = d <= allowed[:, None]
            pairs = np.argwhere(ok)
            pairs = pairs[np.argsort(d[ok], kind="stable")]
            used_t, used_n = set(), set()
            for a, b in pairs:
                if a in used_t or b in used_n:
                    continue
                used_t.add(a)
                used_n.add(b)
                k = live[a]
                track[rows[b]] = k
                last[k] = rows[b]
        for r in rows:
            if track[r] < 0:
                track[r] = len(last)
                last.append(r)
    return track


def stitch(nodes: pd.DataFrame, params: StitchParams | dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join ``nodes`` (columns ``time, lat, lon, prmsl, kind`` as :func:`detect_nodes` gives)
    into tracks.

    Returns ``(nodes, tracks)``: the nodes sorted by time with a ``track`` column (int, -1 for
    nodes on no kept track), and one row per kept track with columns :data:`TRACK_COLUMNS`
    (times, duration in hours, the deepest PRMSL in Pa and where it was, where it began).
    """
    p = StitchParams.load(params)
    nodes = nodes.sort_values(["time", "lat", "lon"], ignore_index=True).copy()
    if not len(nodes):
        nodes["track"] = np.array([], "int32")
        return nodes, pd.DataFrame({c: [] for c in TRACK_COLUMNS})
    raw = _link(nodes, p)
    span = pd.DataFrame({"raw": raw, "time": nodes["time"]}).groupby("raw")["time"].agg(["min", "max"])
    hours = (span["max"] - span["min"]) / pd.Timedelta("1h")
    kept = span.index[hours >= p.min_duration_h]
    # number kept tracks 0.. in order of their start
    order = span.loc[kept].sort_values("min").index
    renumber = pd.Series(np.arange(len(order)), index=order)
    nodes["track"] = pd.Series(raw).map(renumber).fillna(-1).astype("int32").to_numpy()
    return nodes, _summarise(nodes[nodes["track"] >= 0], p)


def _summarise(nodes: pd.DataFrame, p: StitchParams) -> pd.DataFrame:
    if not len(nodes):
        return pd.DataFrame({c: [] for c in TRACK_COLUMNS})
    g = nodes.groupby("track")
    deepest = nodes.loc[g["prmsl"].idxmin()].set_index("track")
    first = nodes.loc[g["time"].idxmin()].set_index("track")
    n_trop = g["kind"].apply(lambda k: int((k == TROPICAL).sum()))
    any_et = g["kind"].apply(lambda k: bool((k == EXTRATROPICAL).any()))
    kind = np.where(n_trop >= p.min_tropical_nodes, TROPICAL, np.where(any_et, EXTRATROPICAL, OTHER))
    out = pd.DataFrame({
        "track": g.size().index.astype("int32"),
        "kind": kind.astype("uint8"),
        "start": g["time"].min().to_numpy(),
        "end": g["time"].max().to_numpy(),
        "n_nodes": g.size().to_numpy().astype("int32"),
        "min_prmsl": deepest["prmsl"].to_numpy(),
        "lat_min_prmsl": deepest["lat"].to_numpy(),
        "lon_min_prmsl": deepest["lon"].to_numpy(),
        "lat_start": first["lat"].to_numpy(),
        "lon_start": first["lon"].to_numpy(),
    })
    out["duration_h"] = (out["end"] - out["start"]) / pd.Timedelta("1h")
    return out[TRACK_COLUMNS].reset_index(drop=True)
