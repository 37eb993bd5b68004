"""Plumbing shared by the flows: Dask clusters, retries, artifacts. No science here."""

from __future__ import annotations

import contextlib
import logging
import json
import os
from collections.abc import Iterator

from prefect.tasks import exponential_backoff

from geopipe.store import WriteOrder

#: retry policy for anything touching the network: 4 tries, 2 s, 4 s, 8 s (+ jitter)
NETWORK_RETRIES = dict(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_jitter_factor=0.5)


#: the store's write order (appends reach a store in time order): kept here under its old name
InOrder = WriteOrder


def product_stores() -> dict[str, str]:
    """Each catalog product's store (``catalog/products.yaml``), relative to the data root: the flows'
    default store names, so they are declared once."""
    from geopipe.catalog import load

    return {name: product.store for name, product in load().products.items()}


#: sequencers of the running ingest flows, by key (flow run id + store)
SEQUENCERS: dict[str, InOrder] = {}


@contextlib.contextmanager
def dask_cluster(address: str | None = None, workers: int | None = None) -> Iterator[object | None]:
    """Run the heavy work of a flow on Dask distributed.

    ``address`` is a scheduler address (``tcp://host:8786``) to connect to, or ``"local"`` for
    a ``LocalCluster`` of ``workers`` processes (default 2) on this machine; ``None`` keeps
    Dask's default threaded scheduler.  geopipe's writers call ``dask.compute`` and so run on
    whichever client is current; each task owns whole Zarr chunks, so many workers write
    one store safely.
    """
    if not address:
        yield None
        return
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address == "local":
        n = workers or int(os.environ.get("GEOPIPE_DASK_WORKERS", "2"))
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.WARNING) as cluster, \
                Client(cluster) as client:
            yield client
    else:
        with Client(address) as client:
            yield client


def table_artifact(key: str, rows: list[dict], description: str) -> None:
    """A Prefect table artifact (shown in the UI), tolerant of NaN and numpy types."""
    from prefect.artifacts import create_table_artifact

    clean = json.loads(json.dumps(rows, default=lambda o: o.item() if hasattr(o, "item") else str(o)).replace("NaN", "null"))
    create_table_artifact(key=key, table=clean, description=description)


def markdown_artifact(key: str, markdown: str, description: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(key=key, markdown=markdown, description=description)


def image_artifact(key: str, png_path: str, description: str) -> None:
    """A figure (a learning curve, a map, a forecast plot) shown inline in a markdown artifact:
    from ``geopipe serve``'s figure server when it runs, else embedded (:mod:`geopipe.figures`)."""
    from geopipe.figures import markdown_image

    markdown_artifact(key, f"### {description}\n\n" + markdown_image(png_path, description), description)
