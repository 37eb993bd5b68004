"""Small real-format stores for the dataset builders, generated from a seed.

Grid stores hold float32 ``pwat`` and ``prmsl`` on (time, latitude, longitude), a global
regular grid; the labels store is aligned with it and holds uint8 ``mask`` discs (1, some 2
like the heuristic labeller) that drift in longitude, one of them across the dateline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store


def grid_dataset(times, ny: int, nx: int, seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    rng = np.random.default_rng(seed)
    lat = np.linspace(90, -90, ny)
    lon = np.arange(nx) * (360.0 / nx)
    nt = len(times)
    la, lo = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
    day = np.arange(nt)[:, None, None]
    # smooth, time-varying fields with a little noise (they compress like real fields do)
    pwat = (40 * np.cos(la) ** 2 + 5 * np.sin(3 * lo + 0.2 * day) + rng.normal(0, 1, (nt, ny, nx))).astype("f4")
    prmsl = (101325 - 1500 * np.sin(2 * la) * np.cos(2 * lo - 0.1 * day) + rng.normal(0, 50, (nt, ny, nx))).astype("f4")
    mask = np.zeros((nt, ny, nx), np.uint8)
    yy, xx = np.mgrid[0:ny, 0:nx]
    r2 = max(3, ny // 15) ** 2  # disc radius in grid points
    centres = [(ny // 3, 0.0, 1), (ny // 2, nx / 3, 1), (2 * ny // 3, 2 * nx / 3, 2)]
    for t in range(nt):
        for k, (cy, cx, cls) in enumerate(centres):
            x0 = (cx + 1.5 * t - (nx // 10 if k == 0 else 0)) % nx  # the first crosses the dateline early on
            y0 = cy + int(3 * np.sin(t / 5 + k))
            dx = np.minimum(np.abs(xx - x0), nx - np.abs(xx - x0))
            mask[t][(yy - y0) ** 2 + dx ** 2 <= r2] = cls
    coords = {"time": pd.DatetimeIndex(times).values, "latitude": lat, "longitude": lon}
    dims = ("time", "latitude", "longitude")
    grid = xr.Dataset({"pwat": (dims, pwat, {"units": "kg m-2"}), "prmsl": (dims, prmsl, {"units": "Pa"})}, coords=coords)
    labels = xr.Dataset({"mask": (dims, mask, {"long_name": "storm mask"})}, coords=coords)
    return grid, labels


def write_grid(root, times, ny=45, nx=90, seed=0, chunk=4) -> tuple[str, str]:
    grid, labels = grid_dataset(times, ny, nx, seed)
    g, lab = str(root / "grid.zarr"), str(root / "labels.zarr")
    store.append(grid, g, chunks={"time": chunk})
    store.append(labels, lab, chunks={"time": chunk})
    return g, lab


SPLIT = "2017-01-01/2017-02-28:train,2017-03-01/2017-03-31:val,2017-04-01/2017-04-30:test"


@pytest.fixture(scope="module")
def grid_stores(tmp_path_factory):
    """(grid store, labels store): daily, 2017-01-01 .. 2017-04-30, 4-degree global grid."""
    root = tmp_path_factory.mktemp("grid")
    return write_grid(root, pd.date_range("2017-01-01", "2017-04-30", freq="1D"))
