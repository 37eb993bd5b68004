"""geopipe.explain: gradient x input saliency of a segmentation model.

The model here looks only at channel 0 (pwat), through two 3x3 convolutions: its output at
a pixel depends on pwat within 2 pixels and on nothing else.  The saliency of the predicted
region must therefore lie within 2 pixels of that region and be exactly zero for prmsl.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.ndimage import binary_dilation

from geopipe import store
from geopipe.errors import GeopipeError
from geopipe.explain import explain
from geopipe.saliency_map import render_saliency
from tests.test_cartopy_offline import no_network  # noqa: F401  (fixture)
from tests.test_predict import grid_dataset, save_model_folder

NORM = {"channels": ["pwat", "prmsl"], "mean": [40.0, 101000.0], "std": [10.0, 1000.0]}
REACH = 2  # two 3x3 convolutions: each output pixel sees inputs within 2 pixels


def local_model(path, threshold=0.5):
    """pwat only: p = sigmoid(4 * boxmean3x3(z_pwat) - 2) through two 3x3 convolutions."""
    import keras

    inp = keras.Input((None, None, 2))
    c1 = keras.layers.Conv2D(1, 3, padding="same", name="mean3")(inp)
    c2 = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="head")(c1)
    model = keras.Model(inp, c2)
    k1 = np.zeros((3, 3, 2, 1), "f4")
    k1[:, :, 0, 0] = 1 / 9                     # channel 0 only; prmsl's weights are zero
    k2 = np.zeros((3, 3, 1, 1), "f4")
    k2[1, 1, 0, 0] = 4.0
    model.get_layer("mean3").set_weights([k1, np.zeros(1, "f4")])
    model.get_layer("head").set_weights([k2, np.array([-2.0], "f4")])
    cfg = {"kind": "local", "task": "segmentation", "channels": ["pwat", "prmsl"], "threshold": threshold,
           "label": "tropical_cyclone"}
    return save_model_folder(path, model, cfg, NORM)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    base = tmp_path_factory.mktemp("explain")
    lat, lon = np.arange(-5, -40.01, -1.0), np.arange(140, 190.01, 1.0)   # 36 x 51, crosses 180
    ds = grid_dataset(pd.DatetimeIndex(["2011-01-10T00", "2011-01-10T06"]), lat, lon, [(-20, 165), (-21, 166)], seed=3)
    src = str(base / "gfs.zarr")
    store.append(ds, src)
    return {"base": base, "store": src, "model": local_model(base / "model"), "ds": ds}


def _near(mask: np.ndarray) -> np.ndarray:
    return binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=REACH)


def test_saliency_lies_where_the_model_looks_and_is_zero_for_an_unused_channel(no_network, case, tmp_path):  # noqa: F811
    zarr = str(tmp_path / "saliency.zarr")
    png = render_saliency(case["model"], case["store"], "2011-01-10T06:00", tmp_path / "saliency.png", zarr=zarr)
    assert (tmp_path / "saliency.png").stat().st_size > 20_000 and png.endswith(".png")
    out = xr.open_zarr(zarr, consolidated=False).isel(time=0)
    assert out["saliency"].dims == ("latitude", "longitude")
    assert np.array_equal(out["latitude"].values, case["ds"]["latitude"].values)
    mask = out["probability"].values >= 0.5
    assert 5 < mask.sum() < 200                           # a compact predicted region
    s = out["saliency"].values
    assert np.abs(s[~_near(mask)]).max() == 0.0           # nothing outside the receptive field of R
    assert np.abs(s[mask]).sum() > 0.5 * np.abs(s).sum()  # concentrated on the region itself
    assert np.all(out["saliency_prmsl"].values == 0.0)    # the unused channel
    np.testing.assert_allclose(out["saliency_pwat"].values, s, atol=1e-7)
    assert out["saliency"].attrs["explained"].startswith("predicted mask")


def test_region_box_and_errors(case, tmp_path):
    zarr = str(tmp_path / "box.zarr")
    explain(case["model"], case["store"], "2011-01-10T00", zarr, region=(-25, -15, 160, 170))
    out = xr.open_zarr(zarr, consolidated=False).isel(time=0)
    lat, lon = xr.broadcast(out["latitude"], out["longitude"])
    box = ((lat >= -25) & (lat <= -15) & (lon >= 160) & (lon <= 170)).values
    assert np.abs(out["saliency"].values[~_near(box)]).max() == 0.0
    assert np.abs(out["saliency"].values[box]).sum() > 0
    with pytest.raises(GeopipeError, match="holds no grid point"):
        explain(case["model"], case["store"], "2011-01-10T00", tmp_path / "e.zarr", region=(50, 60, 0, 10))
    with pytest.raises(GeopipeError, match="no time near"):
        render_saliency(case["model"], case["store"], "2012-01-01", tmp_path / "e.png")
    with pytest.raises(GeopipeError, match="expected a .zarr store"):
        explain(case["model"], case["store"], "2011-01-10T00", tmp_path / "e.png")


def test_cli_explain(no_network, case, tmp_path):  # noqa: F811
    from geopipe.cli import main

    out = tmp_path / "cli.png"
    assert main(["explain", "--model", str(case["model"]), "--store", case["store"], "--time", "2011-01-10T00",
                 "--out", str(out), "--region=-30,-10,175,-175"]) == 0
    assert out.exists() and out.stat().st_size > 20_000
