"""Predictions from a model folder: full-grid segmentation maps and index forecasts.

:func:`predict` dispatches on ``config.json`` ``task``: ``segmentation`` ->
:func:`predict_grid` (:mod:`geopipe.predict.grid`), ``forecast`` -> :func:`predict_forecasts`
(:mod:`geopipe.predict.forecast`).  Both write through :func:`geopipe.store.append`, so
predicting the same times again adds nothing.
"""

from __future__ import annotations

from geopipe.models import io
from geopipe.predict.forecast import predict_forecasts
from geopipe.predict.grid import predict_grid


def predict(model_dir, store: str, out: str, times=None, threshold: float | None = None, drivers=None,
            **kwargs) -> dict:
    """Run the model of ``model_dir`` over ``store`` into ``out``; returns the summary dict
    (``drivers``: the solar-wind store of a forecast model trained with drivers)."""
    task = io.load_config(model_dir).get("task", "segmentation")
    if task == "forecast":
        return predict_forecasts(model_dir, store, out, times=times, drivers=drivers)
    return predict_grid(model_dir, store, out, times=times, threshold=threshold, **kwargs)


__all__ = ["predict", "predict_forecasts", "predict_grid"]
