"""Maps a forecaster reads: pressure contours over moisture, detector nodes, a storm's region, GOES scenes.

Fields are the Catarina case of tests/test_maps.py (the real IBTrACS South Atlantic track,
generated GFS-like fields following it) and a GOES-East fixed-grid scene generated there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geopipe import maps, store
from geopipe.errors import GeopipeError
from geopipe.labels.detect import NODE_COLUMNS
from geopipe.labels.heuristic import tables_dataset
from geopipe.labels.stitch import TRACK_COLUMNS
from tests.test_cartopy_offline import no_network  # noqa: F401  (fixture)
from tests.test_maps import catarina, colour_pixels, goes_dataset  # noqa: F401  (fixture)

WHEN = "2004-03-26T12:00"


def _node_tables(path, centres, times) -> str:
    """A heuristic tables store (the detector's format) with one tropical node per time at the low."""
    nodes = pd.DataFrame({c: np.zeros(len(times)) for c in NODE_COLUMNS})
    nodes["time"] = pd.DatetimeIndex(times).values
    nodes["lat"], nodes["lon"] = [c[0] for c in centres], [c[1] % 360 for c in centres]
    nodes["kind"], nodes["track"] = 1, 0
    tracks = pd.DataFrame({c: [0.0] for c in TRACK_COLUMNS})
    tracks["track"], tracks["kind"] = 0, 1
    tracks["start"] = tracks["end"] = pd.Timestamp(times[0])
    store.replace(tables_dataset(nodes, tracks), str(path), dim="node")
    return str(path)


def test_pressure_contours_over_moisture_with_nodes_and_tracks(no_network, catarina, tmp_path):  # noqa: F811
    times = pd.date_range("2004-03-26T00", periods=4, freq="6h")
    nodes = _node_tables(tmp_path / "tracks.zarr", catarina["centres"], times)
    full = maps.render_map(catarina["pred"], WHEN, tmp_path / "full.png", tracks=catarina["tracks"],
                           labels=catarina["labels"], nodes=nodes)
    plain = maps.render_map(catarina["pred"], WHEN, tmp_path / "plain.png", tracks=catarina["tracks"],
                            labels=catarina["labels"], fields=None)
    # the fields come from the store the predictions were made from (its input_store attribute)
    assert colour_pixels(full, maps.PRESSURE_COLOUR, 0.08) > 3 * max(1, colour_pixels(plain, maps.PRESSURE_COLOUR, 0.08))
    assert colour_pixels(full, maps.NODE_COLOURS[1], 0.1) > 30 > colour_pixels(plain, maps.NODE_COLOURS[1], 0.1)
    assert colour_pixels(full, maps.THRESHOLD_COLOUR) > 100 and colour_pixels(full, maps.TRUTH_COLOUR) > 100


def test_regional_extent_around_a_storm(catarina, tmp_path):
    from geopipe import tracks as tracks_mod

    sid = str(tracks_mod.at(pd.Timestamp(WHEN), tracks=catarina["tracks"])["sid"].iloc[0])  # Catarina is NOT_NAMED
    w, e, s, n = maps.storm_extent(catarina["tracks"], sid, pd.Timestamp(WHEN))
    lat, lon = catarina["centres"][2]
    assert (w + e) / 2 == pytest.approx((lon + 180) % 360 - 180, abs=0.5)
    assert (s + n) / 2 == pytest.approx(lat, abs=0.5) and e - w == 2 * maps.STORM_RADIUS
    out = maps.render_map(catarina["pred"], WHEN, tmp_path / "zoom.png", tracks=catarina["tracks"], around=sid,
                          background="pwat")
    assert colour_pixels(out, maps.THRESHOLD_COLOUR) > 100
    with pytest.raises(GeopipeError, match="no storm 'NOBODY' near 2004-03-26 12:00:00 .active then: NOT_NAMED"):
        maps.render_map(catarina["pred"], WHEN, tmp_path / "x.png", tracks=catarina["tracks"], around="NOBODY")
    with pytest.raises(GeopipeError, match="no background field 'absv850'"):
        maps.render_map(catarina["pred"], WHEN, tmp_path / "y.png", background="absv850")


def test_goes_scene_on_its_geostationary_projection(no_network, tmp_path):  # noqa: F811
    src = str(tmp_path / "goes.zarr")
    store.append(goes_dataset(pd.date_range("2023-01-01T18:00", periods=1, freq="10min")), src)
    out = maps.render_goes_scene(src, "2023-01-01T18:00", tmp_path / "scene.png")
    # magma reversed: the cold cloud (215 K) is drawn in the map's palest colour, the warm sea dark
    assert colour_pixels(out, "#fcfdbf", 0.08) > 200 and colour_pixels(out, "#000004", 0.12) > 200
    with pytest.raises(GeopipeError, match="no scene variable 'CMI_C02'"):
        maps.render_goes_scene(src, "2023-01-01T18:00", tmp_path / "x.png", var="CMI_C02")
