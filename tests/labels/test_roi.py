"""Best-track masks: boxes and discs at the dateline and the poles, interpolation, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import Geod

from geopipe import store
from geopipe.cli import main
from geopipe import tracks
from geopipe.errors import ParameterError
from geopipe.geometry import EARTH_RADIUS_KM, Grid
from geopipe.labels.roi import box_mask, disc_mask, label_ibtracs, roi_masks
from tests.labels.conftest import grid_dataset, ibtracs_dataset

LAT = np.arange(90.0, -90.5, -1.0)  # GFS order: north to south
LON360 = np.arange(0.0, 360.0, 1.0)
LON180 = np.arange(-180.0, 180.0, 1.0)


def marked(mask, lat, lon) -> set[tuple[float, float]]:
    """The (lat, lon) of the marked pixels, lon in -180..180."""
    i, j = np.nonzero(mask)
    return {(float(lat[a]), float((lon[b] + 180) % 360 - 180)) for a, b in zip(i, j)}


def square(lats, lons) -> set[tuple[float, float]]:
    return {(float(a), float((b + 180) % 360 - 180)) for a in lats for b in lons}


@pytest.mark.parametrize("lon_axis", [LON360, LON180], ids=["0..360", "-180..180"])
@pytest.mark.parametrize("storm_lon", [179.5, -180.5])
def test_box_across_the_dateline_on_both_grid_conventions(lon_axis, storm_lon):
    mask = box_mask(Grid(LAT, lon_axis), [10.0], [storm_lon], 5)
    # by hand: the 5 pixels nearest 179.5 are 178, 179, 180 (= -180), 181 (= -179), 182 (= -178)
    assert marked(mask, LAT, lon_axis) == square([12, 11, 10, 9, 8], [178, 179, -180, -179, -178])
    assert mask.sum() == 25


@pytest.mark.parametrize("lon_axis", [LON360, LON180], ids=["0..360", "-180..180"])
def test_box_at_the_poles_is_clipped_in_latitude_and_wrapped_in_longitude(lon_axis):
    grid = Grid(LAT, lon_axis)
    north = box_mask(grid, [88.0], [10.0], 7)
    assert marked(north, LAT, lon_axis) == square([90, 89, 88, 87, 86, 85], range(7, 14))
    south = box_mask(grid, [-89.0], [1.0], 7)
    assert marked(south, LAT, lon_axis) == square([-86, -87, -88, -89, -90], [358, 359, 0, 1, 2, 3, 4])
    # even sizes take the N pixels nearest the storm: centred between 10 and 11 at 10.5
    even = box_mask(grid, [0.5], [10.5], 4)
    assert marked(even, LAT, lon_axis) == square([2, 1, 0, -1], [9, 10, 11, 12])


def test_box_on_a_regional_grid_is_clipped_not_wrapped():
    lon = np.arange(100.0, 150.0, 1.0)
    mask = box_mask(Grid(LAT, lon), [0.0], [101.0], 5)
    assert marked(mask, LAT, lon) == square([2, 1, 0, -1, -2], [100, 101, 102, 103])


@pytest.mark.parametrize("lon_axis", [LON360, LON180], ids=["0..360", "-180..180"])
@pytest.mark.parametrize("storm", [(10.0, 179.5), (87.0, -20.0), (-60.0, 0.3)])
def test_disc_matches_great_circle_distances_from_pyproj(lon_axis, storm):
    radius = 500.0
    mask = disc_mask(Grid(LAT, lon_axis), [storm[0]], [storm[1]], radius)
    # an independent distance: pyproj's geodesic on a sphere of the same radius
    geod = Geod(a=EARTH_RADIUS_KM * 1000, f=0)
    glon, glat = np.meshgrid(lon_axis, LAT)
    _, _, dist = geod.inv(np.full(glat.size, storm[1]), np.full(glat.size, storm[0]), glon.ravel(), glat.ravel())
    dist = dist.reshape(glat.shape) / 1000
    clear = np.abs(dist - radius) > 0.01  # pixels exactly on the circle may go either way
    np.testing.assert_array_equal(mask[clear], (dist <= radius)[clear])
    assert mask.sum() > 50
    if storm[0] == 87.0:
        assert mask[0].all()  # the whole pole row lies within 333 km


def test_positions_interpolate_in_time_across_the_dateline_within_the_window():
    fixes = pd.DataFrame({"sid": ["A"] * 3 + ["B"] * 2 + ["C"] * 2,
                          "time": pd.to_datetime(["2020-01-01 00:00", "2020-01-01 06:00", "2020-01-01 18:00",
                                                  "2020-01-01 06:00", "2020-01-01 09:00",
                                                  "2020-01-01 12:00", "2020-01-01 12:00"]),
                          "lat": [10.0, 12.0, 15.0, -20.0, -21.0, 30.0, 5.0], "lon": [178.0, -178.0, -175.0, 50.0, 51.0, 9, 0],
                          "track_type": ["main"] * 5 + ["spur-2020001N05000", "main"]})
    times = pd.to_datetime(["2019-12-31 20:00", "2019-12-31 21:00", "2020-01-01 03:00", "2020-01-01 12:00",
                            "2020-01-01 12:01"])
    pos = tracks.positions(times, tracks.load(fixes), "3h")
    a = pos[pos["sid"] == "A"].set_index("time")
    # 3 h before the first fix: within the window, held at the first position; 4 h before: not yet
    assert a.loc["2019-12-31 21:00", ["lat", "lon"]].tolist() == [10.0, 178.0]
    assert pd.Timestamp("2019-12-31 20:00") not in a.index
    # half way from 178E to 178W is the dateline, not Greenwich
    assert a.loc["2020-01-01 03:00", "lat"] == pytest.approx(11.0)
    assert abs(a.loc["2020-01-01 03:00", "lon"]) == pytest.approx(180.0)
    # between fixes 12 h apart the storm is there, a quarter of the way from 06:00 to 18:00
    assert (a.loc["2020-01-01 12:00", "lat"], a.loc["2020-01-01 12:00", "lon"]) == (pytest.approx(13.5), pytest.approx(-176.5))
    b = pos[pos["sid"] == "B"].set_index("time")
    assert list(b.index) == [pd.Timestamp("2020-01-01 03:00"), pd.Timestamp("2020-01-01 12:00")]
    # a spur track (an alternative branch, same sid and time) is not the storm's position
    assert pos.loc[pos["sid"] == "C", ["lat", "lon"]].values.tolist() == [[5.0, 0.0], [5.0, 0.0]]


def test_roi_masks_are_the_same_on_both_longitude_conventions():
    times = pd.date_range("2020-01-01", periods=3, freq="6h")
    fixes = [("S1", "2020-01-01 00:00", 30.0, 179.0), ("S1", "2020-01-01 12:00", 32.0, -177.0),
             ("S2", "2020-01-01 00:00", -70.0, 2.0), ("S2", "2020-01-01 12:00", -75.0, -4.0)]
    tracks = ibtracs_dataset(fixes)
    zeros = np.zeros((3, LAT.size, LON360.size))
    a = roi_masks(grid_dataset(zeros, times, LAT, LON360), tracks, box=9, window="6h").compute()
    b = roi_masks(grid_dataset(zeros, times, LAT, LON180), tracks, box=9, window="6h").compute()
    np.testing.assert_array_equal(a.values, np.roll(b.values, 180, axis=2))
    assert a.dtype == np.uint8 and (a.sum(("latitude", "longitude")) == 2 * 81).all()
    disc = roi_masks(grid_dataset(zeros, times, LAT, LON360), tracks, radius_km=400, window="6h").compute()
    assert (disc.sel(time="2020-01-01 06:00", latitude=31, longitude=180) == 1).all()


@pytest.fixture()
def stores(root):
    import warnings

    times = pd.date_range("2020-01-01", periods=4, freq="6h")
    lat, lon = np.arange(90.0, -90.1, -2.0), np.arange(0.0, 360.0, 2.0)
    rng = np.random.default_rng(5)
    grid = grid_dataset(101000 + rng.normal(0, 100, (4, lat.size, lon.size)), times, lat, lon)
    store.append(grid, str(root / "gfs.zarr"))
    fixes = [("2020001N30179", "2020-01-01 00:00", 30.0, 179.0), ("2020001N30179", "2020-01-01 12:00", 32.0, -177.0),
             ("2020001N30179", "2020-01-01 18:00", 33.0, -175.0), ("2019365S70002", "2019-12-31 18:00", -84.0, 2.0),
             ("2019365S70002", "2020-01-01 06:00", -88.0, -4.0)]
    with warnings.catch_warnings():  # zarr: fixed-width strings have no v3 spec yet
        warnings.simplefilter("ignore")
        store.append(ibtracs_dataset(fixes), str(root / "ibtracs.zarr"), dim="obs")
    return root


def test_cli_writes_aligned_masks_once(stores, capsys):
    args = ["labels", "ibtracs", "--grid-store", str(stores / "gfs.zarr"), "--tracks", str(stores / "ibtracs.zarr"),
            "--out", str(stores / "labels" / "ibtracs.zarr"), "--box", "5", "--window", "6h"]
    assert main(args) == 0
    assert "4 times written" in capsys.readouterr().out
    out = xr.open_zarr(stores / "labels" / "ibtracs.zarr", consolidated=False)
    grid = xr.open_zarr(stores / "gfs.zarr", consolidated=False)
    for c in ("time", "latitude", "longitude"):
        np.testing.assert_array_equal(out[c].values, grid[c].values)
    mask = out["mask"]
    assert mask.dtype == np.uint8
    assert mask.attrs["method"] == "box" and mask.attrs["box_pixels"] == 5 and mask.attrs["window"] == "6h"
    assert mask.attrs["tracks_store"].endswith("ibtracs.zarr")
    # by hand, on the 2 degree grid (window 6 h: 06:00 is 6 h from both of S1's fixes): S1 at 06:00 is half way from (30, 179) to (32, -177), at (31, 181):
    # the 5 rows nearest 31N are 34..26N, the 5 columns nearest 181E are 178..186E.
    # S2 is at its fix (-88, -4): rows -84..-90 (the fifth would be beyond the pole), columns 352..360=0
    lat, lon = grid["latitude"].values, grid["longitude"].values
    s1 = square([34, 32, 30, 28, 26], [178, 180, 182, 184, 186])
    s2 = square([-84, -86, -88, -90], [352, 354, 356, 358, 0])
    assert marked(mask.sel(time="2020-01-01 06:00").values, lat, lon) == s1 | s2
    # at 18:00 S1 is at its fix (33, 185E); S2's last fix is 12 h old, beyond the 6 h window
    assert marked(mask.sel(time="2020-01-01 18:00").values, lat, lon) == square(range(36, 27, -2), range(182, 191, 2))
    history = out.attrs["history"]
    assert main(args) == 0
    assert "0 times written, 4 already there" in capsys.readouterr().out
    assert xr.open_zarr(stores / "labels" / "ibtracs.zarr", consolidated=False).attrs["history"] == history
    # another method into the same store is refused, in one line
    assert main(args[:-4] + ["--radius-km", "300"]) == 2
    assert "made with method=box" in capsys.readouterr().err


def test_cli_bad_tracks_store_is_a_one_line_error(stores, capsys):
    store.append(xr.Dataset({"x": ("obs", np.zeros(2))}, coords={"obs": [0, 1]}), str(stores / "junk.zarr"), dim="obs")
    code = main(["labels", "ibtracs", "--grid-store", str(stores / "gfs.zarr"), "--tracks", str(stores / "junk.zarr"),
                 "--out", str(stores / "l.zarr")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "junk.zarr: not a best-track store" in err
    assert not (stores / "l.zarr").exists()


def test_cli_radius_alone_replaces_the_catalog_box(stores, capsys):
    """``--radius-km 500`` with the catalog's default box: great-circle discs, not an error."""
    out_store = stores / "labels" / "discs.zarr"
    args = ["labels", "ibtracs", "--grid-store", str(stores / "gfs.zarr"), "--tracks", str(stores / "ibtracs.zarr"),
            "--out", str(out_store), "--radius-km", "500", "--window", "6h"]
    assert main(args) == 0
    assert "500 km discs" in capsys.readouterr().out
    mask = xr.open_zarr(out_store, consolidated=False)["mask"]
    assert mask.attrs["method"] == "disc" and mask.attrs["radius_km"] == 500.0 and "box_pixels" not in mask.attrs
    # at 18:00 only S1 is active, at its fix (33N, 185E): the disc is every pixel within 500 km of it
    lat, lon = np.meshgrid(mask["latitude"].values, mask["longitude"].values, indexing="ij")
    _, _, dist_m = Geod(a=EARTH_RADIUS_KM * 1000, b=EARTH_RADIUS_KM * 1000).inv(
        np.full(lat.size, 185.0), np.full(lat.size, 33.0), lon.ravel(), lat.ravel())
    expected = (dist_m.reshape(lat.shape) / 1000 <= 500).astype("u1")
    np.testing.assert_array_equal(mask.sel(time="2020-01-01 18:00").values, expected)


def test_box_and_radius_together_name_both_parameters():
    with pytest.raises(ParameterError) as info:
        label_ibtracs("gfs", "ibtracs", "out", box=5, radius_km=300)
    assert str(info.value) == "box/radius_km: give a box or a radius, not both"
