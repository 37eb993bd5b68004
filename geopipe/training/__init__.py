"""Training: the segmentation and forecast model ladders, from patch/window stores to model folders.

Public API (the Prefect flows and ``geopipe train`` call these):

* :func:`train_segmentation` (patches, out, kind="unet", **params) -> dict
* :func:`train_forecast` (windows, out, kind="lstm", **params) -> dict
* :func:`train_ladder_segmentation` (patches, out_root, kinds=None, **params) -> dict
* :func:`train_ladder_forecast` (windows, out_root, kinds=None, **params) -> dict

Each returns the content of the ``metrics.json`` it wrote (the test-split ladder, the verdict
sentences, a flat ``table``) plus ``folders``, ``report`` and ``learning_curve`` paths.
Parameters: see SegmentationParams and ForecastParams.  The names load lazily, so that
``geopipe --help`` and :mod:`geopipe.training.ladder` do not import TensorFlow.
"""

import importlib

_WHERE = {"train_segmentation": "segmentation", "train_ladder_segmentation": "segmentation",
          "SegmentationParams": "segmentation", "train_forecast": "forecast",
          "train_ladder_forecast": "forecast", "ForecastParams": "forecast",
          "SEGMENTATION_LADDER": "ladder", "FORECAST_LADDER": "ladder"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"geopipe.training.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'geopipe.training' has no attribute {name!r}")
