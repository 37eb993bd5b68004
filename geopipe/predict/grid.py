"""Full-grid segmentation inference: a model folder and a grid store -> a prediction store.

The input store holds ``config.channels`` as variables of dims (time, latitude, longitude)
or, for GOES scenes on their native fixed grid, (time, y, x) with 2-D ``latitude``/``longitude``
and a ``goes_imager_projection`` grid mapping.  The prediction store has the input's
spatial coordinates exactly (values, order, attributes) and::

    probability (time, <row>, <col>)  float32 in [0, 1]; NaN where no input channel has data
    mask        (time, <row>, <col>)  uint8, 1 where probability >= threshold
    crs | goes_imager_projection ()   the CF grid mapping the data variables name

Times are predicted in blocks along ``time`` with Dask: each block reads only its own times,
normalises them as training did, and runs the model on the whole grid at once.  Blocks are
written a few at a time through :func:`geopipe.store.append`, so memory stays bounded, an
interrupted run keeps what it finished, and times already in the output are never predicted
again.
"""

from __future__ import annotations

import dataclasses
import logging
import time as _time

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import progress
from geopipe import store as _store
from geopipe.errors import GeopipeError, InputError
from geopipe.models import io
from geopipe.predict import common

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.7
#: rough live memory per grid point while a U-Net runs (activations of ~64 float32 filters,
#: a few tensors alive at once); sets how many times go to the model in one call
BYTES_PER_PIXEL = 1024
#: memory for model calls in flight: BLOCKS_IN_FLIGHT blocks share it
MEMORY_BUDGET = 2**30
BLOCKS_IN_FLIGHT = 2
LATLON_CRS = {"grid_mapping_name": "latitude_longitude", "longitude_of_prime_meridian": 0.0,
              "long_name": "coordinate reference system of the latitude/longitude grid"}


@dataclasses.dataclass
class Grid:
    """The spatial layout of a store: what a prediction store must copy from its input."""

    dims: tuple[str, str]                 #: (row dim, column dim), in the input's order
    coords: dict[str, xr.Variable]        #: spatial coordinates (1-D axes, 2-D latitude/longitude)
    mapping_name: str                     #: name of the CF grid-mapping variable
    mapping: xr.Variable                  #: the scalar grid-mapping variable and its attributes


def grid_of(ds: xr.Dataset, names: list[str], where: str) -> Grid:
    """The grid shared by variables ``names`` of ``ds`` (raise ``InputError`` naming ``where``)."""
    missing = [n for n in names if n not in ds]
    if missing:
        raise InputError(where, f"no variable(s) {', '.join(missing)} (have {', '.join(map(str, ds.data_vars))})")
    first = ds[names[0]]
    if first.ndim != 3 or first.dims[0] != "time":
        raise InputError(where, f"{names[0]} has dims {first.dims}; expected (time, latitude, longitude) or (time, y, x)")
    for n in names[1:]:
        if ds[n].dims != first.dims:
            raise InputError(where, f"{n} has dims {ds[n].dims} but {names[0]} has {first.dims}")
    dims = first.dims[1:]
    coords = {k: c.variable.load().copy(deep=True) for k, c in ds.coords.items()
              if c.dims and set(c.dims) <= set(dims)}
    name = first.attrs.get("grid_mapping")
    if not name or name not in ds.variables:
        name = next((n for n in ("goes_imager_projection", "crs") if n in ds.variables), None)
    if name:
        mapping = ds[name].variable.load().copy(deep=True)
        if name == "goes_imager_projection":
            mapping.attrs.setdefault("grid_mapping_name", "geostationary")
    elif "latitude" in coords and "longitude" in coords and coords["latitude"].ndim == 1:
        name, mapping = "crs", xr.Variable((), np.int32(0), dict(LATLON_CRS))
    else:
        raise InputError(where, f"no grid mapping variable and no 1-D latitude/longitude axes for dims {dims}")
    return Grid(tuple(dims), coords, name, mapping)


def _as_map(y, shape: tuple[int, int, int], model_dir) -> np.ndarray:
    """Model output (t, ny, nx) or (t, ny, nx, 1) -> float32 (t, ny, nx)."""
    y = np.asarray(y, dtype="f4")
    if y.ndim == 4 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.shape != shape:
        raise GeopipeError(f"{model_dir}: the model returned shape {y.shape} for a grid of {shape}; "
                           "a segmentation model must return one probability per grid point")
    return y


def predict_block(x: np.ndarray, model_dir: str, digest: str, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Probabilities for one block of times.

    ``x``: raw inputs (t, ny, nx, C) in store units -> float32 (t, ny, nx) in [0, 1], NaN
    where every channel is NaN (off the GOES disk, or no data at all).
    """
    if x.shape[0] == 0:
        return np.zeros(x.shape[:3], dtype="f4")
    model = common.model_for(model_dir, digest)
    empty = np.isnan(x).all(axis=-1)
    y = _as_map(common.run(model, common.normalize(x, mean, std)), x.shape[:3], model_dir)
    y = np.clip(y, 0.0, 1.0)
    y[empty] = np.nan
    return y


def _time_block(ds: xr.Dataset, channels: list[str], grid: Grid, requested: int | None) -> int:
    """Times per model call: the input's time chunk, capped so the blocks in flight fit MEMORY_BUDGET."""
    if requested:
        return int(requested)
    px = int(np.prod([ds.sizes[d] for d in grid.dims]))
    fits = max(1, MEMORY_BUDGET // BLOCKS_IN_FLIGHT // max(1, px * (BYTES_PER_PIXEL + 4 * len(channels))))
    chunks = ds[channels[0]].chunks
    along = int(chunks[0][0]) if chunks else fits
    return int(max(1, min(fits, along)))


def _product(name: str, grid: Grid) -> str:
    """The catalog product of a store on ``grid``: NAME on latitude/longitude, NAME_native otherwise."""
    return name if tuple(grid.dims) == ("latitude", "longitude") else f"{name}_native"


def _output(sub: xr.Dataset, grid: Grid, prob: np.ndarray, thr: float, label: str) -> xr.Dataset:
    """The prediction Dataset for the times of ``sub`` (``prob``: float32 (t, ny, nx))."""
    dims = ("time",) + grid.dims
    with np.errstate(invalid="ignore"):
        mask = np.where(prob >= thr, 1, 0).astype("u1")  # NaN compares False: no data, no detection
    word = label.replace(" ", "_") or "event"
    prob_attrs = {"long_name": f"probability of {label or 'the event'} predicted by the model",
                  "units": "1", "valid_range": np.array([0.0, 1.0], dtype="f4"),
                  "grid_mapping": grid.mapping_name,
                  "comment": "NaN where no input channel has data"}
    mask_attrs = {"long_name": f"{label or 'event'} mask: probability >= threshold",
                  "valid_range": np.array([0, 1], dtype="u1"), "flag_values": np.array([0, 1], dtype="u1"),
                  "flag_meanings": f"no_{word} {word}", "threshold": float(thr),
                  "grid_mapping": grid.mapping_name}
    time = sub["time"].variable.copy(deep=False)
    time.attrs = {k: v for k, v in time.attrs.items() if k in ("standard_name", "long_name", "axis")}
    time.attrs.setdefault("standard_name", "time")
    return xr.Dataset(
        {"probability": (dims, prob, prob_attrs), "mask": (dims, mask, mask_attrs),
         grid.mapping_name: grid.mapping},
        coords={"time": time, **grid.coords})


def predict_grid(model_dir, store: str, out: str, times=None, threshold: float | None = None,
                 time_block: int | None = None, blocks_per_write: int | None = None) -> dict:
    """Predict every time of ``store`` (or of ``times``, ``"START/END"`` inclusive) not yet in ``out``.

    Returns a summary: ``written``/``skipped`` times, ``threshold``, ``time_block``, ``seconds``.
    """
    t0 = _time.perf_counter()
    model_dir = str(model_dir)
    cfg = io.load_config(model_dir)
    if cfg.get("task", "segmentation") != "segmentation":
        raise GeopipeError(f"{model_dir}: task is {cfg.get('task')!r}; predict_grid needs a segmentation model")
    channels = list(cfg.get("channels") or [])
    if not channels:
        raise GeopipeError(f"{model_dir}/config.json: no 'channels' list")
    thr = float(threshold if threshold is not None else cfg.get("threshold", DEFAULT_THRESHOLD))
    if not 0.0 <= thr <= 1.0:
        raise GeopipeError(f"threshold {thr} is not a probability in [0, 1]")
    mean, std = common.normalization(model_dir, channels)
    digest = io.model_hash(model_dir)
    url = _store.resolve_store(store)
    out_url = _store.resolve_store(out)
    ds = _store.open_store(url)
    grid = grid_of(ds, channels, url)
    present, old_attrs = common.existing(out_url)
    common.check_same_model(out_url, old_attrs, digest, {"threshold": thr})
    wanted = common.in_range(ds["time"].values, common.time_range(times))
    have = pd.Index(ds["time"].values).isin(present)
    skipped = int((wanted & have).sum())
    sub = ds.isel(time=np.flatnonzero(wanted & ~have))
    tb = _time_block(ds, channels, grid, time_block)
    per_write = tb * int(blocks_per_write or BLOCKS_IN_FLIGHT)
    attrs, sources = common.provenance(model_dir, digest, cfg, url)
    label = str(cfg.get("label", ""))
    attrs.update(title=f"geopipe predictions of {label or cfg.get('kind', 'a model')}", threshold=thr, label=label,
                 source="geopipe predict", **({"times_requested": str(times)} if times else {}))
    written = 0
    bar = progress.Progress(f"predict {out_url.rstrip('/').rsplit('/', 1)[-1]}", sub.sizes["time"], "time steps")
    for a in range(0, sub.sizes["time"], per_write):
        part = sub.isel(time=slice(a, a + per_write))
        attrs.update(common.coverage(present, pd.Index(part["time"].values)))
        present = present.append(pd.Index(part["time"].values))
        x = da.stack([da.asarray(part[c].data).astype("f4") for c in channels], axis=-1)
        x = x.rechunk({0: tb, 1: -1, 2: -1, 3: -1})
        # computed here, not left lazy inside the Dataset: Dask fuses each variable's graph
        # separately, so a lazy mask would run the model a second time for every block
        prob = x.map_blocks(predict_block, model_dir, digest, mean, std, drop_axis=3, dtype="f4",
                            meta=np.empty((0, 0, 0), dtype="f4")).compute()
        result = _store.append(_output(part, grid, prob, thr, label), out_url, product=_product("predictions", grid),
                               sources=sources, attrs=attrs)
        written += result.written
        skipped += result.skipped
        log.info("%s: predicted %d times up to %s", out_url, result.written, part["time"].values[-1])
        bar.update(part.sizes["time"])
    bar.close()
    return {"store": out_url, "written": written, "skipped": skipped, "threshold": thr, "time_block": tb,
            "model_hash": digest, "channels": channels, "seconds": round(_time.perf_counter() - t0, 3)}
