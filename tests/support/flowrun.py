"""A process that runs one geopipe ingest flow against a real Prefect server (tests/test_store_lease.py).

    python -m tests.support.flowrun REQUEST.json

``REQUEST`` holds ``mode`` (``lease``: wait for the ``go`` file, then ingest ``inputs``
into ``store``; ``dask``: the same through :func:`flows.ingest.ingest_source` on the Dask
scheduler at ``dask_address``), ``storage_options``, ``log`` (the lease log, one
``<unix time> <pid> <message>`` line each) and ``result`` (JSON written at the end).
PREFECT_API_URL comes from the environment: the server is the lock.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import geopipe  # noqa: F401
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner


@flow(name="write-shared-store")
def write_store(inputs: list[str], store: str, storage_options: dict) -> dict:
    from geopipe.ingest import ingest

    return ingest("isgi", inputs, store, storage_options=storage_options, strict=True).to_dict()


@flow(name="ingest-on-dask", task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest_on_dask(inputs: list[str], store: str, storage_options: dict, dask_address: str) -> dict:
    from flows.ingest import ingest_source

    return ingest_source("isgi", inputs, store, storage_options=storage_options, dask_address=dask_address)


def _executed(address: str) -> dict:
    from distributed import Client

    with Client(address) as client:
        return client.run(lambda dask_worker: int(dask_worker.state.executed_count))


def main(path: str) -> None:
    req = json.loads(open(path).read())
    handler = logging.FileHandler(req["log"])
    handler.setFormatter(logging.Formatter("%(created).6f %(process)d %(message)s"))
    logging.getLogger("geopipe.lease").addHandler(handler)
    logging.getLogger("geopipe.lease").setLevel(logging.INFO)
    if req["mode"] == "lease":
        open(req["ready"], "w").close()
        while not os.path.exists(req["go"]):
            time.sleep(0.02)
        out = write_store(req["inputs"], req["store"], req["storage_options"])
    else:
        out = ingest_on_dask(req["inputs"], req["store"], req["storage_options"], req["dask_address"])
        out["executed_per_worker"] = _executed(req["dask_address"])
    with open(req["result"], "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1])
