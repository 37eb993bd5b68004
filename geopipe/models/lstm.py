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

from geopipe.models.layers import Asinh, ChannelSelect, ForecastHead, Gain


def build_lstm(n_channels: int, history: int, n_leads: int, units: Sequence[int] = (64, 32),
               dropout: float = 0.2, target_mean: float = 0.0, target_std: float = 1.0,
               residual: bool = True, target_channel: int = 0, name: str = "lstm",
               linear=None, squash: bool = False, gain: bool = False, train_linear: bool = True,
               gain_groups: dict[str, Sequence[int]] | None = None) -> keras.Model:
    """LSTM layers of ``units`` (the last returns its final state), dropout between them,
    then one Dense output per lead rescaled by the target's ``target_mean``/``target_std``
    (see :class:`~geopipe.models.layers.ForecastHead`).

    ``linear=(coef (history*channels, lead), intercept (lead,))`` adds a linear skip from the
    flattened window to the output (the autoregressive component of LSTNet, Lai et al. 2018),
    started at those coefficients (e.g. the ARX rung's ridge fit, in the same standardised
    units), so the LSTM learns the nonlinear correction to the linear forecast.  ``gain`` lets
    the LSTM also scale the skip's change per lead, by ``1 + g`` with ``g`` in (-1, 1) (see
    :class:`~geopipe.models.layers.Gain`), a correction that grows with the storm.
    ``gain_groups`` ({name: channel indices}, covering every channel once) splits the skip into
    one part per group, each with its own gain (e.g. the index's own decay and the solar-wind
    driving); by default one gain scales the whole skip.  ``train_linear=False`` keeps the skip
    at the coefficients it was given (the LSTM then corrects exactly that linear forecast).

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
    skips = {}
    if linear is not None:
        coef = np.asarray(linear[0], "float32").reshape(history, n_channels, n_leads)
        intercept = np.asarray(linear[1], "float32").reshape(n_leads)
        if gain and gain_groups:
            groups = {str(k): [int(c) for c in v] for k, v in gain_groups.items()}
            if sorted(c for v in groups.values() for c in v) != list(range(n_channels)):
                raise ValueError(f"gain_groups {groups} must hold each of the {n_channels} channels once")
        else:
            groups = {"": list(range(n_channels))}
        terms = [delta]
        for i, (group, channels) in enumerate(groups.items()):
            part = f"_{group}" if group else ""
            skip = layers.Dense(n_leads, dtype="float32", name=f"linear{part}", trainable=bool(train_linear))
            sub = inputs if not group else ChannelSelect(channels, name=f"channels{part}")(inputs)
            lin = skip(layers.Flatten(name=f"window{part}")(sub))
            if gain:
                g = layers.Dense(n_leads, kernel_initializer="zeros", activation="tanh", dtype="float32",
                                 name=f"gain{part}")(x)
                lin = Gain(name=f"gained_linear{part}")([lin, g])
            skips[skip.name] = (coef[:, channels, :].reshape(-1, n_leads), intercept if i == 0 else 0 * intercept)
            terms.append(lin)
        delta = layers.Add(name="lstm_plus_linear")(terms)
    outputs = ForecastHead(target_std, target_mean, channel=target_channel, residual=residual,
                           name="forecast")([inputs, delta])
    model = keras.Model(inputs, outputs, name=name)
    for layer_name, weights in skips.items():
        model.get_layer(layer_name).set_weights(list(weights))
    return model
