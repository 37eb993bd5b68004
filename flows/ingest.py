"""Ingest flows: one task per input file, retried with backoff, cached on URL + size/etag.

``ingest_gfs``, ``ingest_goes``, ``ingest_ibtracs``, ``ingest_isgi``, ``ingest_omni`` all
call :func:`ingest_source`, which lists the inputs with the source's reader, then runs one
``ingest_file`` task per input through the store layer.  Downloads are bounded by the task
runner's worker count (``max_downloads``); progress shows as a Prefect progress artifact.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.task_runners import ThreadPoolTaskRunner

from flows.common import NETWORK_RETRIES, SEQUENCERS, InOrder, dask_cluster, table_artifact


def _file_key(context, parameters) -> str:
    """Cache key: source, input identity (size + mtime, or etag for URLs), target store."""
    from geopipe.config import is_url, resolve_store

    path = parameters["path"]
    ident = ""
    if is_url(path):
        import fsspec

        try:
            fs, p = fsspec.core.url_to_fs(path, **(parameters.get("storage_options") or {}))
            info = fs.info(p)
            ident = f"{info.get('size')}-{info.get('ETag') or info.get('etag') or info.get('mtime', '')}"
        except Exception:
            ident = "unknown"
    elif os.path.exists(path):
        st = os.stat(path)
        ident = f"{st.st_size}-{int(st.st_mtime)}"
    store = resolve_store(parameters["store"])
    from geopipe import store as _store

    if not _store.exists(store):
        return None  # nothing to be cached against: a new (or deleted and re-made) store
    return f"{parameters['source']}|{path}|{ident}|{store}|{_store.store_id(store)}"


@task(name="ingest-file", cache_key_fn=_file_key, cache_expiration=timedelta(days=30), persist_result=True,
      tags=["io"], **NETWORK_RETRIES)
def ingest_file(source: str, path: str, store: str, options: dict | None = None,
                storage_options: dict | None = None, sequencer: str | None = None, order: int = 0) -> dict:
    """Ingest one input into the store. A bad file is quarantined, never retried forever.

    With a ``sequencer`` the store write waits for this file's turn (input order)."""
    from geopipe.ingest import ingest

    gate = SEQUENCERS.get(sequencer) if sequencer else None
    report = ingest(source, [path], store, storage_options=storage_options,
                    write_gate=(lambda: gate.turn(order)) if gate else None, **(options or {}))
    return report.to_dict()


def ingest_source(source: str, inputs: list[str], store: str | None = None, options: dict | None = None,
                  storage_options: dict | None = None, dask_address: str | None = None) -> dict:
    """List the inputs of ``source`` and ingest each with its own task."""
    from geopipe.catalog import load
    from geopipe.sources import get_reader

    logger = get_run_logger()
    options = dict(options or {})
    store = store or load().store_path(load().source(source).product)
    files = get_reader(source, **options).find(inputs, storage_options=storage_options)
    logger.info("%s: %d inputs -> %s", source, len(files), store)
    progress = create_progress_artifact(progress=0.0, description=f"{source}: files ingested")
    reports = []
    key = f"{uuid.uuid4().hex}:{store}"
    SEQUENCERS[key] = order = InOrder()
    try:
        with dask_cluster(dask_address):
            futures = [ingest_file.submit(source, f, store, options, storage_options, key, i)
                       for i, f in enumerate(files)]
            for i, fut in enumerate(futures):
                fut.wait()
                order.finish(i)
                reports.append(fut.result())
                update_progress_artifact(progress, progress=100.0 * (i + 1) / max(1, len(futures)))
    finally:
        SEQUENCERS.pop(key, None)
    total = {"source": source, "store": store, "files": len(files),
             "written": sum(r["written"] for r in reports), "skipped": sum(r["skipped"] for r in reports),
             "quarantined": [q for r in reports for q in r["quarantined"]]}
    table_artifact(f"ingest-{source}", [{"file": f, "written": r["written"], "skipped": r["skipped"],
                                         "quarantined": len(r["quarantined"])} for f, r in zip(files, reports)],
                   f"{source} ingest into {store}")
    for q in total["quarantined"]:
        logger.warning("quarantined %s: %s", q["path"], q["reason"])
    return total


def _runner(max_downloads: int = 4) -> ThreadPoolTaskRunner:
    return ThreadPoolTaskRunner(max_workers=max_downloads)


@flow(name="ingest-gfs", task_runner=_runner(), log_prints=True)
def ingest_gfs(inputs: list[str] | None = None, store: str | None = None, vars: list[str] | None = None,
               cycle: str | None = None, cycles: list[str] | None = None, fhours: str = "0",
               remote: str | None = None, resolution: str = "0p25", dask_address: str | None = None) -> dict:
    """GFS GRIB2 files/URLs, or cycles fetched from a remote by ``.idx`` byte ranges.

    ``cycle="latest"`` takes the newest cycle that NOAA has had 3.5 hours to publish;
    ``cycles`` lists several (a backfill); ``remote`` is a catalog remote or a URL base.
    """
    from geopipe.sources.gfs import latest_cycle, parse_fhours, remote_urls

    options = {"vars": vars} if vars else {}
    wanted = list(cycles or []) + ([cycle] if cycle else [])
    urls: list[str] = []
    for c in wanted:
        found, remote_options = remote_urls(latest_cycle() if c == "latest" else c, parse_fhours(fhours),
                                            remote or "aws", resolution)
        urls += found
        if remote_options:
            options["remote_options"] = remote_options
    return ingest_source("gfs", list(inputs or []) + urls, store, options, dask_address=dask_address)


@flow(name="ingest-goes", task_runner=_runner(), log_prints=True)
def ingest_goes(inputs: list[str], store: str | None = None, grid: str | None = None,
                dask_address: str | None = None) -> dict:
    """GOES ABI L1b/L2 CMI NetCDF files or URLs (optionally resampled to a catalog grid)."""
    return ingest_source("goes", inputs, store, {"grid": grid} if grid else {}, dask_address=dask_address)


@flow(name="ingest-ibtracs", task_runner=_runner(), log_prints=True)
def ingest_ibtracs(inputs: list[str], store: str | None = None, basin: list[str] | None = None,
                   seasons: str | None = None, track_type: str = "default") -> dict:
    """IBTrACS CSV/NetCDF best tracks; a revised file replaces the rows of its storms."""
    options = {k: v for k, v in {"basin": basin, "seasons": seasons, "track_type": track_type}.items() if v}
    return ingest_source("ibtracs", inputs, store, options)


@flow(name="ingest-isgi", task_runner=_runner(), log_prints=True)
def ingest_isgi(inputs: list[str], store: str | None = None) -> dict:
    """ISGI / WDC Kyoto SYM-H, ASY-H, Dst, Kp files or URLs."""
    return ingest_source("isgi", inputs, store)


@flow(name="ingest-omni", task_runner=_runner(), log_prints=True)
def ingest_omni(inputs: list[str], store: str | None = None) -> dict:
    """OMNI 1-minute solar wind (CDAWeb CSV, OMNIWeb listings)."""
    return ingest_source("omni", inputs, store)


@flow(name="ingest-goes-recent", task_runner=_runner(), log_prints=True)
def ingest_goes_recent(satellite: str = "goes16", product: str = "ABI-L2-CMIPF", bands: list[int] | None = None,
                       hours: float = 1.0, end: str | None = None, store: str | None = None,
                       grid: str | None = None) -> dict:
    """The last ``hours`` of a GOES product from NOAA's bucket (the hourly schedule's flow)."""
    import pandas as pd

    from geopipe.sources.goes import list_remote

    stop = pd.Timestamp(end) if end else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("10min")
    urls = list_remote(satellite, product, stop - pd.Timedelta(hours=hours), stop, bands or [8, 13])
    if not urls:
        get_run_logger().warning("no %s %s files in the last %s h", satellite, product, hours)
        return {"source": "goes", "files": 0, "written": 0, "skipped": 0, "quarantined": []}
    return ingest_source("goes", urls, store, {"grid": grid} if grid else {})


@flow(name="ingest-isgi-recent", task_runner=_runner(), log_prints=True)
def ingest_isgi_recent(days: int = 3, remote: str | None = None, store: str | None = None) -> dict:
    """The last ``days`` of SYM-H/ASY-H from the catalog's ISGI remote (the daily schedule's flow).

    Kyoto and ISGI serve a month per request, so the current month is fetched again each day;
    the store's gap filling and de-duplication make that a no-op for the minutes already held.
    """
    import pandas as pd

    from geopipe.sources.urls import monthly

    end = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    urls, storage_options = monthly("isgi", end - pd.Timedelta(days=days), end, remote)
    return ingest_source("isgi", urls, store, {"remote_options": storage_options or None},
                         storage_options=storage_options or None)
