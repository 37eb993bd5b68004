"""Pictures and logs in the Prefect UI: a training run's learning curve, ladder table and a map, in Chromium.

A real Prefect server and ``geopipe serve``'s figure server run on loopback ports; a process
with the worker's environment runs the ``train-unet``, ``predict`` and ``render-maps`` flows
against them on synthetic vortex patches (the models tests' fixture, generated from a seed).
The test checks through the API that geopipe's own INFO records reached the flow-run logs,
that the image artifacts point at the figure server and that it serves them, then
screenshots the runs' Artifacts tabs and the artifacts' pages in headless Chromium.
Set ``GEOPIPE_E2E_OUT`` to keep the screenshots (docs/ holds the committed ones).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from geopipe.serve import PROJECT, LocalPrefect
from tests.e2e.test_prefect_deployment import _chromium

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]

RUN_FLOWS = r"""
import numpy as np, pandas as pd, xarray as xr
from geopipe import store
from tests.models.conftest import vortex_patches
from flows.train import train_unet
from flows.predict import predict, render_maps

patches = vortex_patches(n=120)
store.replace(patches, "patches.zarr", dim="sample", chunks={"sample": 32},
              sources=[{"path": "synthetic:vortex_patches(n=120, seed=0)", "size": 0, "sha256": ""}])
summary = train_unet(patches="patches.zarr", out_root="models/cyclones",
                     params={"epochs": 3, "depth": 4, "filters": 8, "batch_size": 16, "device": "cpu"})
# two test patches with a vortex, laid on a 0.5-degree grid over the western Atlantic
test = np.flatnonzero((patches["split"].values == "test") & (patches["y"].values.reshape(120, -1).max(1) > 0))[:2]
x = patches["x"].values[test]
times = pd.date_range("2020-09-01T00", periods=len(test), freq="6h")
lat, lon = np.arange(35.0, 3.0, -0.5), np.arange(280.0, 312.0, 0.5)
grid = xr.Dataset({"pwat": (("time", "latitude", "longitude"), x[..., 0], {"units": "kg m-2"}),
                   "prmsl": (("time", "latitude", "longitude"), x[..., 1], {"units": "hPa"})},
                  coords={"time": times, "latitude": lat, "longitude": lon})
store.append(grid, "grid.zarr")
predict(model=summary["folders"]["unet"], store="grid.zarr", out="predictions.zarr")
render_maps(pred="predictions.zarr", times=[f"{times[0]:%Y-%m-%dT%H}"], out_dir="maps")
"""


def _runs(prefect: LocalPrefect, flow: str) -> list[dict]:
    return prefect.api("POST", "/flow_runs/filter", {"flows": {"name": {"any_": [flow]}}})


def _shoot(page: str, shot: Path, profile: Path, size: str = "1500,1900") -> None:
    _chromium(["--virtual-time-budget=30000", f"--window-size={size}", f"--screenshot={shot}", page], profile)
    assert shot.exists() and shot.stat().st_size > 20_000, page


def test_training_run_shows_logs_learning_curve_ladder_and_map_in_the_ui(tmp_path):
    out_dir = Path(os.environ.get("GEOPIPE_E2E_OUT", tmp_path / "e2e"))
    out_dir.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"
    with LocalPrefect(tmp_path / "prefect", data_root=str(data)) as prefect:
        figures = prefect.start_figures()
        env = prefect.env()
        done = subprocess.run([sys.executable, "-c", RUN_FLOWS], cwd=PROJECT, env=env, capture_output=True,
                              text=True, timeout=2000)
        assert done.returncode == 0, done.stderr[-3000:]
        train = _runs(prefect, "train-unet")[0]
        maps_run = _runs(prefect, "render-maps")[0]
        assert train["state"]["type"] == "COMPLETED"

        # geopipe's library records are on the flow-run page, not only Prefect's own
        logs = prefect.api("POST", "/logs/filter", {"logs": {"flow_run_id": {"any_": [train["id"]]}}, "limit": 200})
        mine = [lg["message"] for lg in logs if lg["name"].startswith("geopipe")]
        assert any(re.search(r"train unet: epoch 3/3 loss [\d.]+, val_loss", m) for m in mine), mine

        arts = prefect.api("POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [train["id"]]}}})
        by_key = {a["key"]: a for a in arts if a.get("key")}
        assert by_key["unet-ladder"]["type"] == "table"
        curve = by_key["unet-learning-curve"]
        url = re.search(r"\]\((http://127\.0\.0\.1:\d+/figures/[^)]+)\)", curve["data"]).group(1)
        assert url.startswith(figures) and url.endswith("learning_curve.png")
        with urllib.request.urlopen(url, timeout=10) as r:  # the figure server answers it ...
            assert r.headers["Content-Type"] == "image/png" and r.read(8) == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(urllib.error.HTTPError):  # ... and nothing outside the data root
            urllib.request.urlopen(f"{figures}/figures/../prefect/prefect.db", timeout=10)
        map_art = next(a for a in prefect.api("POST", "/artifacts/filter",
                                              {"artifacts": {"flow_run_id": {"any_": [maps_run["id"]]}}})
                       if (a.get("key") or "").startswith("map-"))
        assert "/figures/maps/cyclones_" in map_art["data"]

        profile = tmp_path / "chromium-profile"
        _shoot(f"{prefect.url}/runs/flow-run/{train['id']}?tab=Artifacts", out_dir / "prefect-train-artifacts.png",
               profile)
        _shoot(f"{prefect.url}/artifacts/artifact/{curve['id']}", out_dir / "prefect-learning-curve.png", profile,
               "1500,1300")
        _shoot(f"{prefect.url}/artifacts/artifact/{map_art['id']}", out_dir / "prefect-map-artifact.png", profile,
               "1500,1300")
        _shoot(f"{prefect.url}/runs/flow-run/{train['id']}?tab=Logs", out_dir / "prefect-train-logs.png", profile,
               "1500,1100")
