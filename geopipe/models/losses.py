"""Segmentation losses for masks: serializable Keras losses registered under ``geopipe``.

Every loss takes ``y_true`` (batch, H, W[, 1]) in {0, 1} and ``y_pred`` (batch, H, W, 1)
probabilities, flattens each sample and returns one value per sample (Keras then takes
the batch mean).  Sums run over a sample's pixels; ``smooth`` (default 1 pixel) keeps the
overlap losses defined for empty masks.  Importing this module also registers the custom
layers (:mod:`geopipe.models.layers`), so it is the one import a loader needs.
"""

from __future__ import annotations

import keras
from keras import ops

from geopipe.models import layers as _layers  # noqa: F401  (registers the custom layers)

EPS = 1e-7


def _flat(y_true, y_pred):
    """(batch, pixels) float32 views of the mask and the probabilities, the latter clipped."""
    y_pred = ops.cast(y_pred, "float32")
    batch = ops.shape(y_pred)[0]
    p = ops.clip(ops.reshape(y_pred, (batch, -1)), EPS, 1.0 - EPS)
    y = ops.reshape(ops.cast(y_true, "float32"), (batch, -1))
    return y, p


class _MaskLoss(keras.losses.Loss):
    def __init__(self, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name or self.default_name, reduction=reduction, dtype=kwargs.pop("dtype", None))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="geopipe")
class BinaryCrossentropy(_MaskLoss):
    """Binary cross-entropy: ``L = -mean_i [y_i log p_i + (1 - y_i) log(1 - p_i)]``."""

    default_name = "bce"

    def call(self, y_true, y_pred):
        y, p = _flat(y_true, y_pred)
        return -ops.mean(y * ops.log(p) + (1.0 - y) * ops.log(1.0 - p), axis=-1)


@keras.saving.register_keras_serializable(package="geopipe")
class DiceLoss(_MaskLoss):
    """Soft Dice loss: ``L = 1 - (2 sum y p + s) / (sum y + sum p + s)``."""

    default_name = "dice"

    def __init__(self, smooth: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.smooth = float(smooth)

    def call(self, y_true, y_pred):
        y, p = _flat(y_true, y_pred)
        inter = ops.sum(y * p, axis=-1)
        return 1.0 - (2.0 * inter + self.smooth) / (ops.sum(y, axis=-1) + ops.sum(p, axis=-1) + self.smooth)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="geopipe")
class BCEDiceLoss(_MaskLoss):
    """Cross-entropy plus Dice: ``L = w_bce * BCE + w_dice * Dice`` (defaults 1 and 1)."""

    default_name = "bce_dice"

    def __init__(self, bce_weight: float = 1.0, dice_weight: float = 1.0, smooth: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.bce_weight, self.dice_weight, self.smooth = float(bce_weight), float(dice_weight), float(smooth)
        self._bce, self._dice = BinaryCrossentropy(), DiceLoss(smooth=smooth)

    def call(self, y_true, y_pred):
        return self.bce_weight * self._bce.call(y_true, y_pred) + self.dice_weight * self._dice.call(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "bce_weight": self.bce_weight, "dice_weight": self.dice_weight,
                "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="geopipe")
class TverskyLoss(_MaskLoss):
    """Tversky loss: ``L = 1 - (TP + s) / (TP + alpha FP + beta FN + s)`` with soft counts
    ``TP = sum y p``, ``FP = sum (1 - y) p``, ``FN = sum y (1 - p)``.

    ``alpha`` weighs false alarms and ``beta`` misses; the default 0.3/0.7 penalises missed
    pixels of a small object more than false alarms.  alpha = beta = 0.5 is Dice.
    """

    default_name = "tversky"

    def __init__(self, alpha: float = 0.3, beta: float = 0.7, smooth: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.beta, self.smooth = float(alpha), float(beta), float(smooth)

    def call(self, y_true, y_pred):
        y, p = _flat(y_true, y_pred)
        tp = ops.sum(y * p, axis=-1)
        fp = ops.sum((1.0 - y) * p, axis=-1)
        fn = ops.sum(y * (1.0 - p), axis=-1)
        return 1.0 - (tp + self.smooth) / (tp + self.alpha * fp + self.beta * fn + self.smooth)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta, "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="geopipe")
class FocalLoss(_MaskLoss):
    """Binary focal loss (Lin et al. 2017): ``L = -mean_i a_t (1 - p_t)^gamma log p_t`` where
    ``p_t = p`` and ``a_t = alpha`` on mask pixels, ``p_t = 1 - p`` and ``a_t = 1 - alpha`` elsewhere.
    """

    default_name = "focal"

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.gamma = float(alpha), float(gamma)

    def call(self, y_true, y_pred):
        y, p = _flat(y_true, y_pred)
        p_t = y * p + (1.0 - y) * (1.0 - p)
        a_t = y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
        return -ops.mean(a_t * ops.power(1.0 - p_t, self.gamma) * ops.log(p_t), axis=-1)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


LOSSES = {"bce": BinaryCrossentropy, "dice": DiceLoss, "bce_dice": BCEDiceLoss,
          "tversky": TverskyLoss, "focal": FocalLoss}


def get_loss(name: str, **params) -> keras.losses.Loss:
    """A loss by its short name (``bce``, ``dice``, ``bce_dice``, ``tversky``, ``focal``)."""
    try:
        cls = LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
    return cls(**params)
