"""U-Net builder: any grid size in and out, depth and decoder options, safe-mode round trip."""

from __future__ import annotations

import numpy as np
import pytest

from geopipe.models.io import load_keras_model
from geopipe.models.unet import build_unet


def test_whole_global_grid_goes_in_and_comes_out():
    model = build_unet(3, depth=5, filters=4)
    grid = np.random.default_rng(0).normal(size=(1, 361, 720, 3)).astype("float32")  # 0.5 degree GFS grid
    out = model.predict(grid, verbose=0)
    assert out.shape == (1, 361, 720, 1)
    assert np.all((out >= 0) & (out <= 1))
    # the padding at the bottom/right does not leak into a crop of the same grid: outputs far
    # from the edges do not depend on whether the grid was padded
    crop = model.predict(grid[:, :320, :640], verbose=0)
    np.testing.assert_allclose(crop[0, 64:256, 64:576], out[0, 64:256, 64:576], atol=1e-4)


@pytest.mark.parametrize("depth,upsample", [(4, "transpose"), (6, "bilinear")])
def test_odd_sizes_and_options(depth, upsample):
    model = build_unet(2, depth=depth, filters=4, upsample=upsample, noise=0.1)
    x = np.random.default_rng(1).normal(size=(2, 63, 70, 2)).astype("float32")
    assert model.predict(x, verbose=0).shape == (2, 63, 70, 1)
    # GaussianNoise and dropout act in training only: inference is deterministic
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    pools = [layer for layer in model.layers if layer.name.startswith("pool")]
    assert len(pools) == depth
    with pytest.raises(ValueError):
        build_unet(2, depth=0)


def test_safe_mode_round_trip_gives_identical_predictions(tmp_path):
    model = build_unet(2, depth=4, filters=4)
    x = np.random.default_rng(2).normal(size=(2, 64, 64, 2)).astype("float32")
    model.save(tmp_path / "model.keras")
    again = load_keras_model(tmp_path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    assert again.get_layer("pad").multiple == 16
