"""Segmentation losses: each against its formula, and their round trip through Keras serialization."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from geopipe.models import losses

rng = np.random.default_rng(3)
Y = (rng.random((3, 8, 8)) < 0.3).astype("float32")
P = np.clip(rng.random((3, 8, 8, 1)), 0.01, 0.99).astype("float32")


def per_sample(loss):
    return np.asarray(loss.call(Y, P), "f8")


def test_bce_matches_formula():
    y, p = Y.reshape(3, -1), P.reshape(3, -1)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(per_sample(losses.BinaryCrossentropy()), expected, rtol=1e-5)
    # and agrees with Keras' own binary cross-entropy
    keras_bce = keras.losses.BinaryCrossentropy()(Y[..., None], P)
    assert float(losses.BinaryCrossentropy()(Y, P)) == pytest.approx(float(keras_bce), rel=1e-4)


def test_dice_and_tversky_match_formula():
    y, p = Y.reshape(3, -1), P.reshape(3, -1)
    tp, fp, fn = (y * p).sum(1), ((1 - y) * p).sum(1), (y * (1 - p)).sum(1)
    np.testing.assert_allclose(per_sample(losses.DiceLoss()), 1 - (2 * tp + 1) / (y.sum(1) + p.sum(1) + 1), rtol=1e-5)
    np.testing.assert_allclose(per_sample(losses.TverskyLoss(0.3, 0.7)),
                               1 - (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1), rtol=1e-5)
    # alpha = beta = 0.5 is Dice (with half the smoothing); a larger beta punishes misses (FN) harder
    np.testing.assert_allclose(per_sample(losses.TverskyLoss(0.5, 0.5, smooth=0.5)), per_sample(losses.DiceLoss()),
                               rtol=1e-5)
    under = np.where(Y[..., None] > 0, 0.2, 0.0).astype("float32")  # misses most of the mask, no false alarm
    assert float(losses.TverskyLoss(0.3, 0.7)(Y, under)) > float(losses.TverskyLoss(0.7, 0.3)(Y, under))


def test_focal_and_bce_dice():
    y, p = Y.reshape(3, -1), P.reshape(3, -1)
    pt = np.where(y > 0, p, 1 - p)
    at = np.where(y > 0, 0.25, 0.75)
    np.testing.assert_allclose(per_sample(losses.FocalLoss()), -np.mean(at * (1 - pt) ** 2 * np.log(pt), axis=1),
                               rtol=1e-5)
    np.testing.assert_allclose(per_sample(losses.BCEDiceLoss()),
                               per_sample(losses.BinaryCrossentropy()) + per_sample(losses.DiceLoss()), rtol=1e-5)
    # a confident correct prediction costs less than a confident wrong one, for every loss
    good, bad = np.where(Y > 0, 0.99, 0.01)[..., None], np.where(Y > 0, 0.01, 0.99)[..., None]
    for name in losses.LOSSES:
        loss = losses.get_loss(name)
        assert float(loss(Y, good)) < float(loss(Y, bad)), name


def test_losses_serialize_under_geopipe_package():
    for name, cls in losses.LOSSES.items():
        loss = cls()
        blob = keras.saving.serialize_keras_object(loss)
        assert blob["registered_name"] == f"geopipe>{cls.__name__}"
        again = keras.saving.deserialize_keras_object(blob, safe_mode=True)
        assert type(again) is cls and again.get_config() == loss.get_config()
        assert float(again(Y, P)) == pytest.approx(float(loss(Y, P)), rel=1e-6)
    tv = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(losses.TverskyLoss(0.2, 0.8)))
    assert (tv.alpha, tv.beta) == (0.2, 0.8)
    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        losses.get_loss("l2")
