"""Training steps/s streaming patches from Zarr vs the same batches from memory.

Writes a patch store (64 x 64 x 4 channels, Zstd, the store's default ~8 MiB sample
chunks), then fits a small U-Net for the same epochs on the same batch plan twice:
``StreamDataset`` reading chunk by chunk from Zarr, and ``StreamDataset(in_memory=True)``
serving the split from RAM.  Runs alternate to even out a busy machine; the best epoch time
of each counts.  Headline: ``ratio`` = streaming steps/s / memory steps/s (goal >= 0.9).
Also reports the input pipeline alone (batches/s, no model).

    .venv/bin/python benchmarks/train_input.py [--samples 512] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import geopipe  # noqa: E402,F401  (pyproj before eccodes)
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from geopipe import store  # noqa: E402


def patch_dataset(n: int, size: int = 64, channels: int = 4, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(20, 5, (n, size, size, channels)).astype("float32")
    x = np.round(x, 1)  # like real fields: a few significant digits, so Zstd has work to do
    y = (rng.random((n, size, size)) < 0.05).astype("uint8")
    split = np.array(["train"] * (n - 32) + ["val"] * 16 + ["test"] * 16, dtype=object)
    return xr.Dataset({"x": (("sample", "iy", "ix", "channel"), x), "y": (("sample", "iy", "ix"), y),
                       "split": ("sample", split), "mean": ("channel", x.mean(axis=(0, 1, 2))),
                       "std": ("channel", x.std(axis=(0, 1, 2)))},
                      coords={"channel": [f"f{i}" for i in range(channels)]})


def epoch_seconds(model, data) -> float:
    t0 = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - t0


def input_batches_per_second(data) -> float:
    t0 = time.perf_counter()
    for i in range(len(data)):
        data[i]
    data.on_epoch_end()
    return len(data) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    import keras

    from geopipe.models.data import SampleStore, StreamDataset, mask_target
    from geopipe.models.losses import TverskyLoss
    from geopipe.models.unet import build_unet

    with tempfile.TemporaryDirectory(prefix="geopipe-bench-") as tmp:
        path = os.path.join(tmp, "patches.zarr")
        store.replace(patch_dataset(args.samples), path, dim="sample")
        samples = SampleStore(path, "patches")
        stream = StreamDataset(samples, "train", args.batch_size, mask_target, seed=0)
        memory = StreamDataset(SampleStore(path, "patches"), "train", args.batch_size, mask_target, seed=0,
                               in_memory=True)
        keras.utils.set_random_seed(0)
        model = build_unet(4, depth=4, filters=8)
        model.compile("adam", TverskyLoss())
        model.fit(memory, epochs=1, verbose=0)  # trace the graph once, outside the timings
        times = {"stream": [], "memory": []}
        for _ in range(args.epochs):
            for name, data in (("stream", stream), ("memory", memory)):
                times[name].append(epoch_seconds(model, data))
        steps = len(stream)
        best = {k: steps / min(v) for k, v in times.items()}
        pipe = {"stream": input_batches_per_second(stream), "memory": input_batches_per_second(memory)}
        print(json.dumps({
            "benchmark": "train_input", "samples": args.samples, "batch_size": args.batch_size,
            "chunk_samples": samples.chunk, "steps_per_epoch": steps, "epochs_timed": args.epochs,
            "stream_steps_per_s": round(best["stream"], 3), "memory_steps_per_s": round(best["memory"], 3),
            "input_only_stream_batches_per_s": round(pipe["stream"], 1),
            "input_only_memory_batches_per_s": round(pipe["memory"], 1),
            "ratio": round(best["stream"] / best["memory"], 3)}))


if __name__ == "__main__":
    main()
