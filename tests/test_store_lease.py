"""Writers of one object store, beyond one machine: a real Prefect server, moto S3, a real Dask cluster.

* two flows (two processes) write one ``s3://`` store at once: the Prefect global concurrency
  lease named after the store lets one write at a time, and the store equals one ingest of both
* a flow on ``dask scheduler`` + two ``dask worker`` processes, each in its own folder (no
  shared filesystem with the driver: the store is on S3) gives the same store as a local run
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from geopipe.lease import lease_name
from geopipe.sample import REAL
from tests.support.s3 import loopback_s3

ROOT = Path(__file__).resolve().parents[1]
INPUTS = [str(REAL / "isgi" / "kyoto_asysym_iaga2002" / "WWW_aeasy00025746.dat.txt.bz2"),
          str(REAL / "isgi" / "dst2000_kyoto_wdc_hourly.txt")]


@pytest.fixture(scope="module")
def prefect(tmp_path_factory):
    from geopipe.serve import LocalPrefect

    with LocalPrefect(tmp_path_factory.mktemp("prefect")) as server:
        yield server


@pytest.fixture(scope="module")
def s3():
    with loopback_s3("geodata") as server:
        yield server.storage_options()


def _start(prefect, tmp: Path, name: str, **request) -> tuple[subprocess.Popen, dict]:
    request.update(log=str(tmp / f"{name}.log"), result=str(tmp / f"{name}.json"), ready=str(tmp / f"{name}.ready"))
    (tmp / f"{name}.req").write_text(json.dumps(request))
    env = prefect.env()
    env["GEOPIPE_ROOT"] = str(tmp / f"{name}-root")
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.flowrun", str(tmp / f"{name}.req")], cwd=ROOT,
                            env=env, stdout=open(tmp / f"{name}.out", "w"), stderr=subprocess.STDOUT)
    return proc, request


def _wait(proc: subprocess.Popen, request: dict, tmp: Path, name: str, timeout: float = 420) -> dict:
    assert proc.wait(timeout=timeout) == 0, (tmp / f"{name}.out").read_text()[-3000:]
    return json.loads(Path(request["result"]).read_text())


def _local(tmp: Path) -> xr.Dataset:
    from geopipe.ingest import ingest

    ingest("isgi", INPUTS, str(tmp / "local.zarr"), strict=True)
    return xr.open_zarr(tmp / "local.zarr", consolidated=False).load()


def _same_values(a: xr.Dataset, b: xr.Dataset) -> None:
    assert sorted(a.data_vars) == sorted(b.data_vars)
    np.testing.assert_array_equal(a.time.values, b.time.values)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_two_flows_take_turns_on_one_s3_store(prefect, s3, tmp_path):
    store = "s3://geodata/isgi-shared.zarr"
    procs = [_start(prefect, tmp_path, f"writer{i}", mode="lease", inputs=[path], store=store, storage_options=s3,
                    go=str(tmp_path / "go")) for i, path in enumerate(INPUTS)]
    deadline = time.monotonic() + 300
    while not all(os.path.exists(req["ready"]) for _, req in procs):
        assert time.monotonic() < deadline and all(p.poll() is None for p, _ in procs), "a writer did not start"
        time.sleep(0.1)
    (tmp_path / "go").touch()  # both flows start writing at the same moment
    results = [_wait(p, req, tmp_path, f"writer{i}") for i, (p, req) in enumerate(procs)]
    assert [r["files"] for r in results] == [1, 1]
    spans = []
    for _, req in procs:
        events = [line.split(" ", 2) for line in Path(req["log"]).read_text().splitlines()]
        taken = [float(t) for t, _, msg in events if msg.startswith(f"writer lease {lease_name(store)} taken")]
        released = [float(t) for t, _, msg in events if msg.startswith(f"writer lease {lease_name(store)} released")]
        assert len(taken) == len(released) == 1, events
        spans.append((taken[0], released[0]))
    (a0, a1), (b0, b1) = sorted(spans)
    assert a1 <= b0, f"the two writers held the store at once: {spans}"
    limit = prefect.api("GET", f"/v2/concurrency_limits/{lease_name(store)}")
    assert (limit["limit"], limit["active_slots"]) == (1, 0)
    shared = xr.open_zarr(store, consolidated=False, storage_options=s3).load()
    _same_values(shared, _local(tmp_path))


def test_a_flow_on_a_multiprocess_dask_cluster_writes_the_same_store_as_a_local_run(prefect, s3, tmp_path):
    dask = [str(Path(sys.executable).with_name("dask"))]
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                              "--scheduler-file", str(sched_file)], cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "w")))
        deadline = time.monotonic() + 180
        while not sched_file.exists():
            assert time.monotonic() < deadline and procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):  # each worker in its own folder, with its own data root: nothing shared but S3
            home = tmp_path / f"worker{i}"
            home.mkdir()
            env = dict(os.environ, GEOPIPE_ROOT=str(home / "data"))
            procs.append(subprocess.Popen(dask + ["worker", address, "--nthreads", "1", "--no-dashboard",
                                                  "--local-directory", str(home)], cwd=home, env=env,
                                          stdout=subprocess.DEVNULL, stderr=open(home / "worker.log", "w")))
        from distributed import Client

        with Client(address, timeout=180) as client:
            client.wait_for_workers(2, timeout=180)
        store = "s3://geodata/isgi-dask.zarr"
        proc, req = _start(prefect, tmp_path, "driver", mode="dask", inputs=INPUTS, store=store, storage_options=s3,
                           dask_address=address)
        result = _wait(proc, req, tmp_path, "driver")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    assert result["files"] == 2 and not result["quarantined"]
    executed = result["executed_per_worker"]
    assert len(executed) == 2 and sum(executed.values()) > 0, executed
    for i in range(2):
        assert not (tmp_path / f"worker{i}" / "data").exists()
    shared = xr.open_zarr(store, consolidated=False, storage_options=s3).load()
    _same_values(shared, _local(tmp_path))
