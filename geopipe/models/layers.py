"""Small custom Keras layers the geopipe models need, serializable in safe mode.

They are registered under the ``geopipe`` package, so ``keras.saving.load_model(...,
safe_mode=True)`` rebuilds them from the model file without running any stored code.
Importing :mod:`geopipe.models.losses` imports this module too (see geopipe/models/io.py).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="geopipe")
class PadToMultiple(keras.layers.Layer):
    """Zero-pad rows and columns at the bottom/right up to a multiple of ``multiple``.

    (batch, H, W, C) -> (batch, ceil(H/m)*m, ceil(W/m)*m, C).  Works for any H, W at run
    time, so a U-Net with ``depth`` poolings takes a whole 361 x 720 grid.  Zero is the
    training mean after normalisation, the least surprising fill.
    """

    def __init__(self, multiple: int, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, x):
        shape = ops.shape(x)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
        return ops.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])

    def compute_output_shape(self, input_shape):
        def up(n):
            return None if n is None else -(-n // self.multiple) * self.multiple

        return (input_shape[0], up(input_shape[1]), up(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="geopipe")
class CropLike(keras.layers.Layer):
    """Crop ``x`` (batch, H', W', C) back to the rows/columns of ``reference`` (batch, H, W, *).

    Undoes :class:`PadToMultiple` (which pads at the bottom/right only).
    """

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shapes):
        x_shape, ref_shape = input_shapes
        return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])


@keras.saving.register_keras_serializable(package="geopipe")
class ForecastHead(keras.layers.Layer):
    """Turn a network output into forecasts in physical units (e.g. nT).

    Inputs ``[history, delta]``: ``history`` (batch, step, channel) normalised, ``delta``
    (batch, lead) in units of the target's standard deviation.  With ``residual=True``
    the forecast is the last observed target value plus the change,
    ``y = (x[:, -1, c] * scale + offset) + delta * scale``; otherwise
    ``y = delta * scale + offset``.  A zero ``delta`` is then exactly persistence, so a
    zero-initialised head starts training from persistence rather than from noise.
    """

    def __init__(self, scale: float, offset: float, channel: int = 0, residual: bool = True, **kwargs):
        kwargs.setdefault("dtype", "float32")  # forecasts in float32 even under mixed precision
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.offset = float(offset)
        self.channel = int(channel)
        self.residual = bool(residual)

    def call(self, inputs):
        history, delta = inputs
        history = ops.cast(history, "float32")
        delta = ops.cast(delta, "float32")
        if self.residual:
            last = history[:, -1, self.channel : self.channel + 1] * self.scale + self.offset
            return last + delta * self.scale
        return delta * self.scale + self.offset

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset,
                "channel": self.channel, "residual": self.residual}


@keras.saving.register_keras_serializable(package="geopipe")
class Asinh(keras.layers.Layer):
    """``asinh`` of a normalised input: the identity within about one standard deviation,
    logarithmic beyond.  In front of an LSTM it keeps a superstorm's -25 sigma SYM-H from
    saturating gates that only ever saw -10 sigma in training (the linear skip beside it still
    sees the raw values, so nothing of the input's scale is lost)."""

    def call(self, x):
        return ops.arcsinh(ops.cast(x, self.compute_dtype))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="geopipe")
class Gain(keras.layers.Layer):
    """``linear * (1 + g)``: a gain ``g`` in (-1, 1) (a tanh, per lead) on the change the linear
    skip forecasts.  Inputs ``[linear, g]``, both (batch, lead).

    A relative correction: what the LSTM learns on moderate storms (the linear forecast's
    change runs short in a main phase, long in a recovery) carries over in proportion to a
    storm two or three times stronger, where an added correction stays the size it was in
    training.  ``g = 0`` (a zero-initialised layer) is the linear forecast itself."""

    def call(self, inputs):
        linear, g = inputs
        return ops.cast(linear, "float32") * (1.0 + ops.cast(g, "float32"))

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


@keras.saving.register_keras_serializable(package="geopipe")
class ChannelSelect(keras.layers.Layer):
    """The channels ``channels`` (indices, in that order) of a (batch, ..., channel) input."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = [int(c) for c in channels]

    def call(self, x):
        return ops.take(x, self.channels, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], len(self.channels))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}
