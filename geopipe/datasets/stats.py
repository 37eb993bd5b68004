"""Per-channel normalisation statistics of the train split, computed with Dask.

The statistics are part of the same Dask graph that writes the samples: each sample chunk
is reduced to a small partial (count, mean, sum of squared deviations, min, max per channel)
and the partials are folded into a running total with Chan's parallel formula, chunk after
chunk in sample order.  So the samples are cut once, and Dask, following the fold, cuts, writes and frees
them in order (a tree reduction leaves it free to cut every chunk before writing any).  Only
samples of the train split count: val/test inputs must not leak into the normalisation.
NaN values are skipped.  ``std`` is the population standard deviation (ddof=0), as
``numpy.std``.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from dask.core import flatten
from dask.highlevelgraph import HighLevelGraph

#: the statistics, in the order of :func:`channel_stats`' first axis
STATS = ("mean", "std", "min", "max")


def _partial(block: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(5, channel): count, mean, M2 (sum of squared deviations), min, max of ``block`` rows where ``keep``."""
    block = np.asarray(block)
    values = (block if keep.all() else block[keep]).reshape(-1, block.shape[-1])
    out = np.empty((5, block.shape[-1]))
    out[3], out[4] = np.inf, -np.inf
    for c in range(values.shape[1]):  # a channel at a time: float64 temporaries stay small
        col = values[:, c]
        col = col[np.isfinite(col)].astype("f8")
        out[0, c] = col.size
        out[1, c] = col.mean() if col.size else 0.0
        out[2, c] = np.square(col - out[1, c]).sum()
        if col.size:
            out[3, c], out[4, c] = col.min(), col.max()
    return out


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two partials of :func:`_partial` merged into one (Chan, Golub & LeVeque 1979)."""
    n, nb = a[0], b[0]
    tot = n + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(tot > 0, nb / tot, 0.0)
    delta = b[1] - a[1]
    return np.stack([tot, a[1] + delta * share, a[2] + b[2] + delta ** 2 * n * share,
                     np.minimum(a[3], b[3]), np.maximum(a[4], b[4])])


def _finish(p: np.ndarray) -> np.ndarray:
    """(4, channel) mean, std, min, max of a partial (NaN for a channel without values)."""
    n = p[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(p[2] / n)
    return np.where(n > 0, np.stack([p[1], std, p[3], p[4]]), np.nan)


def channel_stats(x: da.Array, train: np.ndarray) -> da.Array:
    """Lazy (4, channel) float64: :data:`STATS` over every axis of ``x`` but the last (the
    channel), over the samples (first axis) where the boolean ``train`` (sample,) is True."""
    train = np.asarray(train, bool)
    if x.numblocks[1:] != (1,) * (x.ndim - 1):
        x = x.rechunk({i: -1 for i in range(1, x.ndim)})
    edges = np.concatenate([[0], np.cumsum(x.chunks[0])])
    keys = list(flatten(x.__dask_keys__()))
    name = f"train-stats-{tokenize(x.name, train)}"
    # one graph layer for the whole fold (chaining Delayed objects would cost O(chunks^2));
    # the partials are independent tasks, so Dask reduces several chunks at once
    dsk = {}
    for i, (key, a, b) in enumerate(zip(keys, edges[:-1], edges[1:])):
        dsk[(f"{name}-part", i)] = (_partial, key, train[a:b])
        dsk[(name, i)] = (_fold, (name, i - 1) if i else None, (f"{name}-part", i))
    dsk[(f"{name}-final", 0, 0)] = (_finish, (name, len(keys) - 1)) if keys else (_finish, _partial(
        np.zeros((0, x.shape[-1])), np.zeros(0, bool)))
    graph = HighLevelGraph.from_collections(f"{name}-final", dsk, dependencies=[x])
    return da.Array(graph, f"{name}-final", chunks=((len(STATS),), (x.shape[-1],)), dtype="f8")


def _fold(acc: np.ndarray | None, part: np.ndarray) -> np.ndarray:
    """The running partial ``acc`` with one more chunk's partial folded in."""
    return part if acc is None else _combine(acc, part)


def stats_variables(x: da.Array, train: np.ndarray, units: list[str] | None = None) -> dict[str, xr.Variable]:
    """``mean``, ``std``, ``min``, ``max`` as lazy Variables of dim ``channel`` (train split only)."""
    stats = channel_stats(x, train)
    out = {}
    for i, name in enumerate(STATS):
        attrs = {"long_name": f"{name} of each input channel over the train split",
                 "comment": "for normalisation: (x - mean) / std; computed from train samples only"}
        if units:
            attrs["units_by_channel"] = ",".join(units)
        out[name] = xr.Variable(("channel",), stats[i], attrs)
    return out
