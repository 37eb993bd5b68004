"""Balanced image patches from grid stores and a label mask store, split by time blocks.

Two passes, neither of which holds more than a few time chunks of any store:

1. *index* -- for every labelled time in a split block, the label fraction of each candidate
   window (corners on a ``stride`` grid) from a box sum (summed-area table) of the mask.
   Windows with fraction >= ``pos_threshold`` are positive, windows with no labelled pixel
   negative (the ones in between are ambiguous and never used).  Per split, every positive
   is kept and ``neg_ratio`` times as many negatives are drawn with the seed
   (:func:`geopipe.datasets.splits.balanced_choice`).
2. *cut* -- samples sorted by time are cut a chunk of 64 at a time by Dask tasks that read
   each input's whole time chunk once (:mod:`geopipe.datasets.gridread`); the write and the
   train-only statistics run in the same graph (:mod:`geopipe.datasets.samples`).

Longitude wraps on a global grid (a patch may cross the dateline); latitude is clipped: no
patch reaches beyond the first or last grid row.

The dataset (``xarray.open_zarr``):

``x`` (sample, iy, ix, channel) float32   raw input values (normalise with ``mean``/``std``)
``y`` (sample, iy, ix) uint8              the label mask (0/1/2 as stored; with ``label_class``
                                          1 where the mask equals that class)
``time``, ``lat``, ``lon`` (sample)       valid time and centre grid point (row/column
                                          ``size // 2`` of the patch)
``iy0``, ``ix0`` (sample) int32           grid row/column of the patch's first pixel
``label_fraction`` (sample) float32       fraction of labelled pixels
``positive`` (sample) uint8               1 positive patch, 0 negative
``split`` (sample) string                 train / val / test
``mean``, ``std``, ``min``, ``max`` (channel) float64   train-split statistics (read them as
                                          ``ds["mean"]``: ``ds.mean`` is the Dataset method)
``channel`` coord: the input variable names

The patch axes are ``iy``/``ix``, not ``latitude``/``longitude`` (each patch has its own) nor
``y``/``x`` (xarray refuses a variable named like a dimension).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time as _time
import uuid

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import progress
from geopipe import store as _store
from geopipe.datasets import gridread, samples
from geopipe.datasets.defaults import PATCHES
from geopipe.datasets.splits import (
    DEFAULT_GAP,
    SPLITS,
    assign,
    balanced_choice,
    parse_splits,
    with_gaps,
)
from geopipe.datasets.stats import stats_variables
from geopipe.errors import InputError, ParameterError

#: Zstd level of patch datasets.  Overlapping patches make the output several times the
#: input read, so compressing it is most of a build: Zstd's fast mode -5 encodes ~4x and
#: decodes ~2x faster than level 1 (generated 0.5 degree fields: 2.5 GB/s against 0.5 GB/s
#: per CPU second) for ~15 % more bytes
PATCH_ZSTD_LEVEL = -5
DEFAULT_SPLITS = PATCHES.splits


def is_global(lon: np.ndarray) -> bool:
    """True when the longitudes close the circle (the last step leads back to the first)."""
    if lon.size < 2:
        return False
    step = float(np.median(np.abs(np.diff(lon))))
    return abs(lon.size * step - 360.0) < 0.5 * step


def _corners(n: int, size: int, stride: int, wrap: bool) -> np.ndarray:
    """First-pixel indices of candidate windows along one axis (the last one flush with the edge)."""
    if wrap:
        return np.arange(0, n, stride)
    last = n - size
    starts = np.arange(0, last + 1, stride)
    return starts if starts[-1] == last else np.append(starts, last)


def box_fractions(mask: np.ndarray, iy0: np.ndarray, ix0: np.ndarray, size: int, wrap: bool) -> np.ndarray:
    """(time, len(iy0), len(ix0)) fraction of True pixels in each ``size`` x ``size`` window of
    ``mask`` (time, lat, lon) with corner (iy0, ix0), from a summed-area table."""
    m = mask.astype(np.int32)
    if wrap:
        m = np.concatenate([m, m[:, :, :size - 1]], axis=2)
    sat = np.zeros((m.shape[0], m.shape[1] + 1, m.shape[2] + 1), np.int32)
    np.cumsum(np.cumsum(m, axis=1), axis=2, out=sat[:, 1:, 1:])
    a, b = iy0[:, None], ix0[None, :]
    total = sat[:, a + size, b + size] - sat[:, a, b + size] - sat[:, a + size, b] + sat[:, a, b]
    return total / float(size * size)


def candidate_index(labels: gridread.GridSource, positions: np.ndarray, size: int, stride: int,
                    pos_threshold: float, label_class: int | None, wrap: bool, token: str = "") -> pd.DataFrame:
    """Positive and negative windows at the label-store time ``positions``: columns ``t`` (label
    time position), ``iy0``, ``ix0``, ``frac``, ``positive``.  Reads the labels a chunk at a time."""
    iy0 = _corners(labels.lat.size, size, stride, False)
    ix0 = _corners(labels.lon.size, size, stride, wrap)
    parts = []
    for c in np.unique(positions // labels.chunk):
        a = c * labels.chunk
        block = gridread.read_block(labels.url, labels.variables, a, min(labels.times.size, a + labels.chunk), token)[..., 0]
        here = positions[(positions // labels.chunk) == c]
        hit = block[here - a] > 0 if label_class is None else block[here - a] == label_class
        frac = box_fractions(hit, iy0, ix0, size, wrap)
        k, i, j = np.nonzero((frac >= pos_threshold) | (frac == 0))
        f = frac[k, i, j]
        parts.append(pd.DataFrame({"t": here[k].astype(np.int64), "iy0": iy0[i].astype(np.int32),
                                   "ix0": ix0[j].astype(np.int32), "frac": f.astype(np.float32),
                                   "positive": (f >= pos_threshold).astype(np.uint8)}))
    return pd.concat(parts, ignore_index=True)


def _cut_chunk(plan: dict, sources: list[gridread.GridSource], labels: gridread.GridSource, size: int,
               wrap: bool, label_class: int | None, token: str) -> dict:
    """x (n, size, size, channel) float32 and y (n, size, size) uint8 of one sample chunk."""
    iy0, ix0 = plan["iy0"], plan["ix0"]
    n = iy0.size
    x = np.empty((n, size, size, sum(len(s.variables) for s in sources)), "float32")
    y = np.empty((n, size, size, 1), "uint8")
    c0 = 0
    for src, pos in zip([*sources, labels], plan["pos"]):
        # each source fills its own channels of x (or y) in place
        target = y if src is labels else x[..., c0:c0 + len(src.variables)]
        c0 += 0 if src is labels else len(src.variables)
        for c in np.unique(pos // src.chunk):
            rows = np.flatnonzero(pos // src.chunk == c)
            block = gridread.cached_block(src, int(c), token)
            # samples are in time order, so a block's rows are one run: cut straight into it
            run = rows[-1] + 1 - rows[0] == rows.size
            part = target[rows[0]:rows[-1] + 1] if run else np.empty((rows.size, *target.shape[1:]), target.dtype)
            gridread.cut(block, pos[rows] - c * src.chunk, iy0[rows], ix0[rows], size, wrap, part)
            if not run:
                target[rows] = part
            del block
            gridread.CACHE.release(gridread.block_key(token, src, c))
    y = y[..., 0]
    return {"x": x, "y": y if label_class is None else (y == label_class).astype("uint8")}


def _check_grid(src: gridread.GridSource, labels: gridread.GridSource) -> None:
    for name, a, b in (("latitude", src.lat, labels.lat), ("longitude", src.lon, labels.lon)):
        if a.shape != b.shape or not np.allclose(a, b, atol=1e-6):
            raise InputError(src.url, f"its {name} ({a.size} points) differs from the labels' grid "
                                      f"({labels.url}, {b.size} points): regrid first")


@dataclasses.dataclass
class PatchPlan:
    """The patches to cut: ``table`` has one row per sample (``t`` label-store time position,
    ``iy0``, ``ix0``, ``frac``, ``positive``, ``split``), in time order."""

    table: pd.DataFrame
    sources: list[gridread.GridSource]
    labels: gridread.GridSource
    size: int
    wrap: bool
    label_class: int | None
    candidates: int
    times: int
    attrs: dict
    token: str

    @property
    def channels(self) -> list[str]:
        return [v for s in self.sources for v in s.variables]


def plan_patches(inputs: list[tuple[str, list[str]]], labels: str, size: int = PATCHES.size,
                 neg_ratio: float = PATCHES.neg_ratio, splits: str = DEFAULT_SPLITS, seed: int = PATCHES.seed,
                 pos_threshold: float = PATCHES.pos_threshold, gap: str = DEFAULT_GAP, stride: int | None = None,
                 label_var: str = PATCHES.label_var, label_class: int | None = None,
                 root=None) -> PatchPlan:
    """Check the stores, index the candidate windows and draw the balanced samples (pass 1).

    ``inputs``: ``[(store, [variable, ...]), ...]`` on the labels' grid; ``labels``: a store with
    ``label_var`` (time, latitude, longitude) uint8; ``size``: patch side in grid points;
    ``neg_ratio``: negatives per positive in each split; ``splits``: block spec
    (:func:`geopipe.datasets.splits.parse_splits`); ``gap``: minimum time between blocks;
    ``stride``: candidate spacing in grid points (default ``size // 4``).
    """
    if not inputs:
        raise ParameterError("inputs", "no input store given")
    if size < 2 or neg_ratio < 0 or not 0 < pos_threshold <= 1:
        raise ParameterError(("size", "neg_ratio", "pos_threshold"),
                             f"size {size} must be >= 2, neg_ratio {neg_ratio} >= 0, pos_threshold {pos_threshold} in (0, 1]")
    stride = int(stride or max(1, size // 4))
    blocks = with_gaps(parse_splits(splits) if isinstance(splits, str) else list(splits), gap)
    lab = gridread.open_grid(labels, [label_var], root)
    srcs = [gridread.open_grid(store, vars_, root) for store, vars_ in inputs]
    for s in srcs:
        _check_grid(s, lab)
    ny, nx = lab.lat.size, lab.lon.size
    wrap = is_global(lab.lon)
    if size > ny or (size > nx and not wrap):
        raise InputError(lab.url, f"a {size}x{size} patch does not fit its {ny}x{nx} grid")
    channels = [v for s in srcs for v in s.variables]
    if len(set(channels)) != len(channels):
        raise ParameterError("inputs", f"a variable name repeats across inputs: {channels}")

    # times every input holds, that fall in a split block (gaps and outside times dropped)
    common = lab.times
    for s in srcs:
        common = np.intersect1d(common, s.times)
    times = common[assign(common, blocks) != ""]
    if not times.size:
        raise InputError(lab.url, f"no time common to the labels and inputs falls in the split blocks {splits}")
    token = uuid.uuid4().hex  # names this build's reads and cached blocks
    index = candidate_index(lab, np.searchsorted(lab.times, times), size, stride, pos_threshold, label_class, wrap,
                            token)
    index["split"] = assign(lab.times[index["t"].to_numpy()], blocks)
    rng = np.random.default_rng(seed)
    chosen = []
    for name in SPLITS:
        rows = np.flatnonzero(index["split"].to_numpy() == name)
        positive = index["positive"].to_numpy()[rows] == 1
        chosen += list(balanced_choice(rows[positive], rows[~positive], neg_ratio, rng))
    table = index.iloc[np.concatenate(chosen)].sort_values(["t", "iy0", "ix0"], kind="stable").reset_index(drop=True)
    if not (table["split"] == "train").any():
        raise InputError(lab.url, f"no positive patch (label fraction >= {pos_threshold}) in the train split: "
                                  "nothing to train on")
    attrs = {
        "title": "Balanced training patches", "geopipe_dataset": "patches",
        "inputs": json.dumps([[s.url, list(s.variables)] for s in srcs]), "labels": lab.url,
        "label_variable": label_var, "label_class": -1 if label_class is None else int(label_class),
        "size": int(size), "stride": int(stride), "neg_ratio": float(neg_ratio), "seed": int(seed),
        "split_spec": str(splits), "split_blocks": json.dumps([str(b) for b in blocks]), "gap": str(gap),
        "pos_threshold": float(pos_threshold), "longitude_wraps": int(wrap),
        "comment": "patch dims are iy, ix (xarray forbids a variable named like a dimension); "
                   "positives: label fraction >= pos_threshold, negatives: no labelled pixel"}
    return PatchPlan(table, srcs, lab, size, wrap, label_class, len(index), int(times.size), attrs, token)


def _label_name(lab) -> str:
    """What a positive pixel means, from the label store (e.g. "best-track storm region")."""
    attrs = _store.open_store(lab.url)[lab.variables[0]].attrs
    return str(attrs.get("long_name") or "label")


def build_patches(inputs: list[tuple[str, list[str]]], labels: str, out: str, size: int = PATCHES.size,
                  neg_ratio: float = PATCHES.neg_ratio, splits: str = DEFAULT_SPLITS, seed: int = PATCHES.seed,
                  pos_threshold: float = PATCHES.pos_threshold, gap: str = PATCHES.gap, stride: int | None = None,
                  label_var: str = PATCHES.label_var, label_class: int | None = None, chunk: int | None = None,
                  root=None) -> dict:
    """Build a balanced patch dataset at ``out`` (see the module docstring and
    :func:`plan_patches` for the arguments); returns a summary: samples per split and class,
    the ratio achieved, the store path."""
    started = _time.perf_counter()
    plan = plan_patches(inputs, labels, size, neg_ratio, splits, seed, pos_threshold, gap, stride, label_var,
                        label_class, root)
    chunk = chunk or samples.catalog_chunk("patches")
    try:
        ds = patch_dataset(plan, chunk)
        sources = samples.merged_sources([plan.labels.url, *[s.url for s in plan.sources]])
        with progress.Progress("patches", len(plan.table), "samples") as bar, \
                progress.dask_progress(bar, len(plan.table)):
            url = samples.write(ds, out, chunk, "patches", sources=sources,
                                summary=f"{len(plan.table)} patches of {size}x{size} from {', '.join(plan.channels)}",
                                root=root, level=PATCH_ZSTD_LEVEL)
    finally:
        gridread.CACHE.drop(plan.token)
    counts = samples.class_counts(plan.table["split"].to_numpy(), plan.table["positive"].to_numpy())
    return {"store": url, "samples": len(plan.table), "channels": plan.channels, "size": size,
            "by_split": counts, "empty_splits": samples.empty_splits(counts), "neg_ratio": neg_ratio,
            "candidates": plan.candidates, "times": plan.times,
            "seconds": round(_time.perf_counter() - started, 3)}


def patch_dataset(plan: PatchPlan, chunk: int | None = None) -> xr.Dataset:
    """The patch Dataset of a plan (pass 2): lazy ``x``/``y`` cut chunk by chunk, the small
    per-sample variables in memory.  Compute it once; then ``gridread.CACHE.drop(plan.token)``."""
    chunk = chunk or samples.catalog_chunk("patches")
    table, srcs, lab, size = plan.table, plan.sources, plan.labels, plan.size
    channels, token = plan.channels, plan.token
    gridread.CACHE.capacity = max(gridread.CACHE.capacity, 4 * (len(srcs) + 1))
    t_label = table["t"].to_numpy()
    when = lab.times[t_label]
    # each sample's time position in each input store, then in the labels store
    pos_all = [np.searchsorted(s.times, when) for s in srcs] + [t_label]
    edges = samples.chunk_edges(len(table), chunk)
    iy0, ix0 = table["iy0"].to_numpy(), table["ix0"].to_numpy()
    plans = [{"pos": [p[a:b] for p in pos_all], "iy0": iy0[a:b], "ix0": ix0[a:b]} for a, b in edges]
    for p in plans:  # how many chunks cut from each block: the last one frees it
        for src, pos in zip([*srcs, lab], p["pos"]):
            for c in np.unique(pos // src.chunk):
                gridread.CACHE.expect(gridread.block_key(token, src, c))
    make = functools.partial(_cut_chunk, sources=srcs, labels=lab, size=size, wrap=plan.wrap,
                             label_class=plan.label_class, token=token)
    arrays = samples.lazy_arrays(make, plans, [b - a for a, b in edges],
                                 {"x": ((size, size, len(channels)), "float32"), "y": ((size, size), "uint8")})
    split = table["split"].to_numpy()
    c = size // 2
    ds = xr.Dataset(
        {"x": (("sample", "iy", "ix", "channel"), arrays["x"], {"long_name": "input patch (raw values)"}),
         "y": (("sample", "iy", "ix"), arrays["y"], {"long_name": _label_name(lab)}),
         "split": samples.split_variable(split),
         "time": ("sample", when, {"long_name": "valid time"}),
         "lat": ("sample", lab.lat[iy0 + c], {"units": "degrees_north", "long_name": "latitude of the patch centre"}),
         "lon": ("sample", lab.lon[(ix0 + c) % lab.lon.size],
                 {"units": "degrees_east", "long_name": "longitude of the patch centre"}),
         "iy0": ("sample", iy0.astype("int32"), {"long_name": "grid row of the patch's first pixel"}),
         "ix0": ("sample", ix0.astype("int32"), {"long_name": "grid column of the patch's first pixel"}),
         "label_fraction": ("sample", table["frac"].to_numpy("float32"), {"units": "1"}),
         "positive": ("sample", table["positive"].to_numpy("uint8"),
                      {"flag_values": [0, 1], "flag_meanings": "negative positive"})},
        coords={"channel": ("channel", np.asarray(channels, dtype=object))})
    for name, var in stats_variables(arrays["x"], split == "train").items():
        ds[name] = var
    ds.attrs.update(plan.attrs)
    return ds
