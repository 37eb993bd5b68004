"""U-Net for per-pixel masks (Ronneberger et al. 2015), any input size.

Input (batch, H, W, C) normalised fields, output (batch, H, W, 1) mask probabilities.
H and W are free: the model zero-pads them up to a multiple of 2**depth and crops the
output back (geopipe.models.layers), so a network trained on 64 x 64 patches runs on a
whole 361 x 720 grid.
"""

from __future__ import annotations

import keras
from keras import layers

from geopipe.models.layers import CropLike, PadToMultiple


def _conv_block(x, filters: int, dropout: float, name: str):
    """Two 3x3 convolutions, each with BatchNorm and ReLU, then spatial dropout."""
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)  # short runs: stats settle fast
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    if dropout:
        x = layers.SpatialDropout2D(dropout, name=f"{name}_drop")(x)
    return x


def build_unet(n_channels: int, depth: int = 4, filters: int = 16, dropout: float = 0.1,
               noise: float = 0.0, upsample: str = "transpose", max_filters: int = 256,
               name: str = "unet") -> keras.Model:
    """A U-Net with ``depth`` poolings; level ``i`` has ``min(filters * 2**i, max_filters)`` filters.

    ``noise`` (in standard deviations of the normalised input) adds GaussianNoise in
    training only; ``upsample`` is ``"transpose"`` (learned 2x2 transposed convolutions) or
    ``"bilinear"`` (bilinear upsampling then a 3x3 convolution, free of checkerboard artefacts).
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    if upsample not in ("transpose", "bilinear"):
        raise ValueError(f"upsample must be 'transpose' or 'bilinear', not {upsample!r}")
    width = [min(filters * 2**i, max_filters) for i in range(depth + 1)]
    inputs = keras.Input((None, None, n_channels), name="fields")
    x = PadToMultiple(2**depth, name="pad")(inputs)
    if noise:
        x = layers.GaussianNoise(noise, name="noise")(x)
    skips = []
    for i in range(depth):
        x = _conv_block(x, width[i], dropout if i else 0.0, name=f"down{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = _conv_block(x, width[depth], dropout, name="bottom")
    for i in reversed(range(depth)):
        if upsample == "transpose":
            x = layers.Conv2DTranspose(width[i], 2, strides=2, padding="same", name=f"up{i}")(x)
        else:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i}")(x)
            x = layers.Conv2D(width[i], 3, padding="same", name=f"up{i}_conv")(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
        x = _conv_block(x, width[i], 0.0, name=f"dec{i}")
    x = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="probability")(x)
    outputs = CropLike(name="crop", dtype="float32")([x, inputs])
    return keras.Model(inputs, outputs, name=name)
