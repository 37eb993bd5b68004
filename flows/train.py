"""``train_unet`` and ``train_lstm``: the model ladders, tagged for the GPU work pool.

The metrics table (every rung, same metrics) and the learning curve become Prefect artifacts.
"""

from __future__ import annotations

import os

from prefect import flow, task

from flows.common import image_artifact, markdown_artifact, product_stores, table_artifact

STORES = product_stores()


def _publish(summary: dict, key: str, title: str) -> None:
    rows = summary.get("table") or summary.get("rows") or []
    if rows:
        table_artifact(f"{key}-ladder", rows, f"{title}: the model ladder on the test split")
    report = summary.get("report")
    if report and os.path.exists(str(report)):
        with open(report) as fh:
            markdown_artifact(f"{key}-report", fh.read(), f"{title}: training report")
    curve = summary.get("learning_curve")
    if curve and os.path.exists(str(curve)):
        image_artifact(f"{key}-learning-curve", str(curve), f"{title}: training vs validation loss")


@task(name="train-segmentation-ladder", tags=["gpu"])
def train_segmentation_task(patches: str, out_root: str, kinds: list[str] | None, params: dict) -> dict:
    from geopipe.config import resolve_store
    from geopipe.training.segmentation import train_ladder_segmentation

    return train_ladder_segmentation(resolve_store(patches), resolve_store(out_root), kinds=kinds, **params)


@task(name="train-forecast-ladder", tags=["gpu"])
def train_forecast_task(windows: str, out_root: str, kinds: list[str] | None, params: dict) -> dict:
    from geopipe.config import resolve_store
    from geopipe.training.forecast import train_ladder_forecast

    return train_ladder_forecast(resolve_store(windows), resolve_store(out_root), kinds=kinds, **params)


@flow(name="train-unet", log_prints=True)
def train_unet(patches: str = STORES["patches"], out_root: str = "models/cyclones", kinds: list[str] | None = None,
               params: dict | None = None) -> dict:
    """The segmentation ladder (all-zero, climatology, threshold, logreg, MLP, U-Net) on one patch set."""
    summary = train_segmentation_task(patches, out_root, kinds, params or {})
    _publish(summary, "unet", "Cyclone segmentation")
    return summary


@flow(name="train-lstm", log_prints=True)
def train_lstm(windows: str = STORES["windows"], out_root: str = "models/symh", kinds: list[str] | None = None,
               params: dict | None = None) -> dict:
    """The SYM-H ladder (persistence, AR, Burton when drivers exist, MLP, LSTM) on one window set."""
    summary = train_forecast_task(windows, out_root, kinds, params or {})
    _publish(summary, "lstm", "SYM-H forecast")
    return summary
