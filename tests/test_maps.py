"""geopipe.maps: prediction maps (lat/lon and GOES fixed grid) and the SYM-H forecast plot, offline.

The Catarina case: the real IBTrACS South Atlantic best track, a regional grid whose moist
low follows the track, a tiny model's prediction of it and a labels store; the maps must
show the threshold contour, the truth contour and the coastline, drawn with the network cut.
"""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

from geopipe import maps, store
from geopipe import tracks as tracks_mod
from geopipe.errors import GeopipeError
from geopipe.ingest import ingest
from geopipe.predict import predict_forecasts, predict_grid
from geopipe.sample import real
from tests.test_cartopy_offline import no_network  # noqa: F401  (fixture)
from tests.test_predict import (
    dense_forecaster,
    global_store,
    grid_dataset,
    seg_model_folder,
)

GOES_PROJ = {"long_name": "GOES-R ABI fixed grid projection", "grid_mapping_name": "geostationary",
             "perspective_point_height": 35786023.0, "semi_major_axis": 6378137.0,
             "semi_minor_axis": 6356752.31414, "inverse_flattening": 298.2572221,
             "latitude_of_projection_origin": 0.0, "longitude_of_projection_origin": -75.0,
             "sweep_angle_axis": "x"}


def goes_dataset(times, centre=(27.0, -70.0)) -> xr.Dataset:
    """ABI fixed-grid scene (GOES-East, lon0 -75): x/y scan angles (rad), 2-D lat/lon from the
    geos projection, band-13 brightness temperature with a cold cloud at ``centre``."""
    h = GOES_PROJ["perspective_point_height"]
    x, y = np.round(np.arange(-0.04, 0.06, 0.002), 6), np.round(np.arange(0.12, 0.04, -0.002), 6)
    geos = pyproj.CRS.from_dict({"proj": "geos", "h": h, "a": GOES_PROJ["semi_major_axis"],
                                 "b": GOES_PROJ["semi_minor_axis"], "lon_0": -75.0, "sweep": "x"})
    lon, lat = pyproj.Transformer.from_crs(geos, geos.geodetic_crs, always_xy=True).transform(
        *np.meshgrid(x * h, y * h))
    cold = np.exp(-((lat - centre[0]) ** 2 + (lon - centre[1]) ** 2) / (2 * 2.5 ** 2))
    bt = np.repeat((285 - 70 * cold)[None], len(times), axis=0).astype("f4")
    return xr.Dataset(
        {"CMI_C13": (("time", "y", "x"), bt, {"units": "K", "grid_mapping": "goes_imager_projection"}),
         "goes_imager_projection": ((), np.int32(0), GOES_PROJ)},
        coords={"time": pd.DatetimeIndex(times).values,
                "y": ("y", y, {"units": "rad", "standard_name": "projection_y_coordinate"}),
                "x": ("x", x, {"units": "rad", "standard_name": "projection_x_coordinate"}),
                "latitude": (("y", "x"), lat.astype("f4"), {"units": "degrees_north"}),
                "longitude": (("y", "x"), lon.astype("f4"), {"units": "degrees_east"})})


def colour_pixels(png, hex_colour: str, tol: float = 0.12) -> int:
    img = matplotlib.image.imread(png)[..., :3]
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(img - rgb).max(axis=-1) < tol).sum())


@pytest.fixture(scope="module")
def catarina(tmp_path_factory):
    base = tmp_path_factory.mktemp("catarina")
    tracks = str(base / "ibtracs.zarr")
    ingest("ibtracs", [str(real("ibtracs", "ibtracs.SA.list.v04r00.csv"))], tracks)
    times = pd.date_range("2004-03-26T00", periods=4, freq="6h")
    centres = [tuple(tracks_mod.at(t, tracks=tracks)[["lat", "lon"]].iloc[0]) for t in times]
    lat, lon = np.arange(-10, -45.01, -0.5), np.arange(300, 340.01, 0.5)  # 0..360 like GFS
    grid = str(base / "gfs.zarr")
    store.append(grid_dataset(times, lat, lon, [(a, b % 360) for a, b in centres]), grid)
    pred = str(base / "pred.zarr")
    predict_grid(seg_model_folder(base / "model"), grid, pred)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    boxes = [((np.abs(la - a) <= 3) & (np.abs((lo - b) % 360 - 360 * ((lo - b) % 360 > 180)) <= 3)) for a, b in centres]
    labels = xr.Dataset({"mask": (("time", "latitude", "longitude"), np.array(boxes, "u1"),
                                  {"long_name": "best-track storm region", "flag_values": [0, 1], "flag_meanings": "none storm"})},
                        coords={"time": times, "latitude": lat, "longitude": lon})
    store.append(labels, str(base / "labels.zarr"))
    return {"base": base, "tracks": tracks, "pred": pred, "labels": str(base / "labels.zarr"), "centres": centres}


def test_map_with_tracks_and_labels_is_drawn_offline(no_network, catarina, tmp_path):  # noqa: F811
    png = maps.render_map(catarina["pred"], "2004-03-26T12:00", tmp_path / "map.png",
                          tracks=catarina["tracks"], labels=catarina["labels"])
    bare = maps.render_map(catarina["pred"], "2004-03-26T12:00", tmp_path / "bare.png")
    assert colour_pixels(png, maps.THRESHOLD_COLOUR) > 100          # the predicted contour
    assert colour_pixels(png, maps.TRUTH_COLOUR) > 100              # the truth contour ...
    assert colour_pixels(bare, maps.TRUTH_COLOUR) < 10              # ... only when labels are given
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 500 and img.shape[1] > 900


def test_projection_choice(catarina, tmp_path):
    import cartopy.crs as ccrs

    src, _ = global_store(tmp_path / "g.zarr", n_times=2)
    pred = str(tmp_path / "gp.zarr")
    predict_grid(seg_model_folder(tmp_path / "m"), src, pred)
    ds = store.open_store(pred)
    grid = maps.map_grid(ds)
    assert grid.is_global and grid.x.min() < -170 and grid.x.max() < 180   # rolled to -180..180 for drawing
    assert isinstance(maps.map_axes(grid, "auto")[1].projection, ccrs.Robinson)
    assert isinstance(maps.map_axes(grid, "platecarree")[1].projection, ccrs.PlateCarree)
    regional = maps.map_grid(store.open_store(catarina["pred"]))
    assert not regional.is_global and isinstance(maps.map_axes(regional, "auto")[1].projection, ccrs.PlateCarree)
    for projection in ("robinson", "platecarree"):
        out = maps.render_map(pred, "2011-01-10T06", tmp_path / f"{projection}.png", projection=projection)
        assert colour_pixels(out, maps.THRESHOLD_COLOUR) > 20
    with pytest.raises(GeopipeError, match="no time near 2011-02-01"):
        maps.render_map(pred, "2011-02-01", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_goes_native_grid_map_on_the_geostationary_projection(no_network, tmp_path):  # noqa: F811
    import cartopy.crs as ccrs

    src = str(tmp_path / "goes.zarr")
    store.append(goes_dataset(pd.date_range("2023-01-01T18:00", periods=2, freq="10min")), src)
    model = seg_model_folder(tmp_path / "m", channels=["CMI_C13"], weights={"CMI_C13": -2.0}, bias=0.0,
                             threshold=0.5, label="deep convection",
                             normalization={"channels": ["CMI_C13"], "mean": [270.0], "std": [15.0]})
    pred = str(tmp_path / "pred.zarr")
    predict_grid(model, src, pred)
    grid = maps.map_grid(store.open_store(pred))
    assert grid.geostationary
    ax = maps.map_axes(grid)[1]
    assert isinstance(ax.projection, ccrs.Geostationary)
    assert ax.projection.proj4_params["lon_0"] == -75.0 and ax.projection.proj4_params["sweep"] == "x"
    png = maps.render_map(pred, "2023-01-01T18:10", tmp_path / "goes.png")
    assert colour_pixels(png, maps.THRESHOLD_COLOUR) > 100
    with pytest.raises(GeopipeError, match="geostationary"):
        maps.render_map(pred, "2023-01-01T18:10", tmp_path / "r.png", projection="robinson")


def test_forecast_plot_and_cli(no_network, tmp_path, capsys):  # noqa: F811
    from geopipe.cli import main
    from geopipe.sources.isgi import ISGIReader

    full = ISGIReader().open_dataset(str(real("isgi", "kyoto_asysym_iaga2002", "WWW_aeasy00025746.dat.txt.bz2")))
    src = str(tmp_path / "isgi.zarr")
    store.append(full.sel(time=slice("2017-09-07T22:00", "2017-09-08T04:00"))[["sym_h", "asy_h"]].load(), src)
    fc = str(tmp_path / "fc.zarr")
    predict_forecasts(dense_forecaster(tmp_path / "m", residual=True), src, fc)
    out = tmp_path / "fc.png"
    assert main(["map", "--forecasts", fc, "--start", "2017-09-07T23:00", "--end", "2017-09-08T03:00",
                 "--lead", "60", "--out", str(out)]) == 0
    assert colour_pixels(out, "#d62728") > 100 and colour_pixels(out, "#000000", 0.05) > 100
    assert main(["map", "--forecasts", fc, "--lead", "45", "--out", str(tmp_path / "y.png")]) == 2
    assert "no lead 45 min (it has 10, 30, 60)" in capsys.readouterr().err
