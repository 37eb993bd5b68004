"""Stacked LSTM that forecasts a series (e.g. SYM-H) at several leads at once.

Input (batch, step, channel) normalised history, the target variable first; output
(batch, lead) forecasts in the target's physical units (nT).  By default the network
predicts the *change* from the last observed value (a residual target) with a
zero-initialised head, so it starts as persistence and learns corrections to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from geopipe.models.layers import Asinh, ForecastHead


def build_lstm(n_channels: int, history: int, n_leads: int, units: Sequence[int] = (64, 32),
               dropout: float = 0.2, target_mean: float = 0.0, target_std: float = 1.0,
               residual: bool = True, target_channel: int = 0, name: str = "lstm",
               linear=None, squash: bool = False) -> keras.Model:
    """LSTM layers of ``units`` (the last returns its final state), dropout between them,
    then one Dense output per lead rescaled by the target's ``target_mean``/``target_std``
    (see :class:`~geopipe.models.layers.ForecastHead`).

    ``linear=(coef (history*channels, lead), intercept (lead,))`` adds a linear skip from the
    flattened window to the output (the autoregressive component of LSTNet, Lai et al. 2018),
    started at those coefficients (e.g. the ARX rung's ridge fit, in the same standardised
    units), so the LSTM learns the nonlinear correction to the linear forecast.

    ``squash`` feeds the LSTM layers ``asinh`` of the normalised window (see
    :class:`~geopipe.models.layers.Asinh`); the linear skip reads the window itself."""
    units = [int(u) for u in units]
    if not units:
        raise ValueError("units needs at least one LSTM layer size")
    inputs = keras.Input((history, n_channels), name="history")
    x = Asinh(name="asinh")(inputs) if squash else inputs
    for i, u in enumerate(units):
        x = layers.LSTM(u, return_sequences=i < len(units) - 1, name=f"lstm{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"drop{i}")(x)
    delta = layers.Dense(n_leads, kernel_initializer="zeros", dtype="float32", name="per_lead")(x)
    skip = None
    if linear is not None:
        skip = layers.Dense(n_leads, dtype="float32", name="linear")
        delta = layers.Add(name="lstm_plus_linear")([delta, skip(layers.Flatten(name="window")(inputs))])
    outputs = ForecastHead(target_std, target_mean, channel=target_channel, residual=residual,
                           name="forecast")([inputs, delta])
    model = keras.Model(inputs, outputs, name=name)
    if skip is not None:
        coef, intercept = linear
        skip.set_weights([np.asarray(coef, "float32").reshape(history * n_channels, n_leads),
                          np.asarray(intercept, "float32").reshape(n_leads)])
    return model
