"""POD, FAR and CSI of detected tropical tracks against best tracks, computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from geopipe.labels.skill import SkillParams, skill
from geopipe.geometry import KM_PER_DEG


def track(track_id, lat0, lon0, dlon, times):
    return pd.DataFrame({"track": track_id, "time": times, "lat": lat0,
                         "lon": [((lon0 + dlon * k) + 180) % 360 - 180 for k in range(len(times))]})


def fixes(sid, lat0, lon0, dlon, times):
    return pd.DataFrame({"sid": sid, "time": times, "lat": lat0,
                         "lon": [((lon0 + dlon * k) + 180) % 360 - 180 for k in range(len(times))]})


TIMES = pd.date_range("2021-02-01", periods=5, freq="6h")


def test_hits_misses_and_false_alarms_by_hand():
    km = KM_PER_DEG  # one degree of latitude
    detected = pd.concat([
        track(0, 10.0, 179.0, 1.0, TIMES),                  # crosses the dateline with storm X
        track(1, -20.0, 60.0, 0.5, TIMES),                  # 310 km from storm Y: a false alarm
    ], ignore_index=True)
    best = pd.concat([
        fixes("X", 10.0 + 290 / km, 179.0, 1.0, TIMES),     # 290 km north of track 0: a hit
        fixes("Y", -20.0 + 310 / km, 60.0, 0.5, TIMES),     # never within 300 km: missed
        fixes("Z", 40.0, -40.0, 0.0, TIMES + pd.Timedelta("7h")),  # no detection near it: missed
    ], ignore_index=True)
    s = skill(detected, best, times=TIMES)
    # Z's fixes are 7 h after the grid times, but 06:00 is 1 h from its 07:00 fix: it counts
    assert (s["hits"], s["misses"], s["false_alarms"]) == (1, 2, 1)
    assert s["pod"] == pytest.approx(1 / 3) and s["far"] == pytest.approx(1 / 2) and s["csi"] == pytest.approx(1 / 4)
    assert s["matches"] == [{"track": 0, "sid": "X", "km": pytest.approx(290, abs=0.5)}]
    assert s["missed"] == ["Y", "Z"]
    # a wider match radius turns the false alarm into a hit
    wide = skill(detected, best, times=TIMES, params={"match_km": 320.0})
    assert (wide["hits"], wide["misses"], wide["false_alarms"]) == (2, 1, 0) and wide["far"] == 0


def test_time_window_and_regional_grids():
    detected = track(0, 15.0, -60.0, 0.0, TIMES[:1])
    late = fixes("L", 15.0, -60.0, 0.0, TIMES[:1] + pd.Timedelta("7h"))
    s = skill(detected, late, times=TIMES[:1])
    # 7 h away from any fix: the storm is not there to match, nor counted as missed
    assert (s["hits"], s["misses"], s["false_alarms"]) == (0, 0, 1) and s["pod"] is None
    close = fixes("C", 15.0, -60.0, 0.0, TIMES[:1] + pd.Timedelta("5h"))
    assert skill(detected, close, times=TIMES[:1])["hits"] == 1
    # a storm outside a regional grid is no miss
    far_away = fixes("F", -30.0, 100.0, 0.0, TIMES[:1])
    lat = [40.0 - k for k in range(41)]
    lon = [260.0 + k for k in range(60)]
    s = skill(detected, pd.concat([close, far_away]), times=TIMES[:1], lat=lat, lon=lon)
    assert (s["hits"], s["misses"]) == (1, 0)
    assert SkillParams.load().match_km == 300.0 and SkillParams.load().match_hours == 6.0
