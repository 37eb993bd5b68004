"""The model folder: how a trained model is saved and loaded.

A model folder holds::

    model.keras          the Keras model (loaded with safe_mode=True; custom objects are
                         registered under the ``geopipe`` package, see geopipe.models.losses).
                         Its input is the normalised fields (normalization.json); its output
                         is mask probabilities (batch, H, W, 1) or forecasts (batch, lead) in
                         the target's units.
    model.npz            instead of model.keras for the scikit-learn/numpy rungs of the model
                         ladder (zero, climatology, threshold, logreg, mlp; persistence, ar,
                         burton, mlp): their coefficients only, loaded with allow_pickle=False
                         (geopipe.models.simple).  These rungs take *raw* inputs.
    config.json          what the model is and how to feed it (below)
    normalization.json   {"channels": [...], "mean": [...], "std": [...]} from the train split
    provenance.json      data it was trained on (store paths, their provenance), geopipe version,
                         time, host, device
    metrics.json         the test-split report: the model ladder, each rung with the same metrics
    history.csv, learning_curve.png, report.md   training history and human-readable report

:func:`load_predictor` hides the difference: it returns an object whose ``predict(x_raw)``
takes raw store values and returns probabilities (sample, iy, ix) or forecasts (sample, lead).

``config.json`` keys (all tasks): ``format`` (keras|npz), ``kind`` (unet|lstm|logreg|mlp|threshold|ar|...),
``task`` (segmentation|forecast), ``channels`` (store variable names, in input order).
Segmentation adds ``patch_size``, ``threshold`` (probability -> mask, default 0.7) and
``label`` (what 1 means).  Forecast adds ``target`` (e.g. sym_h), ``history`` (steps),
``leads`` (minutes ahead, one output per lead), ``cadence_minutes``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from geopipe.atomic import write_json
from geopipe.errors import GeopipeError

FILES = ("model.keras", "config.json", "normalization.json", "provenance.json", "metrics.json")


def _write_json(path: Path, obj) -> None:
    write_json(path, obj, default=str)


def save_json(model_dir: str | os.PathLike, name: str, obj) -> Path:
    path = Path(model_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, obj)
    return path


def load_json(model_dir: str | os.PathLike, name: str):
    path = Path(model_dir) / name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise GeopipeError(f"{model_dir}: not a geopipe model folder ({name} missing)") from None
    except json.JSONDecodeError as exc:
        raise GeopipeError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def load_config(model_dir) -> dict:
    return load_json(model_dir, "config.json")


def load_normalization(model_dir) -> dict:
    return load_json(model_dir, "normalization.json")


def load_keras_model(model_dir):
    """Load ``model.keras`` in Keras safe mode (no arbitrary code from the file)."""
    import keras

    import geopipe.models.losses  # noqa: F401  (registers the serializable losses/metrics)

    path = Path(model_dir) / "model.keras"
    if not path.exists():
        raise GeopipeError(f"{model_dir}: not a geopipe model folder (model.keras missing)")
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def model_hash(model_dir) -> str:
    """sha256 over the model file and its config/normalization: identifies the model in provenance."""
    h = hashlib.sha256()
    for name in ("model.keras", "model.npz", "config.json", "normalization.json"):
        path = Path(model_dir) / name
        if path.exists():
            h.update(name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class KerasPredictor:
    """A Keras model behind the same interface as the simple rungs: raw x in, outputs out."""

    def __init__(self, model, normalization: dict, task: str, batch_size: int | None = None):
        import numpy as np

        self.model, self.task = model, task
        # whole grids are large, forecast windows tiny: batch accordingly
        self.batch_size = int(batch_size or (8 if task == "segmentation" else 1024))
        self.mean = np.asarray(normalization["mean"], "float32")
        self.std = np.asarray(normalization["std"], "float32")

    def predict(self, x):
        """Raw inputs (sample, ...) -> probabilities (sample, iy, ix) or forecasts (sample, lead)."""
        import numpy as np

        from geopipe.models.norm import normalize

        z = normalize(x, self.mean, self.std)
        out = np.concatenate([np.asarray(self.model.predict_on_batch(z[i:i + self.batch_size]))
                              for i in range(0, len(z), self.batch_size)]) if len(z) else np.zeros((0,))
        return out[..., 0] if self.task == "segmentation" else out


def load_predictor(model_dir):
    """Any model folder as an object with ``predict(x_raw)`` (Keras or a simple rung)."""
    config = load_config(model_dir)
    if (Path(model_dir) / "model.keras").exists():
        return KerasPredictor(load_keras_model(model_dir), load_normalization(model_dir), config["task"])
    from geopipe.models import burton, simple

    classes = {(c.task, c.kind): c for c in (simple.ZeroMask, simple.Climatology, simple.ThresholdRule,
                                             simple.PixelLogistic, simple.PixelMLP, simple.Persistence,
                                             simple.LinearAR, simple.LinearARX, simple.WindowMLP, burton.Burton)}
    try:
        cls = classes[(config.get("task"), config.get("kind"))]
    except KeyError:
        raise GeopipeError(f"{model_dir}: unknown model kind {config.get('kind')!r} "
                           f"for task {config.get('task')!r}") from None
    if not (Path(model_dir) / "model.npz").exists():
        raise GeopipeError(f"{model_dir}: not a geopipe model folder (model.keras or model.npz missing)")
    return cls.load(model_dir)
