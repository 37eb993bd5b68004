"""Ingest flows: one task per input file, retried with backoff, cached on URL + size/etag.

One flow per registered reader (``ingest_<source>``, generated from
:data:`geopipe.sources.READERS`; GFS and GOES keep their own parameters), a generic ``ingest``
and ``ingest_recent`` (the last hours or days of any remote: the daily and real-time
schedules).  Remote inputs come from the reader's ``remote_inputs`` (the library decides what
``cycle="latest"`` or ``satellite="east"`` mean), resolved in the ``remote-inputs`` task: a
prefix that lists nothing or a cycle not out fails that task, so a GOES outage and a GFS outage
both fail the run (red), after the task's retries.  Each input then runs as one ``ingest_file``
task through the store layer (:func:`ingest_source`).  Downloads are bounded by the task runner's
worker count (``max_downloads``); progress shows as a Prefect progress artifact.
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


@task(name="remote-inputs", tags=["io"], **NETWORK_RETRIES)
def remote_inputs(source: str, start: str | None = None, end: str | None = None, remote: str | None = None,
                  options: dict | None = None) -> tuple[list[str], dict]:
    """The URLs a source's remote holds for [start, end] (listing and probing as the reader says)."""
    from geopipe.sources import reader_class

    plan = reader_class(source).remote_inputs(start, end, remote=remote, **(options or {}))
    urls = plan.resolve()
    get_run_logger().info("%s: %d remote inputs from %s", source, len(urls), plan.remote)
    return urls, plan.storage_options


def _remote(source, start, end, remote, options, retries) -> tuple[list[str], dict]:
    return remote_inputs.with_options(retries=retries)(source, start, end, remote, options)


def ingest_remote(source: str, start=None, end=None, remote: str | None = None, options: dict | None = None,
                  store: str | None = None, reader_options: dict | None = None, list_retries: int = 3,
                  dask_address: str | None = None) -> dict:
    """Resolve the remote inputs, then ingest them (one task per file)."""
    urls, storage_options = _remote(source, start, end, remote, options, list_retries)
    opts = dict(reader_options or {})
    if storage_options:
        opts["remote_options"] = storage_options
    return ingest_source(source, urls, store, opts, dask_address=dask_address)


@flow(name="ingest", task_runner=_runner(), log_prints=True)
def ingest(source: str, inputs: list[str] | None = None, start: str | None = None, end: str | None = None,
           remote: str | None = None, options: dict | None = None, store: str | None = None,
           list_retries: int = 3, dask_address: str | None = None) -> dict:
    """Any registered source: ``inputs`` (files, globs, URLs), or its remote over [start, end]
    (``options`` go to the reader's ``remote_inputs``, e.g. ``{"index": "Kp"}``)."""
    if start is not None or remote is not None:
        return ingest_remote(source, start, end, remote, options, store, list_retries=list_retries,
                             dask_address=dask_address)
    return ingest_source(source, list(inputs or []), store, options, dask_address=dask_address)


@flow(name="ingest-gfs", task_runner=_runner(), log_prints=True)
def ingest_gfs(inputs: list[str] | None = None, store: str | None = None, vars: list[str] | None = None,
               cycle: str | None = None, cycles: list[str] | None = None, fhours: str = "0",
               remote: str | None = None, resolution: str = "0p25", dask_address: str | None = None,
               poll_minutes: float = 0.0, poll_interval: float = 5.0, window_hours: float = 7.0,
               complete: bool = True, list_retries: int = 3) -> dict:
    """GFS GRIB2 files/URLs, or cycles fetched from a remote by ``.idx`` byte ranges.

    ``cycle="latest"``: the newest cycle whose requested files are published (``complete=False``:
    whose first one is), decided by the library by probing ``.idx``; ``cycles`` lists several (a
    backfill); ``remote`` is ``auto`` (NOMADS for recent cycles, else AWS), a catalog remote or a
    URL base.  With ``poll_minutes`` the cycle's hours are ingested as they are published, looking
    every ``poll_interval`` minutes (:func:`geopipe.sources.gfs_remote.poll`); a cycle still
    incomplete ``window_hours`` after its start fails naming the hours missing.
    """
    options = {"vars": vars} if vars else {}
    plan = {"fhours": fhours, "resolution": resolution, "complete": complete}
    if poll_minutes and cycle:
        return _poll_gfs(cycle, plan, remote or "auto", store, options, poll_minutes, poll_interval, window_hours,
                         list_retries, dask_address)
    urls: list[str] = list(inputs or [])
    for c in list(cycles or []) + ([cycle] if cycle else []):
        found, remote_options = _remote("gfs", None, None, remote or "auto", {**plan, "cycle": c}, list_retries)
        urls += found
        if remote_options:
            options["remote_options"] = remote_options
    return ingest_source("gfs", urls, store, options, dask_address=dask_address)


@task(name="gfs-latest-cycle", tags=["io"], **NETWORK_RETRIES)
def gfs_latest_cycle(fhours: str, remote: str, resolution: str, complete: bool) -> str:
    from geopipe.sources.gfs import parse_fhours
    from geopipe.sources.gfs_remote import latest_cycle

    return f"{latest_cycle(parse_fhours(fhours), remote, resolution, complete=complete):%Y-%m-%dT%H}"


def _poll_gfs(cycle, plan, remote, store, options, minutes, interval, window_hours, list_retries, dask_address):
    from geopipe.sources.gfs import parse_fhours
    from geopipe.sources.gfs_remote import poll

    if cycle == "latest":
        cycle = gfs_latest_cycle.with_options(retries=list_retries)(plan["fhours"], remote, plan["resolution"],
                                                                     plan["complete"])
    reports: list[dict] = []

    def ingest_published(urls: list[str], storage_options: dict) -> None:
        reports.append(ingest_source("gfs", urls, store, {**options, "remote_options": storage_options or None},
                                     dask_address=dask_address))

    result = poll(cycle, parse_fhours(plan["fhours"]), ingest_published, remote, plan["resolution"], minutes,
                  interval, window_hours)
    if result.missing:
        get_run_logger().warning("gfs %s: f%s not published yet; the next run picks them up", result.cycle,
                                 ", f".join(f"{h:03d}" for h in result.missing))
    return {"source": "gfs", "cycle": result.cycle, "ingested": result.ingested, "missing": result.missing,
            "rounds": result.rounds, "files": sum(r["files"] for r in reports),
            "written": sum(r["written"] for r in reports), "skipped": sum(r["skipped"] for r in reports),
            "quarantined": [q for r in reports for q in r["quarantined"]]}


@flow(name="ingest-goes", task_runner=_runner(), log_prints=True)
def ingest_goes(inputs: list[str] | None = None, store: str | None = None, grid: str | None = None,
                dask_address: str | None = None, satellite: str | None = None, start: str | None = None,
                end: str | None = None, product: str = "ABI-L2-CMIPF", bands: list[int] | None = None,
                storage_options: dict | None = None, list_retries: int = 3) -> dict:
    """GOES ABI L1b/L2 CMI NetCDF files or URLs, or a satellite's (``east``, ``west``, ``goes16`` ...)
    scans in [start, end) (optionally resampled to a catalog grid)."""
    options = {"grid": grid} if grid else {}
    urls = list(inputs or [])
    if satellite:
        found, remote_options = _remote("goes", start, end, satellite, {"product": product, "bands": bands,
                                                                         "storage_options": storage_options},
                                        list_retries)
        urls += found
        options["remote_options"] = remote_options
    return ingest_source("goes", urls, store, options, dask_address=dask_address)


@flow(name="ingest-goes-recent", task_runner=_runner(), log_prints=True)
def ingest_goes_recent(satellite: str = "east", product: str = "ABI-L2-CMIPF", bands: list[int] | None = None,
                       hours: float = 1.0, end: str | None = None, store: str | None = None,
                       grid: str | None = None, storage_options: dict | None = None, list_retries: int = 3) -> dict:
    """The last ``hours`` of a GOES product (the hourly schedule's flow).  An hour whose bucket
    prefix lists no scan fails the run (after the listing task's retries), naming the prefix."""
    import pandas as pd

    stop = pd.Timestamp(end) if end else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("10min")
    return ingest_goes(store=store, grid=grid, satellite=satellite, start=str(stop - pd.Timedelta(hours=hours)),
                       end=str(stop), product=product, bands=bands or [8, 13], storage_options=storage_options,
                       list_retries=list_retries)


@flow(name="ingest-recent", task_runner=_runner(), log_prints=True)
def ingest_recent(source: str = "isgi", remote: str | None = None, hours: float = 72.0, end: str | None = None,
                  options: dict | None = None, store: str | None = None, list_retries: int = 3) -> dict:
    """The last ``hours`` of a source's remote (Kyoto SYM-H daily, SWPC solar wind every few minutes).

    Monthly archives are fetched for the whole current month again; the store's gap filling and
    de-duplication make that a no-op for the minutes already held.
    """
    import pandas as pd

    stop = pd.Timestamp(end) if end else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("min")
    return ingest_remote(source, str(stop - pd.Timedelta(hours=hours)), str(stop), remote, options, store,
                         list_retries=list_retries)


def _source_flow(source: str):
    """``ingest_<source>``: files/URLs, or the source's remote over [start, end]."""

    def run(inputs: list[str] | None = None, store: str | None = None, start: str | None = None,
            end: str | None = None, remote: str | None = None, options: dict | None = None,
            dask_address: str | None = None) -> dict:
        return ingest.fn(source, inputs, start, end, remote, options, store, dask_address=dask_address)

    run.__name__ = run.__qualname__ = f"ingest_{source}"
    run.__doc__ = f"Ingest {source} files or URLs, or its catalog remote over [start, end] (``remote``)."
    return flow(name=f"ingest-{source}", task_runner=_runner(), log_prints=True)(run)


def _generate() -> None:
    from geopipe.sources import READERS

    for source in READERS:
        if f"ingest_{source}" not in globals():
            globals()[f"ingest_{source}"] = _source_flow(source)


_generate()
