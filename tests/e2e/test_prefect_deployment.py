"""End to end through a real Prefect server and worker, and the UI in headless Chromium.

Starts a Prefect server on a free loopback port, registers every deployment of
deploy/prefect.yaml, starts a process worker, triggers a deployment run, waits for it
through the API, checks the store it wrote, and screenshots the run's page in the UI.
Run with ``make test-e2e`` (it installs Debian's chromium first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import xarray as xr

from geopipe.serve import LocalPrefect

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                  "--hide-scrollbars", "--window-size=1500,950"]


def _chromium(args: list[str], profile: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed: run `make test-e2e`, which installs Debian's package"
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_deployment_run_through_server_worker_and_ui(tmp_path):
    out_dir = Path(os.environ.get("GEOPIPE_E2E_OUT", tmp_path / "e2e"))
    out_dir.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"
    with LocalPrefect(tmp_path / "prefect", data_root=str(data)) as prefect:
        prefect.create_pools()
        deployed = prefect.deploy()
        names = {d["name"] for d in prefect.api("POST", "/deployments/filter", {})}
        assert {"gfs-cycles", "goes-hourly", "ibtracs-weekly", "isgi-daily", "cyclone-retrain-weekly",
                "symh-retrain-weekly", "predict-after-gfs", "symh-sample"} <= names, deployed
        # schedules are attached as declared
        deps = {d["name"]: d for d in prefect.api("POST", "/deployments/filter", {})}
        crons = {s["schedule"].get("cron") for s in deps["gfs-cycles"]["schedules"]}
        assert crons == {"*/30 * * * *"}  # polls: each forecast hour is ingested as it is published

        prefect.start_worker("cpu")
        run_id = prefect.run_deployment("ingest-isgi/symh-sample")
        run = prefect.wait_for_run(run_id, timeout=600)
        assert run["state"]["type"] == "COMPLETED", (run["state"], (prefect.log_dir / "worker-cpu.log").read_text()[-3000:])

        ds = xr.open_zarr(data / "isgi-sample.zarr", consolidated=False)
        assert ds.sizes["time"] == 44640 and float(ds.sym_h.min()) == -146.0

        page = f"{prefect.url}/runs/flow-run/{run_id}"
        profile = tmp_path / "chromium-profile"
        dom = _chromium(["--virtual-time-budget=25000", "--dump-dom", page], profile)
        assert run["name"] in dom.stdout, dom.stderr[-2000:]
        shot = out_dir / "prefect-flow-run.png"
        _chromium(["--virtual-time-budget=25000", f"--screenshot={shot}", page], profile)
        assert shot.exists() and shot.stat().st_size > 20_000
