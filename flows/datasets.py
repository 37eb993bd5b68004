"""``build_patches`` and ``build_windows``: training datasets, split by time blocks / whole storms."""

from __future__ import annotations

from prefect import flow, task

from flows.common import dask_cluster, product_stores, table_artifact
from geopipe.datasets.defaults import PATCHES, WINDOWS

STORES = product_stores()


@task(name="build-patches")
def build_patches_task(inputs: list[str], labels: str, out: str, size: int, neg_ratio: float, splits: str,
                       seed: int, options: dict) -> dict:
    from geopipe.datasets.patches import build_patches

    from geopipe.parsing import store_vars

    pairs = [store_vars(spec, "inputs") for spec in inputs]  # "STORE:VAR,VAR" (the store may be s3://...)
    return build_patches(inputs=pairs, labels=labels, out=out, size=size, neg_ratio=neg_ratio, splits=splits,
                         seed=seed, **options)


@task(name="build-windows")
def build_windows_task(store: str, var: str, out: str, history: int, horizon: int, options: dict) -> dict:
    from geopipe.datasets.windows import build_windows

    return build_windows(store=store, var=var, out=out, history=history, horizon=horizon, **options)


def _counts_rows(summary: dict) -> list[dict]:
    counts = summary.get("counts") or {}
    return [{"split": k, **(v if isinstance(v, dict) else {"n": v})} for k, v in counts.items()] or [summary]


@flow(name="build-patches", log_prints=True)
def build_patches(inputs: list[str], labels: str, out: str = STORES["patches"], size: int = PATCHES.size,
                  neg_ratio: float = PATCHES.neg_ratio, splits: str = PATCHES.splits, seed: int = PATCHES.seed,
                  options: dict | None = None, dask_address: str | None = None) -> dict:
    """Balanced patches: ``inputs`` like ``gfs.zarr:pwat,prmsl``; ``splits`` like ``A/B:train,C/D:val,E/F:test``."""
    with dask_cluster(dask_address):
        summary = build_patches_task(inputs, labels, out, size, neg_ratio, splits, seed, options or {})
    table_artifact("patches", _counts_rows(summary), f"patches in {out}: samples per split and class")
    return summary


@flow(name="build-windows", log_prints=True)
def build_windows(store: str, var: str = WINDOWS.var, out: str = STORES["windows"], history: int = WINDOWS.history,
                  horizon: int = WINDOWS.horizon, options: dict | None = None, dask_address: str | None = None) -> dict:
    """Sequence windows for SYM-H forecasting, split by whole storms."""
    with dask_cluster(dask_address):
        summary = build_windows_task(store, var, out, history, horizon, options or {})
    table_artifact("windows", _counts_rows(summary), f"windows in {out}: samples per split, storm and quiet")
    return summary
