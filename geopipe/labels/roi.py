"""Best-track regions of interest: where the storms of a track table were at each grid time.

``roi_masks(grid, tracks, box=25)`` marks, at every time of ``grid``, a square of N x N grid
pixels around each active storm (``radius_km=R`` marks a great-circle disc instead).
A storm is *active* at time t from ``window`` before its first fix to ``window`` after its
last; its position is interpolated linearly in time between fixes, the short way round in
longitude, so a storm crossing the dateline does not jump across the globe
(:func:`geopipe.tracks.positions`).

Boxes: the N pixels whose centres are nearest the storm in each axis (for odd N the storm's
nearest pixel is the middle one).  Clipped at the grid's latitude edges (near the poles the
box is cut short, not shifted), wrapped in longitude on global grids (0..360 and -180..180
grids give the same boxes), clipped on regional ones.

``label_ibtracs(grid_store, tracks_store, out)`` does this for a whole store, per time chunk
with Dask, and appends the result to ``out`` (``mask``, uint8, on the grid's own coords).
"""

from __future__ import annotations

import dataclasses
import logging

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import progress
from geopipe import store as _store
from geopipe import tracks as _tracks
from geopipe.config import resolve_store
from geopipe.errors import InputError, ParameterError, StoreError
from geopipe.labels.settings import Settings
from geopipe.geometry import EARTH_RADIUS_KM, Grid

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RoiParams(Settings):
    section = "roi"
    box: int | None
    radius_km: float | None
    window: str

    def method(self) -> str:
        return "disc" if self.radius_km else "box"


# ----------------------------------------------------------------------------- masks


def box_mask(grid: Grid, lat, lon, box: int) -> np.ndarray:
    """(ny, nx) bool: the N x N pixel boxes around points ``lat``, ``lon`` (k,)."""
    lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
    if box < 1:
        raise ValueError(f"box must be at least 1 pixel (got {box})")
    k = lat.size
    off = np.arange(box)
    # first pixel of the N nearest: round(f - (N-1)/2), halves rounding up
    r0 = np.floor(grid.row(lat) - (box - 1) / 2 + 0.5).astype(int)
    c0 = np.floor(grid.col(lon) - (box - 1) / 2 + 0.5).astype(int)
    rows = r0[:, None] + off
    cols = c0[:, None] + off
    R = np.zeros((k, grid.ny), np.float32)
    keep = (rows >= 0) & (rows < grid.ny)
    R[np.nonzero(keep)[0], rows[keep]] = 1
    C = np.zeros((k, grid.nx), np.float32)
    if grid.periodic:
        cols = cols % grid.nx
        keep = np.ones_like(cols, bool)
    else:
        keep = (cols >= 0) & (cols < grid.nx)
    C[np.nonzero(keep)[0], cols[keep]] = 1
    # storm k covers rows R[k] x cols C[k]; the union over storms is a product summed over k
    return (R.T @ C) > 0


def disc_mask(grid: Grid, lat, lon, radius_km: float) -> np.ndarray:
    """(ny, nx) bool: pixels within ``radius_km`` great-circle distance of any point (k,)."""
    lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
    out = np.zeros((grid.ny, grid.nx), bool)
    if not lat.size:
        return out
    limit = np.cos(min(radius_km / EARTH_RADIUS_KM, np.pi))
    radius_deg = np.rad2deg(radius_km / EARTH_RADIUS_KM)
    for la, lo in zip(lat, lon):
        # only the rows the disc can reach (a pole inside the disc reaches every longitude)
        rows = np.flatnonzero(np.abs(grid.lat - la) <= radius_deg + 1e-9)
        if rows.size:
            out[rows] |= grid.cos_distance(la, lo, rows)[0] >= limit
    return out


def _mask_block(times: np.ndarray, pos: pd.DataFrame, lat, lon, box, radius_km) -> np.ndarray:
    """(t, ny, nx) uint8 masks for one chunk of times."""
    grid = Grid(lat, lon)
    out = np.zeros((len(times), grid.ny, grid.nx), np.uint8)
    by_time = dict(tuple(pos.groupby("time"))) if len(pos) else {}
    for i, t in enumerate(pd.DatetimeIndex(times)):
        here = by_time.get(t)
        if here is None or not len(here):
            continue
        la, lo = here["lat"].to_numpy(), here["lon"].to_numpy()
        m = disc_mask(grid, la, lo, radius_km) if radius_km else box_mask(grid, la, lo, box)
        out[i] = m
    return out


def roi_masks(grid_ds: xr.Dataset, tracks, box: int | None = None, radius_km: float | None = None,
              window: str | None = None, chunk: int = 8) -> xr.DataArray:
    """Storm masks on the grid of ``grid_ds`` (dims time, latitude, longitude).

    Returns a lazy uint8 DataArray (time, latitude, longitude), chunked by ``chunk`` times,
    with the grid's own coordinates: 1 where a storm's box (or disc) lies, else 0.
    """
    params = _roi_params(box, radius_km, window)
    for d in ("time", "latitude", "longitude"):
        if d not in grid_ds.dims:
            raise StoreError(f"the grid has no {d!r} dimension (dims: {list(grid_ds.dims)})")
    times = grid_ds["time"].values
    lat, lon = grid_ds["latitude"].values, grid_ds["longitude"].values
    Grid(lat, lon)  # refuse irregular grids here, not inside a worker
    pos = _tracks.positions(times, _tracks.load(tracks), window=params.window)
    blocks = []
    for a in range(0, len(times), chunk):
        t = times[a:a + chunk]
        sub = pos[pos["time"].isin(pd.DatetimeIndex(t))]
        block = dask.delayed(_mask_block)(t, sub, lat, lon, params.box, params.radius_km)
        blocks.append(da.from_delayed(block, shape=(len(t), lat.size, lon.size), dtype=np.uint8))
    data = da.concatenate(blocks) if blocks else da.zeros((0, lat.size, lon.size), np.uint8)
    return xr.DataArray(data, dims=("time", "latitude", "longitude"),
                        coords={"time": grid_ds["time"], "latitude": grid_ds["latitude"], "longitude": grid_ds["longitude"]},
                        name="mask", attrs=_mask_attrs(params))


def _roi_params(box, radius_km, window) -> RoiParams:
    """The catalog's ``roi`` settings with a box OR a radius given here replacing the catalog's shape."""
    if box and radius_km:
        raise ParameterError(("box", "radius_km"), "give a box or a radius, not both")
    params = RoiParams.load(window=window)
    if radius_km:
        params = dataclasses.replace(params, box=None, radius_km=float(radius_km))
    elif box:
        params = dataclasses.replace(params, box=int(box), radius_km=None)
    elif params.radius_km:  # the catalog itself asks for discs
        params = dataclasses.replace(params, box=None)
    if not params.box and not params.radius_km:
        raise ParameterError(("box", "radius_km"), "give a box size (pixels) or a radius (km)")
    return params


def _mask_attrs(params: RoiParams) -> dict:
    attrs = {"long_name": "best-track storm region", "flag_values": [0, 1], "flag_meanings": "none storm",
             "method": params.method(), "window": params.window}
    if params.radius_km:
        attrs["radius_km"] = float(params.radius_km)
    else:
        attrs["box_pixels"] = int(params.box)
    return attrs


# ----------------------------------------------------------------------------- whole stores


def _stored_times(out: str, root=None) -> pd.Index:
    if not _store.exists(out, root):
        return pd.DatetimeIndex([])
    return pd.Index(_store.open_store(out, root).indexes["time"])


def label_ibtracs(grid_store: str, tracks_store: str, out: str, box: int | None = None,
                  radius_km: float | None = None, window: str | None = None, chunk: int | None = None,
                  root=None) -> dict:
    """Append best-track masks for the times of ``grid_store`` that ``out`` lacks.

    Returns a small summary: times written and skipped, storms and pixels marked.
    """
    from geopipe import layout

    params = _roi_params(box, radius_km, window)
    grid_ds = _store.open_store(grid_store, root)
    tracks_ds = _store.open_store(tracks_store, root)
    chunk = chunk or layout.chunks("labels_ibtracs")["time"]
    have = _stored_times(out, root)
    if len(have):
        stored = _store.open_store(out, root)["mask"].attrs
        wanted = _mask_attrs(params)
        differs = [k for k in ("method", "box_pixels", "radius_km", "window") if stored.get(k) != wanted.get(k)]
        if differs:
            raise StoreError(f"{out}: its masks were made with {', '.join(f'{k}={stored.get(k)}' for k in differs)}; "
                             f"write masks made another way to another store")
    todo = grid_ds[["time"]].isel(time=np.flatnonzero(~pd.Index(grid_ds.indexes["time"]).isin(have)))
    todo = todo.assign_coords(latitude=grid_ds["latitude"], longitude=grid_ds["longitude"])
    try:
        tracks = _tracks.load(tracks_ds)
    except KeyError as exc:
        raise InputError(tracks_store, f"not a best-track store: {exc.args[0]}") from None
    shape = {"radius_km": params.radius_km} if params.radius_km else {"box": params.box}
    summary = {"store": resolve_store(out, root), "written": 0, "skipped": len(have), "storms": 0,
               "positions": 0, "method": params.method(), **shape, "window": params.window}
    if not todo.sizes["time"]:
        return summary
    mask = roi_masks(todo, tracks, params.box, params.radius_km, params.window, chunk=chunk)
    # how the masks were made; the best-track files themselves go to the store's provenance
    mask.attrs.update(tracks_store=str(tracks_store), grid_store=str(grid_store))
    ds = mask.to_dataset()
    ds.attrs.update(title="Best-track storm masks", source=f"geopipe labels ibtracs from {tracks_store}")
    with progress.Progress("labels ibtracs", ds.sizes["time"], "time steps") as bar, \
            progress.dask_progress(bar, ds.sizes["time"]):
        result = _store.append(ds, out, product="labels_ibtracs", chunks={"time": chunk}, root=root,
                               sources=_store.sources_of(tracks_store, root))
    pos = _tracks.positions(todo["time"].values, tracks, window=params.window)
    log.info("%s: %d masks written, %d storm positions", out, result.written, len(pos))
    summary.update(store=result.store, written=result.written, skipped=result.skipped + len(have),
                   storms=int(pos["sid"].nunique()), positions=len(pos))
    return summary
