"""Stream patch and window stores into Keras, a sample-chunk at a time.

Both stores are Zarr with a ``sample`` dimension, written by geopipe.datasets:

* patches: ``x`` (sample, iy, ix, channel) float32 raw values, ``y`` (sample, iy, ix) uint8 mask;
* windows: ``x`` (sample, step, channel) float32 history (the target variable first),
  ``y`` (sample, lead) targets in physical units at leads (minutes, coord ``lead``);

with per-sample ``split`` (train/val/test), ``time`` (for windows: the time of the last
history step, when the forecast is issued), optional ``storm``, coord ``channel`` and the
train-split ``mean``/``std`` (channel).  Nothing here loads a whole store: reads are whole
Zarr chunks along ``sample`` (the unit the store compresses), at most two held at once.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import keras
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import flags
from geopipe.config import resolve_store
from geopipe.errors import InputError
from geopipe.models.norm import normalize

SPLITS = ("train", "val", "test")
REQUIRED = ("x", "y", "split", "mean", "std")


_strings = flags.strings


class SampleStore:
    """Read access to a patch or window store: per-split indices, chunk reads, normalisation."""

    def __init__(self, path, kind: str, storage_options: Mapping | None = None, cache_chunks: int = 2):
        self.path = resolve_store(path)
        self.kind = kind
        try:
            ds = xr.open_zarr(self.path, consolidated=False, chunks=None, storage_options=storage_options)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise InputError(self.path, f"not a readable {kind} store ({type(exc).__name__}: {exc})") from None
        missing = [v for v in REQUIRED if v not in ds.variables]
        if missing:
            raise InputError(self.path, f"{kind} store lacks {', '.join(missing)} (needs {', '.join(REQUIRED)})")
        want = 4 if kind == "patches" else 3
        if ds["x"].ndim != want or ds["x"].dims[0] != "sample":
            raise InputError(self.path, f"x has dims {ds['x'].dims}; a {kind} store has {want} dims, sample first")
        self.ds = ds
        self.attrs = dict(ds.attrs)
        self.channels = list(_strings(ds["channel"].values)) if "channel" in ds.coords else \
            [f"channel{i}" for i in range(ds["x"].shape[-1])]
        self.mean = np.asarray(ds["mean"].values, "float32")
        std = np.asarray(ds["std"].values, "float32")
        self.std = np.where(np.isfinite(std) & (std > 0), std, 1.0).astype("float32")  # constant channel: no scaling
        self.split = flags.decode(ds["split"])
        bad = sorted(set(self.split) - set(SPLITS))
        if bad:
            raise InputError(self.path, f"split holds {bad}; expected only {SPLITS}")
        self.n = int(ds.sizes["sample"])
        chunks = ds["x"].encoding.get("chunks") or ds["x"].encoding.get("preferred_chunks", {}).get("sample")
        self.chunk = int(chunks[0] if isinstance(chunks, (tuple, list)) else chunks or self.n) or 1
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._cache_size = cache_chunks
        self._lock = threading.Lock()

    # -- what the store holds
    def indices(self, split: str) -> np.ndarray:
        """Sample indices (ascending) of one split."""
        return np.flatnonzero(self.split == split)

    def coord(self, name: str) -> np.ndarray | None:
        """A small per-sample or per-store variable (time, storm, lead, ...) in full, or None."""
        if name not in self.ds.variables:
            return None
        var = self.ds[name]
        # categorical variables (CF flags: split, storm class) come back as their words
        return flags.decode(var) if "flag_meanings" in var.attrs else np.asarray(var.values)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """The store's inputs normalised with its train statistics (see :func:`normalize`)."""
        return normalize(x, self.mean, self.std)

    # -- reading
    def _chunk(self, c: int, variables) -> dict[str, np.ndarray]:
        with self._lock:
            hit = self._cache.get(c)
            if hit is not None and all(v in hit for v in variables):
                self._cache.move_to_end(c)
                return hit
        a, b = c * self.chunk, min(self.n, (c + 1) * self.chunk)
        data = {v: np.asarray(self.ds[v].variable[a:b].values) for v in variables}
        with self._lock:
            self._cache[c] = data
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return data

    def take(self, rows: np.ndarray, variables=("x", "y")) -> dict[str, np.ndarray]:
        """Rows of ``variables`` in the given order, reading only the chunks they fall in."""
        rows = np.asarray(rows, dtype="int64")
        out = {}
        chunk_of = rows // self.chunk
        parts = {v: [] for v in variables}
        positions = []
        for c in pd.unique(chunk_of):
            sel = np.flatnonzero(chunk_of == c)
            data = self._chunk(int(c), variables)
            for v in variables:
                parts[v].append(data[v][rows[sel] - c * self.chunk])
            positions.append(sel)
        order = np.argsort(np.concatenate(positions), kind="stable")
        for v in variables:
            out[v] = np.concatenate(parts[v])[order]
        return out

    def epoch_order(self, rows: np.ndarray, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
        """``rows`` grouped by chunk: chunk order and the order inside each chunk shuffled
        from (seed, epoch), so each chunk is read once per epoch yet batches mix samples."""
        rows = np.asarray(rows, dtype="int64")
        if not shuffle:
            return rows
        rng = np.random.default_rng([int(seed), int(epoch)])
        chunk_of = rows // self.chunk
        chunks = rng.permutation(pd.unique(chunk_of))
        return np.concatenate([rng.permutation(rows[chunk_of == c]) for c in chunks]) if len(rows) else rows

    def batches(self, split: str, batch_size: int, variables=("x", "y")) -> Iterator[tuple[np.ndarray, dict]]:
        """(rows, arrays) of one split in store order, ``batch_size`` samples at a time."""
        rows = self.indices(split)
        for i in range(0, len(rows), batch_size):
            sel = rows[i:i + batch_size]
            yield sel, self.take(sel, variables)

    def sample_rows(self, split: str, n: int, seed: int) -> np.ndarray:
        """Up to ``n`` random rows of a split, sorted (so reads stay chunk by chunk)."""
        rows = self.indices(split)
        if len(rows) > n:
            rows = np.sort(np.random.default_rng(seed).choice(rows, n, replace=False))
        return rows


class StreamDataset(keras.utils.PyDataset):
    """Batches of one split for ``model.fit``: ``(normalised x, target)``.

    The epoch plan comes from :meth:`SampleStore.epoch_order`; ``target`` is produced by
    ``target_fn(arrays)`` (e.g. the mask as float32 with a channel axis).  With
    ``in_memory=True`` the split is read once into memory and the same batches are served
    from there (for benchmarks and tiny stores).
    """

    def __init__(self, store: SampleStore, split: str, batch_size: int, target_fn, rows=None,
                 shuffle: bool = True, seed: int = 0, in_memory: bool = False, channels=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = None if channels is None else np.asarray(channels, "int64")  # window channels read
        self.store, self.batch_size, self.target_fn = store, int(batch_size), target_fn
        self.rows = store.indices(split) if rows is None else np.asarray(rows, "int64")
        if not len(self.rows):
            raise InputError(store.path, f"the {split} split has no samples")
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self._memory = store.take(self.rows) if in_memory else None
        self._position = {int(r): i for i, r in enumerate(self.rows)} if in_memory else None
        self._plan()

    def _plan(self):
        self.order = self.store.epoch_order(self.rows, self.seed, self.epoch, self.shuffle)

    def __len__(self) -> int:
        return math.ceil(len(self.rows) / self.batch_size)

    def __getitem__(self, i: int):
        sel = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        if self._memory is not None:
            pos = np.fromiter((self._position[int(r)] for r in sel), "int64", len(sel))
            data = {k: v[pos] for k, v in self._memory.items()}
        else:
            data = self.store.take(sel)
        if self.channels is not None:
            return (normalize(data["x"][..., self.channels], self.store.mean[self.channels],
                              self.store.std[self.channels]), self.target_fn(data))
        return self.store.normalize(data["x"]), self.target_fn(data)

    def on_epoch_end(self):
        self.epoch += 1
        self._plan()


def mask_target(data: dict) -> np.ndarray:
    """Patch mask (sample, iy, ix) -> float32 (sample, iy, ix, 1)."""
    return (np.asarray(data["y"]) > 0).astype("float32")[..., None]


def forecast_target(data: dict) -> np.ndarray:
    """Window targets (sample, lead) in physical units, float32."""
    return np.asarray(data["y"], "float32")
