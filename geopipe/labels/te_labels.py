"""Labels from TempestExtremes files: users who already run DetectNodes/StitchNodes feed geopipe.

``label_te_tracks(grid_store, path, out, radius_km=500)`` reads a StitchNodes GFDL track file
or a DetectNodes node file (:mod:`geopipe.labels.tefiles`) and marks, at every time of the grid
store, a great-circle disc of ``radius_km`` around each node listed at that time (tracks: the
nodes on a path; node files: every node).  The masks (``mask`` uint8, 1 = storm) are appended
to ``out`` on the grid's own coordinates, per time chunk, like the best-track masks.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.errors import InputError, StoreError
from geopipe.labels import tefiles
from geopipe.labels.roi import disc_mask
from geopipe.geometry import Grid, wrap180


def _block(times, nodes: pd.DataFrame, lat, lon, radius_km: float) -> np.ndarray:
    grid = Grid(lat, lon)
    out = np.zeros((len(times), grid.ny, grid.nx), np.uint8)
    by_time = {t: g for t, g in nodes.groupby("time")}
    for i, t in enumerate(pd.DatetimeIndex(times)):
        here = by_time.get(t)
        if here is not None:
            out[i] = disc_mask(grid, here["lat"].to_numpy(), here["lon"].to_numpy(), radius_km)
    return out


def te_masks(grid_ds: xr.Dataset, nodes: pd.DataFrame, radius_km: float, chunk: int = 8) -> xr.DataArray:
    """Lazy uint8 masks (time, latitude, longitude): discs around ``nodes`` (columns time, lat, lon)."""
    times = grid_ds["time"].values
    lat, lon = grid_ds["latitude"].values, grid_ds["longitude"].values
    Grid(lat, lon)
    blocks = []
    for a in range(0, len(times), chunk):
        t = times[a:a + chunk]
        sub = nodes[nodes["time"].isin(pd.DatetimeIndex(t))]
        task = dask.delayed(_block)(t, sub, lat, lon, radius_km)
        blocks.append(da.from_delayed(task, shape=(len(t), lat.size, lon.size), dtype=np.uint8))
    data = da.concatenate(blocks) if blocks else da.zeros((0, lat.size, lon.size), np.uint8)
    return xr.DataArray(data, dims=("time", "latitude", "longitude"), name="mask",
                        coords={"time": grid_ds["time"], "latitude": grid_ds["latitude"], "longitude": grid_ds["longitude"]},
                        attrs={"long_name": "TempestExtremes storm region", "flag_values": [0, 1],
                               "flag_meanings": "none storm", "method": "disc", "radius_km": float(radius_km)})


def label_te_tracks(grid_store: str, path: str, out: str, radius_km: float = 500.0, columns=None,
                    chunk: int = 8, root=None) -> dict:
    """Append disc masks of the nodes in TempestExtremes file ``path`` for the times ``out`` lacks."""
    if radius_km <= 0:
        raise InputError(str(path), f"the disc radius must be positive (got {radius_km} km)")
    table = tefiles.read_any(path, columns)
    kind = "tracks" if (table["track"] >= 0).any() else "nodes"
    nodes = table[(table["track"] >= 0) | (kind == "nodes")].assign(lon=lambda t: wrap180(t["lon"]))
    grid_ds = _store.open_store(grid_store, root)
    for d in ("time", "latitude", "longitude"):
        if d not in grid_ds.dims:
            raise InputError(grid_store, f"has no {d!r} dimension (dims: {list(grid_ds.dims)})")
    have = pd.DatetimeIndex([])
    if _store.exists(out, root):
        stored = _store.open_store(out, root)
        if stored["mask"].attrs.get("radius_km") != float(radius_km):
            raise StoreError(f"{out}: its masks were made with radius_km={stored['mask'].attrs.get('radius_km')}; "
                             f"write masks of another radius to another store")
        have = pd.DatetimeIndex(stored.indexes["time"])
    todo = grid_ds[["time"]].isel(time=np.flatnonzero(~pd.DatetimeIndex(grid_ds.indexes["time"]).isin(have)))
    todo = todo.assign_coords(latitude=grid_ds["latitude"], longitude=grid_ds["longitude"])
    summary = {"store": str(out), "source": str(path), "kind": kind, "written": 0, "skipped": len(have),
               "nodes": int(nodes["time"].isin(pd.DatetimeIndex(todo["time"].values)).sum()),
               "tracks": int(nodes["track"].nunique()) if kind == "tracks" else 0, "radius_km": float(radius_km)}
    if not todo.sizes["time"]:
        return summary
    mask = te_masks(todo, nodes, radius_km, chunk)
    mask.attrs.update(source_file=str(path), grid_store=str(grid_store))
    ds = mask.to_dataset()
    ds.attrs.update(title="TempestExtremes storm masks", source=f"geopipe labels tracks from {path}")
    summary["written"] = _store.append(ds, out, product="labels_tracks", chunks={"time": chunk}, root=root).written
    return summary
