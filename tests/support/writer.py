"""A writer process for the kill and concurrency tests.

    python -m tests.support.writer STORE START N BATCH [--die-after-resizes K]

appends N six-hourly steps of a deterministic field (from START, in batches of BATCH steps)
to STORE through geopipe.store.append.  ``--die-after-resizes K`` makes the process SIGKILL
itself after K array resizes of the publish phase (a failpoint inside the metadata window).
"""

from __future__ import annotations

import argparse
import os
import signal

import geopipe  # noqa: F401
import numpy as np
import pandas as pd
import xarray as xr

NY, NX = 91, 180


def field(times: pd.DatetimeIndex) -> xr.Dataset:
    """Deterministic fields: the value at each step depends only on its time."""
    hours = ((times - pd.Timestamp("2000-01-01")) / pd.Timedelta("1h")).to_numpy()
    lat = np.linspace(90, -90, NY)
    lon = np.arange(NX) * 2.0
    base = np.cos(np.deg2rad(lat))[:, None] * np.sin(np.deg2rad(lon))[None, :]
    pwat = (20 + 10 * base[None] + (hours % 97)[:, None, None]).astype("f4")
    prmsl = (101325 - 500 * base[None] + hours[:, None, None]).astype("f4")
    return xr.Dataset(
        {"pwat": (("time", "latitude", "longitude"), pwat, {"units": "kg m-2", "long_name": "precipitable water"}),
         "prmsl": (("time", "latitude", "longitude"), prmsl, {"units": "Pa", "long_name": "mean sea level pressure"}),
         "step": ("time", pd.to_timedelta(np.zeros(len(times)), "h"))},
        coords={"time": times, "latitude": lat, "longitude": lon},
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("start")
    p.add_argument("n", type=int)
    p.add_argument("batch", type=int)
    p.add_argument("--die-after-resizes", type=int, default=None)
    args = p.parse_args()
    from geopipe import store

    if args.die_after_resizes is not None:
        import zarr

        count = {"n": 0}
        original = zarr.Array.resize

        def resize(self, *a, **k):
            original(self, *a, **k)
            count["n"] += 1
            if count["n"] >= args.die_after_resizes:
                os.kill(os.getpid(), signal.SIGKILL)

        zarr.Array.resize = resize
    times = pd.date_range(args.start, periods=args.n, freq="6h")
    for i in range(0, args.n, args.batch):
        store.append(field(times[i:i + args.batch]), args.store, chunks={"time": 2})


if __name__ == "__main__":
    main()
