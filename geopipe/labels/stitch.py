"""Join nodes into tracks: TempestExtremes' StitchNodes, then a class per track.

:func:`geopipe.labels.tempest.stitch` links every node to the nearest node of the first of the
next ``max_gap_steps + 1`` time steps whose nearest node lies within ``range_deg`` great-circle
degrees (a fixed range, whatever the gap), and follows the links in time order, first come first
served.  Tracks shorter than ``min_duration_h`` are dropped (their nodes get track -1).  Where two
paths share a node (TempestExtremes lets them), the node belongs to the first.

A track is ``tropical`` (kind 1) when at least ``min_tropical_nodes`` of its nodes are, else
``extratropical`` (2) when any node is, else ``cyclone`` (3, unclassified) when any node is, else
``other`` (0).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from geopipe.labels import tempest
from geopipe.labels.detect import CYCLONE, EXTRATROPICAL, OTHER, TROPICAL
from geopipe.labels.settings import Settings

TRACK_COLUMNS = ["track", "kind", "start", "end", "duration_h", "n_nodes", "min_prmsl",
                 "lat_min_prmsl", "lon_min_prmsl", "lat_start", "lon_start"]


@dataclasses.dataclass(frozen=True)
class StitchParams(Settings):
    section = "stitch"
    range_deg: float
    max_gap_steps: int
    min_duration_h: float
    min_tropical_nodes: int


def spec(p: StitchParams) -> tempest.StitchSpec:
    """The TempestExtremes StitchNodes settings of ``p``."""
    return tempest.StitchSpec(range=p.range_deg, mintime=f"{p.min_duration_h:g}h" if p.min_duration_h > 0 else 1,
                              maxgap=int(p.max_gap_steps))


def paths(nodes: pd.DataFrame, p: StitchParams, times=None) -> pd.DataFrame:
    """TempestExtremes' paths of ``nodes``: one row per path node (``track`` then the node's
    columns, plus ``node``, the row of ``nodes`` it is)."""
    return tempest.stitch(nodes.assign(node=np.arange(len(nodes))), spec(p), times)


def stitch(nodes: pd.DataFrame, params: StitchParams | dict | None = None, times=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join ``nodes`` (columns ``time, lat, lon, prmsl, kind`` as :func:`detect_nodes` gives)
    into tracks.  ``times``: every time step detected (a step without nodes still counts as a gap).

    Returns ``(nodes, tracks)``: the nodes sorted by time with a ``track`` column (int, -1 for
    nodes on no kept track), and one row per kept track with columns :data:`TRACK_COLUMNS`
    (times, duration in hours, the deepest PRMSL in Pa and where it was, where it began).
    """
    p = StitchParams.load(params)
    # by time, each time's nodes in the detector's (grid) order, as StitchNodes reads them
    nodes = nodes.sort_values("time", kind="stable", ignore_index=True).copy()
    if not len(nodes):
        nodes["track"] = np.array([], "int32")
        return nodes, pd.DataFrame({c: [] for c in TRACK_COLUMNS})
    path = paths(nodes, p, times)
    first = path.drop_duplicates("node")  # a node two paths share belongs to the first
    track = np.full(len(nodes), -1, "int32")
    track[first["node"].to_numpy()] = first["track"].to_numpy()
    nodes["track"] = track
    return nodes, _summarise(nodes[nodes["track"] >= 0], p)


def _summarise(nodes: pd.DataFrame, p: StitchParams) -> pd.DataFrame:
    if not len(nodes):
        return pd.DataFrame({c: [] for c in TRACK_COLUMNS})
    g = nodes.groupby("track")
    deepest = nodes.loc[g["prmsl"].idxmin()].set_index("track")
    first = nodes.loc[g["time"].idxmin()].set_index("track")
    n_trop = g["kind"].apply(lambda k: int((k == TROPICAL).sum()))
    any_et = g["kind"].apply(lambda k: bool((k == EXTRATROPICAL).any()))
    any_cyc = g["kind"].apply(lambda k: bool((k == CYCLONE).any()))
    kind = np.where(n_trop >= p.min_tropical_nodes, TROPICAL,
                    np.where(any_et, EXTRATROPICAL, np.where(any_cyc, CYCLONE, OTHER)))
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
