"""``geopipe labels heuristic``: planted cyclones through the store, the CLI and the skill file."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.cli import main
from geopipe.labels.heuristic import read_tables
from geopipe.geometry import KM_PER_DEG
from tests.labels.conftest import ibtracs_dataset, planted_positions, planted_store

TIMES = pd.date_range("2020-08-01", periods=8, freq="6h")


@pytest.fixture()
def stores(root):
    full = planted_store(TIMES)
    store.append(full.isel(time=slice(0, 6)), str(root / "gfs.zarr"), chunks={"time": 2})
    truth = planted_positions(TIMES)
    tcn = truth[truth["name"] == "tc_north"]
    fixes = [("2020214N16140", t, lat + 100 / KM_PER_DEG, lon) for t, lat, lon in zip(tcn["time"], tcn["lat"], tcn["lon"])]
    fixes += [("2020214N25300", t, 25.0, -60.0) for t in TIMES]  # no low there: a miss
    with warnings.catch_warnings():  # zarr: fixed-width strings have no v3 spec yet
        warnings.simplefilter("ignore")
        store.append(ibtracs_dataset(fixes), str(root / "ibtracs.zarr"), dim="obs")
    return root, full, truth


def pixel(ds, lat, lon):
    return ds.sel(latitude=lat, longitude=lon % 360)


def test_cli_labels_tables_and_skill(stores, capsys):
    root, full, truth = stores
    out = root / "labels" / "heuristic.zarr"
    args = ["labels", "heuristic", "--store", str(root / "gfs.zarr"), "--out", str(out),
            "--tracks", str(root / "ibtracs.zarr"), "--chunk", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "6 times written" in text and "4 tracks (2 tropical, 2 extratropical)" in text
    assert "POD 0.50  FAR 0.50  CSI 0.33" in text
    labels = xr.open_zarr(out, consolidated=False)
    gfs = xr.open_zarr(root / "gfs.zarr", consolidated=False)
    for c in ("time", "latitude", "longitude"):
        np.testing.assert_array_equal(labels[c].values, gfs[c].values)
    mask = labels["mask"]
    assert mask.dtype == np.uint8 and mask.attrs["flag_meanings"] == "none tropical extratropical cyclone"
    for row in truth[truth["time"] <= TIMES[5]].itertuples():
        want = {"tc_north": 1, "tc_south": 1, "et_north": 2, "et_south": 2, "short": 0}[row.name]
        assert int(pixel(mask.sel(time=row.time), row.lat, row.lon)) == want, row
    # tables beside the labels: every node, the kept tracks
    tables = xr.open_zarr(root / "labels" / "heuristic_tracks.zarr", consolidated=False)
    assert tables.sizes["node"] == 6 * 4 + 2 and tables.sizes["track"] == 4
    assert int((tables["track_id"] == -1).sum()) == 2 and set(tables["track_kind"].values) == {1, 2}
    skill = json.loads((root / "labels" / "heuristic_skill.json").read_text())
    assert (skill["hits"], skill["misses"], skill["false_alarms"]) == (1, 1, 1)
    assert skill["matches"][0]["sid"] == "2020214N16140" and skill["matches"][0]["km"] == pytest.approx(100, abs=15)
    assert skill["csi"] == pytest.approx(1 / 3)

    # a re-run adds nothing
    history = labels.attrs["history"]
    assert main(args) == 0
    assert "0 times written, 6 already there" in capsys.readouterr().out
    assert xr.open_zarr(out, consolidated=False).attrs["history"] == history

    # two new steps: only they are detected and written; the tables grow, tc_north's track with them
    store.append(full, str(root / "gfs.zarr"))
    assert main(args) == 0
    assert "2 times written, 6 already there" in capsys.readouterr().out
    nodes, tracks = read_tables(str(root / "labels" / "heuristic_tracks.zarr"))
    assert len(nodes) == 6 * 4 + 2 + 2 and not nodes.duplicated(["time", "lat", "lon"]).any()
    assert sorted(tracks["duration_h"]) == [30.0, 30.0, 30.0, 42.0]
    last = truth[(truth["name"] == "tc_north") & (truth["time"] == TIMES[7])].iloc[0]
    labels = xr.open_zarr(out, consolidated=False)
    assert labels.sizes["time"] == 8 and int(pixel(labels["mask"].sel(time=TIMES[7]), last.lat, last.lon)) == 1


def test_cli_store_without_prmsl_is_a_one_line_error(root, capsys):
    ds = xr.Dataset({"pwat": (("time", "latitude", "longitude"), np.zeros((1, 3, 4)))},
                    coords={"time": [np.datetime64("2020-01-01", "ns")], "latitude": [1.0, 0.0, -1.0],
                            "longitude": [0.0, 1.0, 2.0, 3.0]})
    store.append(ds, str(root / "pw.zarr"))
    assert main(["labels", "heuristic", "--store", str(root / "pw.zarr"), "--out", str(root / "h.zarr")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pw.zarr: has no mean sea-level pressure (prmsl, msl" in err
    assert not (root / "h.zarr").exists()
