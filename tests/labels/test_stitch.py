"""Stitching nodes into tracks: the planted cyclones, speed limits, gaps, neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geopipe.labels.detect import detect_nodes
from geopipe.labels.stitch import StitchParams, stitch
from tests.labels.conftest import KIND, planted_positions, planted_store

TIMES = pd.date_range("2020-08-01", periods=6, freq="6h")


def test_planted_cyclones_become_their_own_tracks():
    ds = planted_store(TIMES)
    found = pd.concat([detect_nodes(ds.isel(time=k)) for k in range(len(TIMES))], ignore_index=True)
    nodes, tracks = stitch(found)
    truth = planted_positions(TIMES)
    named = nodes.merge(truth[["name", "time", "lat", "lon"]], on=["time", "lat", "lon"], how="left")
    assert named["name"].notna().all()
    # one track per long-lived cyclone, holding all of its nodes and nobody else's
    per_track = named[named["track"] >= 0].groupby("track")["name"].agg(lambda s: set(s))
    assert sorted(next(iter(v)) for v in per_track) == ["et_north", "et_south", "tc_north", "tc_south"]
    assert all(len(v) == 1 for v in per_track)
    assert (named.groupby("name")["track"].nunique() == 1).all()
    assert (named[named["track"] >= 0].groupby("track").size() == 6).all()
    # the 6-hour low is too short for a track
    assert (named.loc[named["name"] == "short", "track"] == -1).all()
    # track kinds, durations, and the deepest point
    tracks = tracks.set_index("track")
    kinds = {next(iter(per_track[t])): int(tracks.loc[t, "kind"]) for t in per_track.index}
    assert kinds == {k: v for k, v in KIND.items() if k != "short"}
    assert (tracks["duration_h"] == 30).all() and (tracks["n_nodes"] == 6).all()
    assert (tracks["start"] == TIMES[0]).all() and (tracks["end"] == TIMES[-1]).all()
    tc_south = next(t for t in per_track.index if per_track[t] == {"tc_south"})
    south = named[named["track"] == tc_south].sort_values("time")
    assert (south["lon"].iloc[0], south["lon"].iloc[-1]) == (176.0, -174.0)  # across the dateline


def straight(name, lat0, lon0, dlat, dlon, times, kind=2):
    k = np.arange(len(times))
    return pd.DataFrame({"name": name, "time": times, "lat": lat0 + dlat * k,
                         "lon": (lon0 + dlon * k + 180) % 360 - 180, "prmsl": 99000.0, "kind": kind})


def test_the_range_is_fixed_whatever_the_time_step_or_the_gap():
    # TempestExtremes' StitchNodes: a link is within range_deg (6), not a speed
    six = pd.date_range("2020-01-01", periods=6, freq="6h")
    three = pd.date_range("2020-01-01", periods=11, freq="3h")
    params = {"min_duration_h": 0}
    nodes, tracks = stitch(straight("a", 0.0, 10.0, 0.0, 5.0, six), params)
    assert nodes["track"].nunique() == 1 and len(tracks) == 1
    nodes, tracks = stitch(straight("a", 0.0, 10.0, 0.0, 5.0, three), params)
    assert nodes["track"].nunique() == 1  # 5 degrees in 3 h is still within 6
    nodes, tracks = stitch(straight("a", 0.0, 10.0, 0.0, 6.5, six), params)
    assert (nodes["track"] == -1).all() and tracks.empty  # 6.5 degrees a step: no link at all


def test_a_missing_step_is_bridged_within_max_gap_and_range():
    times = pd.date_range("2020-01-01", periods=8, freq="6h")
    track = straight("a", 20.0, 300.0, 0.5, 2.0, times).drop(index=5)  # no node at 06:00 on day 2
    nodes, tracks = stitch(track, times=times)
    assert (nodes["track"] == 0).all() and tracks["duration_h"].tolist() == [42.0]
    # without gaps: a 24 h piece (kept) and a 6 h piece (dropped)
    nodes, tracks = stitch(track, {"max_gap_steps": 0}, times=times)
    assert tracks["duration_h"].tolist() == [24.0]
    assert nodes["track"].tolist() == [0] * 5 + [-1] * 2
    # a faster storm is not bridged: the gap's 7.5 degrees are beyond the fixed 6-degree range
    fast = straight("a", 20.0, 300.0, 0.5, 4.0, times).drop(index=5)
    nodes, tracks = stitch(fast, times=times)
    assert tracks["duration_h"].tolist() == [24.0]


def test_neighbouring_storms_keep_their_identity_and_tropical_tracks_need_two_tropical_nodes():
    times = pd.date_range("2020-01-01", periods=5, freq="6h")
    a = straight("a", 15.0, 140.0, 0.5, -1.5, times, kind=1)
    b = straight("b", 19.0, 141.0, 0.5, -1.5, times, kind=2)  # 4 degrees away, same motion
    b.loc[b.index[:2], "kind"] = 1  # two tropical nodes make b tropical as well
    c = straight("c", 25.0, 160.0, 0.0, 1.0, times, kind=2)
    c.loc[c.index[0], "kind"] = 1  # one tropical node does not
    nodes, tracks = stitch(pd.concat([a, b, c], ignore_index=True))
    assert (nodes.groupby("name")["track"].nunique() == 1).all()
    assert nodes.groupby("track")["name"].nunique().eq(1).all()
    kinds = nodes.groupby("name")["track"].first().map(tracks.set_index("track")["kind"])
    assert kinds.to_dict() == {"a": 1, "b": 1, "c": 2}
    assert StitchParams.load().min_tropical_nodes == 2


def test_no_nodes_no_tracks():
    empty = pd.DataFrame({"time": pd.to_datetime([]), "lat": [], "lon": [], "prmsl": [], "kind": []})
    nodes, tracks = stitch(empty)
    assert nodes.empty and tracks.empty and "track" in nodes.columns
