"""Cyclone nodes: planted vortices found exactly and classified, the real GFS field, masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.geometry import Grid, distance_km
from geopipe.labels.detect import CYCLONE, TROPICAL, DetectParams, detect_nodes, node_mask
from tests.labels.conftest import planted_positions, planted_store

TIMES = pd.date_range("2020-08-01", periods=6, freq="6h")


@pytest.fixture(scope="module")
def planted():
    return planted_store(TIMES)


def nodes_of(ds, params=None) -> pd.DataFrame:
    return pd.concat([detect_nodes(ds.isel(time=k), params) for k in range(ds.sizes["time"])], ignore_index=True)


def as_set(table, with_kind=True):
    cols = ["time", "lat", "lon"] + (["kind"] if with_kind else [])
    return {tuple(r) for r in table[cols].round({"lat": 3, "lon": 3}).itertuples(index=False)}


def test_planted_vortices_are_found_exactly_and_classified(planted):
    nodes = nodes_of(planted)
    truth = planted_positions(TIMES)
    # every planted low at every step, at its own pixel, of its own kind, and nothing else
    assert as_set(nodes) == as_set(truth)
    assert len(nodes) == len(truth)
    trop = nodes[nodes["kind"] == TROPICAL]
    assert (trop["warm_core"] == 1).all() and (trop["vort850"] >= 3.5e-5).all()
    # the depth is the planted one, within the background's spread
    deepest = nodes.loc[nodes["prmsl"].idxmin()]
    assert deepest["lat"] in (15.0, 16.0, 17.0, 18.0, 19.0, 20.0) and deepest["prmsl"] < 98700


def test_without_thickness_nodes_are_unclassified_cyclones_never_tropical(planted):
    bare = planted.drop_vars(["gh300", "gh500"])
    nodes = nodes_of(bare)
    truth = planted_positions(TIMES)
    assert as_set(nodes, with_kind=False) == as_set(truth, with_kind=False)
    assert nodes["warm_core"].isna().all() and nodes["vort850"].notna().all()
    # the cold-cored low at 35N has cyclonic vorticity; vorticity alone cannot tell it from a
    # tropical cyclone, so without a warm-core field every node is "cyclone"
    assert set(nodes["kind"]) == {CYCLONE}
    none = nodes_of(bare.drop_vars("absv850"))
    assert as_set(none, with_kind=False) == as_set(truth, with_kind=False) and set(none["kind"]) == {CYCLONE}


def test_an_era5_named_store_finds_the_same_nodes(planted):
    # msl instead of prmsl, relative vorticity instead of absolute: found by standard_name / name
    f = 2 * 7.2921159e-5 * np.sin(np.deg2rad(planted["latitude"]))
    era5 = planted.rename(prmsl="msl").assign(vo850=planted["absv850"] - f).drop_vars("absv850")
    a, b = nodes_of(planted), nodes_of(era5)
    pd.testing.assert_frame_equal(a, b)


def test_vorticity_must_have_the_hemisphere_sign():
    # the same southern cyclone, spun the wrong way (positive relative vorticity in the south)
    ds = planted_store(TIMES[:1])
    south = ds.isel(time=0)
    f = 2 * 7.2921159e-5 * np.sin(np.deg2rad(south["latitude"]))
    rel = south["absv850"] - f
    glat, glon = xr.broadcast(south["latitude"], south["longitude"])
    near = distance_km(-15.0, 176.0, glat, glon) < 800
    flipped = south.assign(absv850=xr.where(near, -rel, rel) + f)
    nodes = detect_nodes(flipped)
    row = nodes[(nodes["lat"] == -15) & (nodes["lon"] == 176)].iloc[0]
    assert row["kind"] == 0  # a closed low in the tropics without the tropical signature: "other"
    assert row["vort850"] < 3.5e-5
    assert set(nodes["kind"]) == {0, 1, 2}


def test_thresholds_come_from_the_catalog_and_can_be_overridden(planted):
    assert DetectParams.load().contour_dp_pa == 200.0
    deep_only = nodes_of(planted, {"contour_dp_pa": 2000.0})
    assert as_set(deep_only) == as_set(planted_positions(TIMES).query("name in ['tc_north', 'tc_south']"))


def test_a_minus_180_grid_gives_the_same_nodes(planted):
    rolled = planted.roll(longitude=180, roll_coords=True)
    rolled = rolled.assign_coords(longitude=(rolled["longitude"] + 180) % 360 - 180)
    assert rolled["longitude"].values[0] == -180
    a, b = nodes_of(planted), nodes_of(rolled)
    assert as_set(a) == as_set(b)


def test_contour_masks_are_the_region_inside_the_contour(planted):
    step = planted.isel(time=2)
    nodes = detect_nodes(step, {"mask_dp_pa": 1000.0})
    grid = Grid(step["latitude"].values, step["longitude"].values)
    prmsl = step["prmsl"].values.astype("f8")
    mask = node_mask(prmsl, grid, nodes, {"mask_dp_pa": 1000.0})
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1, 2}
    glat, glon = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    for node in nodes.itertuples():
        # by hand: within 5.5 degrees of the node and less than 1000 Pa above it (one blob per node here)
        d = distance_km(node.lat, node.lon, glat, glon) / 111.195
        near = d <= 5.5
        expected = near & (prmsl < node.prmsl + 1000.0)
        np.testing.assert_array_equal(mask[near] == node.kind, expected[near])
        assert expected.sum() >= 5
    # tc_south straddles the dateline on this step: its region lies on both sides
    r = mask[np.abs(grid.lat + 17) <= 1]
    assert r[:, grid.lon == 179].any() and r[:, grid.lon == 181 % 360].any()
    radius = node_mask(prmsl, grid, nodes, {"mask": "radius", "mask_radius_km": 300.0})
    assert radius[np.argmin(np.abs(grid.lat - 17)), np.argmin(np.abs(grid.lon - 136))] == 1


def test_real_gfs_sample_nodes(gfs_sample, sample_dir):
    nodes = detect_nodes(gfs_sample.isel(time=0))
    print("\n" + nodes.to_string())  # the node list, for the record (pytest -s)
    assert 10 <= len(nodes) <= 60
    assert nodes["time"].eq(pd.Timestamp("2011-01-15 12:00")).all()
    assert nodes["prmsl"].between(94000, 103000).all()
    # January: deep lows in the North Pacific and the North Atlantic / Iceland
    npac = nodes[nodes["lat"].between(35, 65) & ((nodes["lon"] > 140) | (nodes["lon"] < -130))]
    natl = nodes[nodes["lat"].between(45, 75) & nodes["lon"].between(-60, 0)]
    assert npac["prmsl"].min() < 98000 and natl["prmsl"].min() < 98000
    assert (npac["kind"] == 2).all() and (natl["kind"] == 2).all()
    # the lows poleward of 50 degrees are extratropical; tropical ones lie in the summer (southern) hemisphere
    assert (nodes.loc[nodes["lat"].abs() > 50, "kind"] == 2).all()
    trop = nodes[nodes["kind"] == TROPICAL]
    assert len(trop) >= 1 and (trop["lat"] < 0).all()
    # cyclone Vania (IBTrACS SP, 2011-01-15 12Z, 26.8S 166.0E): the 5-day forecast has it within 600 km
    ib = xr.open_dataset(sample_dir / "ibtracs" / "IBTrACS.SP.v04r00.nc")
    k = int(np.flatnonzero(ib["sid"].values == b"2011010S17169")[0])  # VANIA (the name recurs)
    times = pd.DatetimeIndex(ib["time"].isel(storm=k).values).round("min")
    j = int(np.flatnonzero(times == pd.Timestamp("2011-01-15 12:00"))[0])
    vlat, vlon = float(ib["lat"].values[k, j]), float(ib["lon"].values[k, j])
    d = distance_km(vlat, vlon, trop["lat"].to_numpy(), trop["lon"].to_numpy())
    assert d.min() < 600
    assert trop.iloc[int(np.argmin(d))]["prmsl"] < 99000
