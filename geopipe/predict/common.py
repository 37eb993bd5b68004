"""What grid and forecast prediction share: the model, its normalisation, time ranges, provenance.

A model is loaded once per process (per worker thread pool) and cached by its folder and
hash, so Dask tasks that each predict one block of times do not reload it.  Inputs are
normalised exactly as training did: ``z = (x - mean) / std`` per channel, with the statistics
in ``normalization.json`` looked up *by channel name*.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geopipe import store as _store
from geopipe.errors import GeopipeError, ParameterError
from geopipe.models import io

_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached_model(model_dir: str, digest: str):
    return io.load_keras_model(model_dir)


def model_for(model_dir: str | os.PathLike, digest: str | None = None):
    """The Keras model of ``model_dir`` (loaded once per process; thread-safe)."""
    model_dir = str(Path(model_dir).resolve())
    digest = digest or io.model_hash(model_dir)
    with _LOAD_LOCK:  # two threads asking at once would otherwise both load it
        return _cached_model(model_dir, digest)


def run(model, x: np.ndarray) -> np.ndarray:
    """The model's outputs for one batch ``x``, through its compiled predict function (calling
    ``model(x)`` eagerly runs the graph op by op: ~1.5x the CPU time of a U-Net, more for an LSTM)."""
    return np.asarray(model.predict_on_batch(x))


def normalization(model_dir, channels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` as float32 arrays of shape (C,) in the order of ``channels``."""
    norm = io.load_normalization(model_dir)
    names = list(norm.get("channels") or [])
    try:
        mean = np.asarray(norm["mean"], dtype="f8")
        std = np.asarray(norm["std"], dtype="f8")
    except KeyError as exc:
        raise GeopipeError(f"{model_dir}/normalization.json: no {exc.args[0]!r} list") from None
    if len(names) != len(mean) or len(names) != len(std):
        raise GeopipeError(f"{model_dir}/normalization.json: channels, mean and std differ in length")
    missing = [c for c in channels if c not in names]
    if missing:
        raise GeopipeError(f"{model_dir}/normalization.json: no statistics for channel(s) {', '.join(missing)}")
    idx = [names.index(c) for c in channels]
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)  # a constant channel is not scaled (as in training)
    return mean[idx].astype("f4"), std[idx].astype("f4")


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` over the last axis (channels), NaN -> 0: training's own function."""
    from geopipe.models.data import normalize as training_normalize

    return training_normalize(x, mean, std)


def time_range(times: str | Sequence | None) -> slice | None:
    """``"START/END"`` (ISO 8601, both ends included, like ``xarray.Dataset.sel``) -> slice."""
    if times is None:
        return None
    if isinstance(times, str):
        if "/" not in times:
            raise ParameterError("times", "expected START/END, e.g. 2011-01-10T00/2011-01-12T18", times)
        start, end = times.split("/", 1)
    else:
        start, end = times
    try:
        a = pd.Timestamp(start) if start else None
        b = pd.Timestamp(end) if end else None
    except ValueError as exc:
        raise ParameterError("times", str(exc), times) from None
    if a is not None and b is not None and b < a:
        raise ParameterError("times", "END is before START", times)
    return slice(a, b)


def in_range(times, rng: slice | None) -> np.ndarray:
    """Boolean (T,): which of ``times`` fall in ``rng`` (works on unsorted time axes too)."""
    t = pd.DatetimeIndex(times)
    keep = np.ones(len(t), dtype=bool)
    if rng is not None and rng.start is not None:
        keep &= t >= rng.start
    if rng is not None and rng.stop is not None:
        keep &= t <= rng.stop
    return keep


def existing(out: str) -> tuple[pd.Index, dict]:
    """The ``time`` index and root attributes of the output store (empty if it does not exist)."""
    if not _store.exists(out):
        return pd.DatetimeIndex([]), {}
    ds = _store.open_store(out)  # finishes an append a killed run left half-published
    return pd.Index(ds["time"].values), dict(ds.attrs)


def check_same_model(out: str, attrs: Mapping, digest: str, extra: Mapping | None = None) -> None:
    """Refuse to add to a store that another model (or other settings) wrote: one store, one model."""
    if not attrs:
        return
    old = attrs.get("model_hash")
    if old and old != digest:
        raise GeopipeError(f"{out}: holds predictions of model {old[:12]} ({attrs.get('model_dir')}); "
                           f"this model is {digest[:12]}: write to a new store")
    for key, value in (extra or {}).items():
        if key in attrs and attrs[key] != value:
            raise GeopipeError(f"{out}: was written with {key}={attrs[key]}, not {value}: write to a new store")


def provenance(model_dir, digest: str, cfg: Mapping, input_store: str) -> tuple[dict, list[dict]]:
    """Root attributes and ``sources`` records naming the model (folder, hash) and the input store."""
    from geopipe import __version__

    model_dir = str(Path(model_dir).resolve())
    attrs = {
        "model_dir": model_dir,
        "model_hash": digest,
        "model_kind": str(cfg.get("kind", "")),
        "model_task": str(cfg.get("task", "")),
        "model_channels": list(cfg.get("channels") or []),
        "input_store": input_store,
        "input_store_id": _store.store_id(input_store),
        "geopipe_version": __version__,
    }
    sources = [{"path": os.path.join(model_dir, "model.keras"), "sha256": digest, "kind": "model"},
               {"path": input_store, "store_id": attrs["input_store_id"], "kind": "input_store"}]
    return attrs, sources


def coverage(present: pd.Index, new: pd.Index) -> dict:
    """``time_coverage_start``/``_end`` over the times already stored and those being added."""
    allt = present.append(pd.Index(new)) if len(new) else present
    if not len(allt):
        return {}
    return {"time_coverage_start": str(pd.Timestamp(allt.min())), "time_coverage_end": str(pd.Timestamp(allt.max()))}
