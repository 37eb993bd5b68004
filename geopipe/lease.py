"""A writer lease for stores on object storage: a Prefect global concurrency limit of one slot.

S3, GCS and HTTP stores have no ``flock``; two flows (on two machines, or two deployments)
writing one ``s3://`` store at once would interleave their appends.  When a Prefect API is
configured (``PREFECT_API_URL``: a server, or Prefect Cloud), :func:`store_lease` holds the
single slot of the global concurrency limit :func:`lease_name` ``(url)`` while it writes: the
Prefect server is the lock.  The limit is created on first use with ``limit=1``; the lease is
renewed by Prefect while it is held (``lease_duration``), so a writer killed mid-write frees
the store when its lease expires.  Without a Prefect API (a plain ``geopipe ingest``) there is
no shared lock to take: the lease is skipped and one writer per object store is assumed, as
before.  Re-entrant within a process, like :func:`geopipe.store.store_lock`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re

from geopipe.reentrant import ReentrantHolds

log = logging.getLogger(__name__)

#: seconds a lease lives without renewal (Prefect renews it while the write runs)
LEASE_SECONDS = 120.0
#: seconds to wait for another writer before giving up
WAIT_SECONDS = float(os.environ.get("GEOPIPE_LEASE_TIMEOUT", "3600"))

_HELD = ReentrantHolds()  # lease name -> the Prefect concurrency context held by this process


def lease_name(url: str) -> str:
    """``geopipe-store-<bucket-and-path>-<8 hex>``: readable in the Prefect UI, unique per store URL."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", url.split("://", 1)[-1]).strip("-")[-80:]
    return f"geopipe-store-{readable}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"


def prefect_api() -> str | None:
    """The configured Prefect API URL, or None (no shared server to lock with)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _ensure_limit(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:  # another writer created it first
            pass


@contextlib.contextmanager
def store_lease(url: str, timeout: float | None = None):
    """Hold the writer lease of the object store ``url`` (see the module docstring)."""
    if not prefect_api():
        yield
        return
    name = lease_name(url)

    def take():
        from prefect.concurrency.sync import concurrency

        _ensure_limit(name)
        cm = concurrency(name, occupy=1, timeout_seconds=WAIT_SECONDS if timeout is None else timeout,
                         lease_duration=LEASE_SECONDS, strict=True)
        cm.__enter__()
        log.info("writer lease %s taken for %s", name, url)
        return cm

    def give_back(cm):
        cm.__exit__(None, None, None)
        log.info("writer lease %s released for %s", name, url)

    with _HELD.hold(name, take, give_back):
        yield
