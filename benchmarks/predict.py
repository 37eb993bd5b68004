"""Prediction at model speed: ``geopipe predict`` against the bare ``model.predict`` on the same arrays.

    .venv/bin/python benchmarks/predict.py [--times 8] [--filters 8]

* ``grid``: a 0.25 degree global store (1440 x 721, 2 channels pwat/prmsl, ``--times`` times,
  generated, physically shaped: a zonal profile, moist lows and noise) and an untrained
  U-Net (:func:`geopipe.models.unet.build_unet`, depth 4, ``--filters``) saved as a model
  folder.  geopipe: :func:`geopipe.predict.predict_grid` end to end (read the store,
  normalise, run the model, threshold, write probability + mask to Zarr).  Bare: the model's
  ``predict`` on the same inputs already normalised in memory, same times per call.
* ``forecast``: real Kyoto SYM-H/ASY-H (bundled ISGI sample, September 2017, 1-minute,
  whole file) and an untrained LSTM forecaster (:func:`geopipe.models.lstm.build_lstm`,
  120 minutes of history, leads 10/30/60 min).  geopipe:
  :func:`geopipe.predict.predict_forecasts` end to end; bare: ``predict`` on every window
  geopipe issues, gathered in memory beforehand.

``ratio`` = bare seconds / geopipe seconds for the grid (goal >= 0.8), ``forecast_ratio``
the same for SYM-H; ``*_cpu_ratio`` the same in CPU seconds (steadier on a shared
machine).  The model is loaded and run once before timing (TensorFlow's first call
traces).  One run each; ``load`` is the 1-minute load average before/after.  The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import geopipe  # noqa: F401  (pyproj before eccodes)

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store
from geopipe.models import io
from geopipe.predict import common

HISTORY, LEADS = 120, [10, 30, 60]


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def save_folder(path: Path, model, config: dict, normalization: dict) -> str:
    path.mkdir(parents=True, exist_ok=True)
    model.save(path / "model.keras")
    io.save_json(path, "config.json", config)
    io.save_json(path, "normalization.json", normalization)
    return str(path)


def grid_store(path: str, n_times: int, seed: int = 0) -> str:
    """A 0.25 degree global store of pwat (kg m-2) and prmsl (Pa), two times per chunk."""
    rng = np.random.default_rng(seed)
    lat, lon = 90 - 0.25 * np.arange(721), 0.25 * np.arange(1440)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    times = pd.date_range("2024-09-26", periods=n_times, freq="6h")
    for a in range(0, n_times, 2):
        pwat, prmsl = [], []
        for i in range(a, min(n_times, a + 2)):
            clat, clon = -15.0 - i, 160.0 + 2 * i
            dlon = (lo - clon + 180.0) % 360.0 - 180.0
            blob = np.exp(-((la - clat) ** 2 + (dlon * np.cos(np.deg2rad(clat))) ** 2) / (2 * 3.0 ** 2))
            pwat.append(20 + 15 * np.cos(np.deg2rad(la)) + 35 * blob + rng.normal(0, 1, la.shape))
            prmsl.append(101200 - 3500 * blob + rng.normal(0, 80, la.shape))
        dims = ("time", "latitude", "longitude")
        ds = xr.Dataset({"pwat": (dims, np.array(pwat, "f4"), {"units": "kg m-2"}),
                         "prmsl": (dims, np.array(prmsl, "f4"), {"units": "Pa"})},
                        coords={"time": times[a:a + 2], "latitude": ("latitude", lat, {"units": "degrees_north"}),
                                "longitude": ("longitude", lon, {"units": "degrees_east"})})
        store.append(ds, path, chunks={"time": 2})
    return path


def bench_grid(root: Path, n_times: int, filters: int) -> dict:
    from geopipe.models.unet import build_unet
    from geopipe.predict import predict_grid

    channels = ["pwat", "prmsl"]
    src = grid_store(str(root / "grid.zarr"), n_times)
    model_dir = save_folder(root / "unet", build_unet(2, depth=4, filters=filters),
                            {"kind": "unet", "task": "segmentation", "channels": channels, "threshold": 0.5,
                             "label": "event", "patch_size": 128},
                            {"channels": channels, "mean": [30.0, 101000.0], "std": [12.0, 900.0]})
    ds = store.open_store(src)
    mean, std = common.normalization(model_dir, channels)
    z = common.normalize(np.stack([ds[c].values for c in channels], axis=-1).astype("f4"), mean, std)
    model = common.model_for(model_dir, io.model_hash(model_dir))
    model.predict(z[:1], batch_size=1, verbose=0)  # trace once, for both (predict_on_batch shares it)
    summary, geo_s, geo_cpu = timed(lambda: predict_grid(model_dir, src, str(root / "pred.zarr")))
    tb = int(summary["time_block"])
    _, bare_s, bare_cpu = timed(lambda: model.predict(z, batch_size=tb, verbose=0))
    return {"grid": "721x1440", "times": n_times, "time_block": tb, "filters": filters,
            "geopipe_s": round(geo_s, 2), "geopipe_cpu_s": round(geo_cpu, 2),
            "bare_s": round(bare_s, 2), "bare_cpu_s": round(bare_cpu, 2),
            "ratio": round(bare_s / geo_s, 3), "cpu_ratio": round(bare_cpu / geo_cpu, 3)}


def bench_forecast(root: Path) -> dict:
    from geopipe.models.lstm import build_lstm
    from geopipe.predict import predict_forecasts
    from geopipe.predict.forecast import BATCH, windows_ok
    from geopipe.sample import real
    from geopipe.sources.isgi import ISGIReader

    ds = ISGIReader().open_dataset(str(real("isgi", "kyoto_asysym_iaga2002", "WWW_aeasy00025746.dat.txt.bz2")))
    ds = ds[["sym_h", "asy_h"]].load()
    src = str(root / "isgi.zarr")
    store.append(ds, src)
    channels = ["sym_h", "asy_h"]
    model_dir = save_folder(root / "lstm", build_lstm(2, HISTORY, len(LEADS)),
                            {"kind": "lstm", "task": "forecast", "target": "sym_h", "channels": channels,
                             "history": HISTORY, "leads": LEADS, "cadence_minutes": 1, "residual": True},
                            {"channels": channels, "mean": [-20.0, 30.0], "std": [10.0, 5.0]})
    mean, std = common.normalization(model_dir, channels)
    x = np.stack([ds[c].values for c in channels], axis=-1).astype("f8")
    ok = windows_ok(np.isnan(x).any(axis=1), HISTORY, 1)
    z = common.normalize(x, mean, std)
    issue = np.flatnonzero(ok)
    windows = z[issue[:, None] - np.arange(HISTORY - 1, -1, -1)[None, :]].astype("f4")
    model = common.model_for(model_dir, io.model_hash(model_dir))
    model.predict(windows[:BATCH], batch_size=BATCH, verbose=0)  # trace once, for both
    summary, geo_s, geo_cpu = timed(lambda: predict_forecasts(model_dir, src, str(root / "fc.zarr")))
    _, bare_s, bare_cpu = timed(lambda: model.predict(windows, batch_size=BATCH, verbose=0))
    return {"windows": int(len(issue)), "written": summary["written"], "history": HISTORY,
            "geopipe_s": round(geo_s, 2), "geopipe_cpu_s": round(geo_cpu, 2),
            "bare_s": round(bare_s, 2), "bare_cpu_s": round(bare_cpu, 2),
            "ratio": round(bare_s / geo_s, 3), "cpu_ratio": round(bare_cpu / geo_cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=8)
    parser.add_argument("--filters", type=int, default=8)
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="predict-bench-") as tmp:
        root = Path(tmp)
        grid = bench_grid(root, args.times, args.filters)
        forecast = bench_forecast(root)
    load1 = os.getloadavg()[0]
    print(json.dumps({"benchmark": "predict", "load": [round(load0, 1), round(load1, 1)],
                      "data": "grid: generated 0.25 degree fields; forecast: real Kyoto SYM-H (ISGI sample)",
                      "grid": grid, "forecast": forecast, "forecast_ratio": forecast["ratio"],
                      "cpu_ratio": grid["cpu_ratio"], "forecast_cpu_ratio": forecast["cpu_ratio"],
                      "ratio": grid["ratio"]}))


if __name__ == "__main__":
    main()
