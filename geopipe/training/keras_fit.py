"""Fit a Keras model from streams, with the callbacks every geopipe model trains with.

EarlyStopping (restoring the best weights), ReduceLROnPlateau, ModelCheckpoint of the
best validation loss into ``model.keras`` and CSVLogger into ``history.csv``.  A model
trained under mixed precision or on several devices is re-built as a plain float32 model
before the final save, so the saved model runs at full speed on CPUs too.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

import pandas as pd

from geopipe import progress
from geopipe.errors import ParameterError
from geopipe.training.params import OPTIMIZERS  # declared once there


@contextlib.contextmanager
def _quiet_keras_saves():
    """Keras 3.15 saving variables under numpy 2 warns once per variable and save about the
    ``copy`` keyword of ``__array__``: harmless, and it buries real warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword",
                                category=DeprecationWarning)
        yield


def make_optimizer(name: str, lr: float, clipnorm: float | None = None):
    import keras

    kw = {"learning_rate": float(lr)}
    if clipnorm:
        kw["clipnorm"] = float(clipnorm)
    if name == "adam":
        return keras.optimizers.Adam(**kw)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(**kw)
    raise ParameterError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}", name)


def fit_keras(build, loss, metrics, train, val, out_dir, device, *, epochs: int, lr: float,
              optimizer: str = "adam", clipnorm: float | None = None, patience: int = 5,
              seed: int = 0, verbose: int = 0):
    """Build (under the device's strategy), compile and fit; returns (model, history, seconds).

    ``build()`` returns an uncompiled model; ``train``/``val`` are :class:`StreamDataset`.
    The returned model holds the best-validation weights and is saved as ``model.keras``.
    """
    import keras

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(int(seed))
    with device.strategy.scope():
        model = build()
        model.compile(optimizer=make_optimizer(optimizer, lr, clipnorm), loss=loss, metrics=metrics)
    path = out / "model.keras"
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, patience // 2)),
        keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(out / "history.csv"),
    ]
    t0 = time.perf_counter()
    name = out.name.lstrip(".").split(".tmp")[0]  # the rung, also inside a temporary folder
    with _quiet_keras_saves(), progress.Progress(f"train {name}", int(epochs), "epochs") as bar:
        model.fit(train, validation_data=val, epochs=int(epochs), callbacks=[*callbacks, progress.keras_epochs(bar)],
                  verbose=verbose)
    seconds = time.perf_counter() - t0
    if device.mixed_precision or device.replicas > 1:
        # the same weights in a plain float32 model outside the strategy: it runs at full speed on
        # CPUs and predicts batch for batch (a mirrored model's predict_on_batch does not)
        policy = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("float32")
        try:
            plain = build()
            plain.set_weights(model.get_weights())
        finally:
            keras.mixed_precision.set_global_policy(policy)
        model = plain
    with _quiet_keras_saves():
        model.save(path)
    history = pd.read_csv(out / "history.csv") if (out / "history.csv").exists() else pd.DataFrame()
    return model, history, seconds


def average_models(models, path, name: str = "ensemble"):
    """One model whose output is the mean of ``models``' outputs (same input), saved at ``path``."""
    import keras

    inputs = keras.Input(models[0].input_shape[1:], name="history")
    outputs = keras.layers.Average(name="member_mean")([m(inputs) for m in models])
    model = keras.Model(inputs, outputs, name=name)
    with _quiet_keras_saves():
        model.save(path)
    return model
