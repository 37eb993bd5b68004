"""Training steps/s streaming SYM-H windows with solar-wind drivers from Zarr vs from memory.

Builds a real window store with :func:`geopipe.datasets.windows.build_windows` from the bundled
OMNI 1-min month (May 2024: SYM-H and the drivers; 5-min means, 2 h of history, the default
drivers + the Hill-Siscoe coupling + masks = 10 channels), then fits the demo's driver LSTM
(its linear skip held, gains on the index and driver parts) for the same epochs on the same
batch plan twice: ``StreamDataset`` reading chunk by chunk from Zarr, and
``StreamDataset(in_memory=True)``.  Runs alternate to even out a busy machine; the
best epoch of each counts.  Headline: ``ratio`` = streaming steps/s / memory steps/s (goal >= 0.9).

    .venv/bin/python benchmarks/train_windows.py [--epochs 20] [--batch-size 128] [--chunk 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import geopipe  # noqa: E402,F401  (pyproj before eccodes)
from geopipe.sample import REAL  # noqa: E402

MAY = REAL / "isgi" / "omni_swvo_csv" / "OMNI_HIGH_RES_1min_202405.csv"
SPLIT = "2024-05-01/2024-05-21:train,2024-05-23/2024-05-26:val,2024-05-28/2024-05-31:test"


def epoch_seconds(model, data) -> float:
    t0 = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20, help="timed epochs per path, alternating (the best is kept; 3 were too few to be stable)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=1024, help="windows per Zarr chunk")
    args = ap.parse_args()

    import keras

    from geopipe.cli import main as cli
    from geopipe.datasets.windows import build_windows
    from geopipe.models.data import SampleStore, StreamDataset, forecast_target
    from geopipe.models.lstm import build_lstm

    with tempfile.TemporaryDirectory(prefix="geopipe-bench-") as tmp:
        omni = os.path.join(tmp, "omni.zarr")
        cli(["ingest", "omni", str(MAY), "--store", omni])
        path = os.path.join(tmp, "windows.zarr")
        s = build_windows(omni, path, drivers=[(omni, [])], cadence="5min", history=24, horizon=24,
                          leads=[30, 60, 120], stride=1, splits=SPLIT, quiet_ratio=10.0, chunk=args.chunk)
        samples = SampleStore(path, "windows")
        stream = StreamDataset(samples, "train", args.batch_size, forecast_target, seed=0)
        memory = StreamDataset(SampleStore(path, "windows"), "train", args.batch_size, forecast_target, seed=0,
                               in_memory=True)
        n_ch, hist = len(samples.channels), int(samples.ds["x"].shape[1])
        keras.utils.set_random_seed(0)
        lin = (keras.random.normal((hist * n_ch, 3), seed=0).numpy() * 0.01, [0.0, 0.0, 0.0])
        model = build_lstm(n_ch, hist, 3, units=(32,), target_mean=float(samples.mean[0]),  # the demo's driver LSTM
                           target_std=float(samples.std[0]), linear=lin, squash=True, gain=True, train_linear=False,
                           gain_groups={"index": [0], "drivers": list(range(1, n_ch))})
        model.compile("adam", "mse")
        model.fit(memory, epochs=1, verbose=0)  # trace the graph once, outside the timings
        times = {"stream": [], "memory": []}
        for _ in range(args.epochs):
            for name, data in (("stream", stream), ("memory", memory)):
                times[name].append(epoch_seconds(model, data))
        steps = len(stream)
        best = {k: steps / min(v) for k, v in times.items()}
        print(json.dumps({
            "benchmark": "train_windows", "data": "bundled OMNI 1-min May 2024 (real), 5-min means",
            "windows_train": int(len(stream.rows)), "channels": samples.channels, "history_steps": hist,
            "batch_size": args.batch_size, "chunk_samples": samples.chunk, "steps_per_epoch": steps,
            "epochs_timed": args.epochs, "stream_steps_per_s": round(best["stream"], 3),
            "memory_steps_per_s": round(best["memory"], 3), "build_seconds": s["seconds"],
            "ratio": round(best["stream"] / best["memory"], 3)}))


if __name__ == "__main__":
    main()
