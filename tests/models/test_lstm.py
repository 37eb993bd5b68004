"""LSTM builder: multi-horizon head in nT, residual start from persistence, safe-mode round trip."""

from __future__ import annotations

import numpy as np

from geopipe.models.io import load_keras_model
from geopipe.models.lstm import build_lstm
from geopipe.training.keras_fit import make_optimizer

MEAN, STD = -31.7, 25.9  # SYM-H train statistics of the test windows (nT)


def _history(n=5, steps=24, channels=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, steps, channels)).astype("float32")


def test_one_output_per_lead_and_residual_start_is_persistence():
    x = _history()
    model = build_lstm(2, 24, 3, units=(8, 4), target_mean=MEAN, target_std=STD)
    out = model.predict(x, verbose=0)
    assert out.shape == (5, 3)
    last_nT = x[:, -1, 0] * STD + MEAN  # the last observed value, back in nT
    np.testing.assert_allclose(out, np.repeat(last_nT[:, None], 3, axis=1), rtol=1e-6)
    absolute = build_lstm(2, 24, 3, units=(8,), residual=False, target_mean=MEAN, target_std=STD)
    np.testing.assert_allclose(absolute.predict(x, verbose=0), MEAN, rtol=1e-6)  # starts at the train mean
    assert [layer.name for layer in model.layers if "lstm" in layer.name] == ["lstm0", "lstm1"]


def test_safe_mode_round_trip_after_a_training_step(tmp_path):
    x = _history(32)
    y = np.random.default_rng(1).normal(-30, 20, (32, 3)).astype("float32")
    model = build_lstm(2, 24, 3, units=(8,), target_mean=MEAN, target_std=STD)
    model.compile(make_optimizer("rmsprop", 1e-2, clipnorm=1.0), "mse")
    assert model.optimizer.clipnorm == 1.0  # gradient clipping is on
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "model.keras")
    again = load_keras_model(tmp_path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    head = again.get_layer("forecast")
    assert (head.scale, head.offset, head.residual) == (STD, MEAN, True)


def test_grouped_gains_start_at_the_linear_forecast_and_scale_its_parts(tmp_path):
    x = _history(6, steps=4, channels=3)
    rng = np.random.default_rng(2)
    coef, intercept = rng.normal(size=(4 * 3, 2)).astype("float32"), np.array([0.1, -0.2], "float32")
    groups = {"index": [0], "drivers": [1, 2]}
    model = build_lstm(3, 4, 2, units=(4,), target_mean=MEAN, target_std=STD, linear=(coef, intercept), gain=True,
                       gain_groups=groups, train_linear=False)
    last = x[:, -1, 0] * STD + MEAN
    linear = x.reshape(6, -1) @ coef + intercept  # the ARX change, in standard deviations
    np.testing.assert_allclose(model.predict(x, verbose=0), last[:, None] + linear * STD, rtol=1e-4, atol=1e-3)
    # a gain of +0.5 on the drivers' part alone: 1.5 x their share of the change, the index's share as it was
    gain = model.get_layer("gain_drivers")
    gain.set_weights([np.zeros_like(gain.get_weights()[0]), np.full(2, np.arctanh(0.5), "float32")])
    drivers = x[:, :, 1:].reshape(6, -1) @ coef.reshape(4, 3, 2)[:, 1:].reshape(-1, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), last[:, None] + (linear + 0.5 * drivers) * STD,
                               rtol=1e-4, atol=1e-3)
    assert not model.get_layer("linear_index").trainable and not model.get_layer("linear_drivers").trainable
    model.save(tmp_path / "model.keras")  # the custom layers round-trip in safe mode
    np.testing.assert_allclose(load_keras_model(tmp_path).predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
