"""``build_labels``: best-track masks, the heuristic cyclone detector, geomagnetic storms."""

from __future__ import annotations

import json

from prefect import flow, get_run_logger, task

from flows.common import dask_cluster, markdown_artifact, product_stores, table_artifact

STORES = product_stores()


@task(name="label-ibtracs")
def label_ibtracs_task(grid_store: str, tracks: str, out: str, box: int | None, radius_km: float | None,
                       window: str | None) -> dict:
    from geopipe.labels.roi import label_ibtracs

    return label_ibtracs(grid_store, tracks, out, box=box, radius_km=radius_km, window=window)


@task(name="label-heuristic")
def label_heuristic_task(store: str, out: str, tracks: str | None) -> dict:
    from geopipe.labels.heuristic import heuristic_labels

    return heuristic_labels(store, out, tracks=tracks)


@task(name="label-storms")
def label_storms_task(store: str, out: str) -> dict:
    from geopipe.labels.storms import label_storms

    return label_storms(store, out)


@flow(name="build-labels", log_prints=True)
def build_labels(grid_store: str | None = None, tracks: str | None = None,
                 ibtracs_out: str | None = STORES["labels_ibtracs"], heuristic_out: str | None = STORES["labels_heuristic"],
                 box: int | None = None, radius_km: float | None = None, window: str | None = None,
                 isgi_store: str | None = None, storms_out: str | None = STORES["storms"],
                 dask_address: str | None = None) -> dict:
    """Label what the arguments name: ROI masks (grid + tracks), heuristic cyclones (grid), storms (ISGI).
    ``box``/``radius_km``/``window`` left out: the catalog's (``catalog/labels.yaml``)."""
    logger = get_run_logger()
    out: dict = {}
    with dask_cluster(dask_address):
        if grid_store and tracks and ibtracs_out:
            out["ibtracs"] = label_ibtracs_task(grid_store, tracks, ibtracs_out, box, radius_km, window)
        if grid_store and heuristic_out:
            out["heuristic"] = label_heuristic_task(grid_store, heuristic_out, tracks)
            skill = out["heuristic"].get("skill")
            if skill:
                table_artifact("heuristic-skill", [skill if isinstance(skill, dict) else {"skill": skill}],
                               "Heuristic detector against IBTrACS (POD, FAR, CSI; match within 300 km and 6 h)")
        if isgi_store and storms_out:
            out["storms"] = label_storms_task(isgi_store, storms_out)
    markdown_artifact("labels-summary", "```json\n" + json.dumps(out, indent=1, default=str)[:20000] + "\n```",
                      "labels written")
    logger.info("labels: %s", json.dumps(out, default=str)[:2000])
    return out
