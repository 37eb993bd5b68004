"""Fixed-grid projection and resampling onto regular lat/lon grids."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from geopipe import regrid
from geopipe.catalog import Axis, Grid, load
from geopipe.sources.goes import GOESReader

C01 = "OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc"


def _proj(lon0: float) -> dict:
    return {"grid_mapping_name": "geostationary", "perspective_point_height": 35786023.0,
            "semi_major_axis": 6378137.0, "semi_minor_axis": 6356752.31414,
            "longitude_of_projection_origin": lon0, "sweep_angle_axis": "x"}


@pytest.mark.parametrize("lon0", [-89.5, -75.0, -137.0])
def test_sub_satellite_point_and_round_trip(lon0):
    proj = _proj(lon0)
    lon, lat = regrid.scan_to_lonlat(0.0, 0.0, proj)
    assert abs(float(lat)) < 1e-9 and abs(float(lon) - lon0) < 1e-9
    # the limb is at asin(a / (h + a)) = 0.1519 rad east-west, asin(b / (h + a)) = 0.1514 rad north-south
    lon, lat = regrid.scan_to_lonlat(np.array([0.15, 0.153, 0.0, 0.0]), np.array([0.0, 0.0, 0.1505, 0.152]), proj)
    assert np.isfinite(lon[0]) and np.isnan(lon[1]) and np.isfinite(lat[2]) and np.isnan(lat[3])
    assert lat[2] > 75 and lon[0] > lon0 + 60  # near the limb: high latitude / far east
    lons, lats = np.meshgrid(lon0 + np.arange(-60.0, 61.0, 7.5), np.arange(-60.0, 61.0, 7.5))
    x, y = regrid.lonlat_to_scan(lons, lats, proj)
    back_lon, back_lat = regrid.scan_to_lonlat(x, y, proj)
    np.testing.assert_allclose((back_lon - lons + 180.0) % 360.0 - 180.0, 0.0, atol=1e-7)  # -197 is 163
    np.testing.assert_allclose(back_lat, lats, atol=1e-7)
    far_x, far_y = regrid.lonlat_to_scan(lon0 + 180.0, 10.0, proj)  # the far side of the Earth
    assert np.isnan(far_x) and np.isnan(far_y)


def _field(lat, lon):
    """A smooth synthetic field (K) of latitude/longitude in degrees."""
    return 260.0 + 15.0 * np.sin(np.radians(lat) * 6.0) * np.cos(np.radians(lon) * 4.0) + 0.3 * lat


@pytest.fixture(scope="module")
def synthetic_scene(sample_dir):
    """The real C01 Meso-1 fixed grid (every 4th pixel: 4 km), holding _field and flags."""
    ds = GOESReader().open_dataset(str(sample_dir / "goes" / C01)).isel(x=slice(None, None, 4), y=slice(None, None, 4))
    lat, lon = ds.latitude.values.astype("f8"), ds.longitude.values.astype("f8")
    ds["CMI_C01"] = (("time", "y", "x"), _field(lat, lon)[None].astype("f4"), ds.CMI_C01.attrs)
    flags = (np.arange(lat.size).reshape(lat.shape) % 3).astype("f4")
    ds["DQF_C01"] = (("time", "y", "x"), flags[None], ds.DQF_C01.attrs)
    return ds


def _grid(lat0, lat1, lon0, lon1, step):
    return Grid(lat=Axis(start=lat1, stop=lat0, step=-step), lon=Axis(start=lon0, stop=lon1, step=step))


def test_bilinear_and_nearest_reproduce_a_smooth_field(synthetic_scene):
    # wider than the sector (33.5-47.8 N, 110.7-94.4 W): outside it must be NaN, inside all valid
    grid = _grid(30.0, 50.0, -114.0, -90.0, 0.1)
    lat, lon = np.meshgrid(grid.coords()["latitude"], grid.coords()["longitude"], indexing="ij")
    x, y = regrid.lonlat_to_scan(lon, lat, synthetic_scene.goes_imager_projection.attrs)
    sx, sy = synthetic_scene.x.values, synthetic_scene.y.values
    inside = (x > sx.min()) & (x < sx.max()) & (y > sy.min()) & (y < sy.max())
    assert 0.3 < inside.mean() < 0.9
    truth = _field(lat, lon)
    for method, tol in (("bilinear", 0.005), ("nearest", 0.15)):  # 4 km pixels, up to 1.6 K per degree
        out = regrid.to_grid(synthetic_scene, grid, method=method)
        assert out.CMI_C01.dims == ("time", "latitude", "longitude")
        values = out.CMI_C01.values[0]
        assert np.isfinite(values[inside]).all() and np.isnan(values[~inside]).all()
        assert np.abs(values[inside] - truth[inside]).max() < tol, method
        assert set(np.unique(out.DQF_C01.values[0][inside])) == {0.0, 1.0, 2.0}  # flags never blended
        assert "grid_mapping" not in out.CMI_C01.attrs and out.attrs["geopipe_resampling"] == method
    assert float(out.satellite_longitude[0]) == -89.5


def test_nearest_picks_the_nearest_pixel(synthetic_scene):
    grid = _grid(38.0, 42.0, -104.0, -98.0, 0.25)
    out = regrid.to_grid(synthetic_scene, grid, method="nearest").CMI_C01.values[0]
    lat, lon = np.meshgrid(grid.coords()["latitude"], grid.coords()["longitude"], indexing="ij")
    x, y = regrid.lonlat_to_scan(lon, lat, synthetic_scene.goes_imager_projection.attrs)
    ix = np.abs(synthetic_scene.x.values[None, None, :] - x[..., None]).argmin(-1)
    iy = np.abs(synthetic_scene.y.values[None, None, :] - y[..., None]).argmin(-1)
    np.testing.assert_array_equal(out, synthetic_scene.CMI_C01.values[0][iy, ix])


def test_catalog_grid_by_name_and_bad_method(synthetic_scene):
    out = regrid.to_grid(synthetic_scene, "conus_0p1", method="nearest")
    expected = load().grid("conus_0p1").coords()
    np.testing.assert_array_equal(out.latitude.values, expected["latitude"])
    assert out.sizes["longitude"] == len(expected["longitude"]) and out.attrs["geopipe_grid"] == "conus_0p1"
    assert out.latitude.attrs["units"] == "degrees_north"
    assert isinstance(out, xr.Dataset) and "goes_imager_projection" not in out
    with pytest.raises(ValueError, match="unknown resampling method"):
        regrid.to_grid(synthetic_scene, "conus_0p1", method="cubic")
