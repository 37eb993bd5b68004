"""The training parameters of both ladders, declared once: the library, the flows and the
``geopipe train`` options (generated from these fields) all read them from here.

Light on purpose (no NumPy, no TensorFlow): ``geopipe train --help`` imports it.
A field's ``metadata`` holds its one-line ``help`` and, where the values are few, ``choices``;
``cli: False`` keeps an internal knob off the command line.
"""

from __future__ import annotations

import dataclasses

from geopipe.training.ladder import FORECAST_LADDER, SEGMENTATION_LADDER  # noqa: F401  (re-exported)

LOSSES = ("bce", "dice", "bce_dice", "tversky", "focal")
OPTIMIZERS = ("adam", "rmsprop")
DEVICES = ("cpu", "gpu", "auto")


def param(default, help: str, choices=None, cli: bool = True):  # noqa: A002 - argparse's word
    meta = {"help": help, "choices": choices, "cli": cli}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass
class SegmentationParams:
    loss: str = param("tversky", "loss of the U-Net", LOSSES)
    depth: int = param(4, "poolings of the U-Net (4-6)")
    filters: int = param(16, "filters of the first U-Net level")
    dropout: float = param(0.1, "dropout rate")
    noise: float = param(0.0, "GaussianNoise stddev on the normalised input")
    upsample: str = param("transpose", "U-Net upsampling", ("transpose", "bilinear"))
    epochs: int = param(20, "training epochs")
    batch_size: int = param(16, "samples per batch")
    lr: float = param(1e-3, "learning rate")
    optimizer: str = param("adam", "optimizer", OPTIMIZERS)
    clipnorm: float | None = param(None, "gradient clipping by norm")
    patience: int = param(5, "epochs without validation improvement before stopping")
    device: str = param("auto", "auto: all GPUs if any", DEVICES)
    seed: int = param(0, "random seed")
    max_pixels: int = param(200_000, "train pixels sampled for the scikit-learn rungs")
    pixels_per_sample: int = param(512, "pixels drawn per train patch for the scikit-learn rungs", cli=False)
    hidden: int = param(16, "hidden units of the one-hidden-layer MLP rung")
    verbose: int = param(0, "Keras fit verbosity", cli=False)


@dataclasses.dataclass
class ForecastParams:
    units: tuple = param((64, 32), "LSTM layer sizes, comma-separated (e.g. 64,32)")
    dropout: float = param(0.2, "dropout rate")
    residual: bool = param(True, "forecast the change since the last observation (residual)")
    loss: str = param("mse", "loss of the LSTM (a Keras loss name)", cli=False)
    epochs: int = param(30, "training epochs")
    batch_size: int = param(128, "samples per batch")
    lr: float = param(1e-3, "learning rate")
    optimizer: str = param("adam", "optimizer", OPTIMIZERS)
    clipnorm: float | None = param(1.0, "gradient clipping by norm")
    patience: int = param(5, "epochs without validation improvement before stopping")
    device: str = param("auto", "auto: all GPUs if any", DEVICES)
    seed: int = param(0, "random seed")
    max_windows: int = param(50_000, "train windows for the scikit-learn rungs")
    hidden: int = param(32, "hidden units of the one-hidden-layer MLP rung")
    alpha: float = param(1.0, "ridge penalty of the AR rung")
    verbose: int = param(0, "Keras fit verbosity", cli=False)
    squash: bool = param(False, "feed the LSTM layers asinh of the normalised window (the linear skip sees it raw)")
    members: int = param(1, "LSTMs trained from successive seeds and averaged into one model (a seed ensemble)")
    linear_skip: bool = param(True, "with drivers: a linear skip from the window to the LSTM's output, "
                                    "holding the ARX fit")
    gain: bool = param(True, "with the linear skip: the LSTM also scales the skip's change per lead, by 1 + g "
                             "with g in (-1, 1), one gain for the index channels' part and one for the drivers'")
    train_linear: bool = param(False, "with the linear skip: train its coefficients with the LSTM (off: they stay "
                                      "at the ARX fit and the LSTM corrects that forecast)")


#: the parameter class of each task
PARAMS = {"segmentation": SegmentationParams, "forecast": ForecastParams}
