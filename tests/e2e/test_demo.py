"""The demo end to end, as a user runs it: `geopipe demo --json`, offline, then open every output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

pytestmark = pytest.mark.e2e

#: demo result key -> catalog product
PRODUCTS = {"gfs": "gfs", "goes": "goes", "ibtracs": "ibtracs", "isgi": "isgi", "labels_ibtracs": "labels_ibtracs",
            "labels_heuristic": "labels_heuristic", "patches": "patches", "windows": "windows",
            "predictions": "predictions", "forecasts": "forecasts"}
KEYS = {"gfs", "goes", "ibtracs", "isgi", "labels_ibtracs", "labels_heuristic", "patches", "windows",
        "unet_model", "lstm_model", "predictions", "forecasts", "maps",
        "omni", "windows_drivers", "lstm_drivers_model", "forecasts_drivers", "era5", "labels_era5", "unet_era5_model"}


@pytest.mark.timeout(2400)
def test_demo_runs_offline_and_every_output_opens(tmp_path):
    env = dict(os.environ, GEOPIPE_ROOT=str(tmp_path / "data"), PREFECT_HOME=str(tmp_path / "prefect"))
    env.pop("PREFECT_API_URL", None)  # the demo uses an ephemeral Prefect
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    exe = Path(sys.executable).with_name("geopipe")
    out = subprocess.run([str(exe), "demo", "--json"], env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    # TensorFlow/absl/eccodes lines go to the debug log, never to the user's terminal (geopipe/logs.py)
    noise = [ln for ln in (out.stdout + out.stderr).splitlines()
             if re.search(r"tensorflow|absl|oneDNN|cpu_feature_guard|ECCODES", ln, re.I)]
    assert not noise, noise[:5]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert KEYS <= set(result), sorted(KEYS - set(result))
    for key in KEYS - {"maps", "unet_model", "lstm_model", "lstm_drivers_model", "unet_era5_model"}:
        ds = xr.open_zarr(result[key], consolidated=False)
        assert ds.sizes, key
    assert_stores_match_catalog(result, exe, env)
    pred = xr.open_zarr(result["predictions"], consolidated=False)
    gfs = xr.open_zarr(result["gfs"], consolidated=False)
    assert (pred.latitude.values == gfs.latitude.values).all() and (pred.longitude.values == gfs.longitude.values).all()
    for key in ("unet_model", "lstm_model", "lstm_drivers_model", "unet_era5_model"):
        assert (Path(result[key]) / "model.keras").exists()
    assert len(result["maps"]) >= 3 and all(Path(p).stat().st_size > 20_000 for p in result["maps"])
    cyclones = result["metrics"]["cyclones"]
    assert {r["kind"] for r in cyclones["table"]} == {"zero", "climatology", "threshold", "logreg", "mlp", "unet"}
    assert cyclones["beats_zero"] is True  # the U-Net beats the all-zero mask on Dice
    # real ERA5: the U-Net, trained on the earlier weeks and tested on the later ones, beats every simpler rung
    era5 = result["metrics"]["era5"]
    assert era5["beats_every_rung_below"] is True, era5["verdict"]
    report = Path(result["metrics"]["symh"]["report"]).read_text()
    assert "persistence" in report and "LSTM" in report
    # the driver ladder on the bundled 2024 year: the May and October storms held out whole, scored one by one
    drivers = result["metrics"]["symh_drivers"]
    assert {"arx", "lstm_index", "lstm"} <= {r["kind"] for r in drivers["ladder"] if not r["skipped"]}
    assert any(s["min"] < -450 for s in drivers["test_storms"].values())
    assert any(n.startswith("2024-10") for n in drivers["test_storms"])
    assert "Published anchors" in Path(drivers["report"]).read_text()


def assert_stores_match_catalog(result: dict, exe: Path, env: dict) -> None:
    """Every demo store holds exactly what `geopipe catalog show NAME --json` declares."""
    from geopipe import layout

    for key, name in PRODUCTS.items():
        shown = subprocess.run([str(exe), "catalog", "show", name, "--json"], env=env, capture_output=True,
                               text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        declared = json.loads(shown.stdout)
        assert declared == layout.declaration(name), name
        held = layout.describe(result[key], name)
        assert set(held["variables"]) <= set(declared["variables"]) | _others(name, held), (name, held["variables"])
        assert held == layout.expected(name, held), name
        assert {k: held[k] for k in ("dims", "chunks")} == {k: declared[k] for k in ("dims", "chunks")}, name


def _others(name: str, held: dict) -> set:
    """Variables a product takes by name from its input (other_variables), e.g. GOES bands."""
    from geopipe.catalog import load

    return set(held["variables"]) if load().product(name).other_variables else set()
