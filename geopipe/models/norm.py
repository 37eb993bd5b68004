"""Normalisation with the train-split statistics a store (and a model folder) carries."""

from __future__ import annotations

import numpy as np


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std per channel (the last axis), float32; NaN -> 0, i.e. the train mean."""
    z = (np.asarray(x, "float32") - np.asarray(mean, "float32")) / np.asarray(std, "float32")
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def as_json(channels, mean, std) -> dict:
    """The ``normalization.json`` of a model folder."""
    return {"channels": [str(c) for c in channels], "mean": [float(v) for v in np.asarray(mean).ravel()],
            "std": [float(v) for v in np.asarray(std).ravel()]}
