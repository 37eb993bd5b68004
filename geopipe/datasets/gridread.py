"""Reading grid stores (time, latitude, longitude) one whole time chunk at a time.

The patch builder cuts many patches from each time step.  It reads the inputs in the unit
the store compresses -- one Zarr chunk along ``time``, every variable asked for -- and keeps
the last few such blocks in a small shared cache: each block is decoded once even when the
patches of one time fill several sample chunks that Dask cuts in parallel threads, and
memory holds a few blocks, never the store.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import OrderedDict

import numpy as np
import xarray as xr

from geopipe import store as _store
from geopipe.config import resolve_store
from geopipe.errors import InputError, StoreError

GRID_DIMS = ("time", "latitude", "longitude")


@dataclasses.dataclass(frozen=True)
class GridSource:
    """One store and the variables read from it; ``chunk`` time steps per Zarr chunk."""

    url: str
    variables: tuple[str, ...]
    times: np.ndarray
    chunk: int
    lat: np.ndarray
    lon: np.ndarray


def open_grid(store: str, variables, root=None) -> GridSource:
    """Check a grid store holds ``variables`` on (time, latitude, longitude) and describe it."""
    url = resolve_store(store, root)
    try:
        ds = _store.open_store(url)
    except StoreError as exc:
        raise InputError(url, str(exc).split(": ", 1)[-1]) from None
    variables = tuple(variables)
    for v in variables:
        if v not in ds.data_vars:
            raise InputError(url, f"has no variable {v!r} (have: {', '.join(map(str, ds.data_vars))})")
        if tuple(ds[v].dims) != GRID_DIMS:
            raise InputError(url, f"{v} has dims {ds[v].dims}, expected {GRID_DIMS}")
    enc = ds[variables[0]].encoding
    chunks = enc.get("shards") or enc.get("chunks") or (1,)
    return GridSource(url, variables, ds["time"].values.astype("datetime64[ns]"), int(chunks[0]),
                      ds["latitude"].values, ds["longitude"].values)


@functools.lru_cache(maxsize=16)
def _open(url: str, token: str) -> xr.Dataset:
    # no Dask: slicing the lazy backend arrays reads exactly the chunks asked for
    return xr.open_zarr(url, consolidated=False, chunks=None)


def read_block(url: str, variables: tuple[str, ...], start: int, stop: int, token: str = "") -> np.ndarray:
    """(time, latitude, longitude, variable) values of time steps ``start:stop`` (one chunk).

    Channel-last, so that a patch is a run of contiguous rows to copy."""
    ds = _open(url, token)
    return np.stack([np.asarray(ds[v].variable[start:stop].values) for v in variables], axis=-1)


class BlockCache:
    r"""Blocks being cut from, each read once even when threads ask at the same time.

    The builder announces how many sample chunks will cut from each block (:meth:`expect`);
    a block is dropped as soon as the last of them :meth:`release`\ s it.  Since samples are
    in time order, only blocks at the edges of the chunks in flight are held.  ``capacity``
    caps the blocks kept whatever happens (the least recently used go first, and are read
    again if still needed), e.g. in a Dask worker process that never saw the announcements.
    """

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._data: OrderedDict = OrderedDict()
        self._pending: dict = {}
        self._remaining: dict = {}

    def expect(self, key, uses: int = 1) -> None:
        with self._lock:
            self._remaining[key] = self._remaining.get(key, 0) + uses

    def get(self, key, load):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            event = self._pending.get(key)
            owner = event is None
            if owner:
                event = self._pending[key] = threading.Event()
        if not owner:
            event.wait()
            with self._lock:
                if key in self._data:
                    return self._data[key]
            return load()  # released already, or the owner failed: read it ourselves
        try:
            value = load()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.capacity:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            event.set()

    def release(self, key) -> None:
        """One announced user of ``key`` is done with it; the last one frees it."""
        with self._lock:
            if key not in self._remaining:
                return
            self._remaining[key] -= 1
            if self._remaining[key] <= 0:
                del self._remaining[key]
                self._data.pop(key, None)

    def drop(self, token: str) -> None:
        """Forget the blocks and announcements of one build (keys start with its token)."""
        with self._lock:
            for table in (self._data, self._remaining):
                for key in [k for k in table if k[0] == token]:
                    del table[key]

    def __len__(self) -> int:
        return len(self._data)


#: shared by the sample-chunk tasks of a build running in this process
CACHE = BlockCache()


def block_key(token: str, src: GridSource, chunk_no: int) -> tuple:
    return (token, src.url, src.variables, int(chunk_no))


def cached_block(src: GridSource, chunk_no: int, token: str) -> np.ndarray:
    """The whole time chunk ``chunk_no`` of a store (see :func:`read_block`), through :data:`CACHE`."""
    a, b = chunk_no * src.chunk, min(src.times.size, (chunk_no + 1) * src.chunk)
    # look the reader up at call time, so a wrapper installed on the module sees every read
    return CACHE.get(block_key(token, src, chunk_no), lambda: read_block(src.url, src.variables, a, b, token))


def cut(block: np.ndarray, t: np.ndarray, iy0: np.ndarray, ix0: np.ndarray, size: int, wrap: bool,
        out: np.ndarray) -> None:
    """Copy patches from a block (time, lat, lon, variable) at block time ``t`` and corner
    ``(iy0, ix0)`` into ``out`` (n, size, size, variable); with ``wrap`` a patch running off
    the last longitude continues at the first."""
    nx = block.shape[2]
    for k in range(t.size):
        rows = block[t[k], iy0[k]:iy0[k] + size]
        a = ix0[k]
        if a + size <= nx:
            out[k] = rows[:, a:a + size]
        elif wrap:  # across the dateline: the eastern piece, then the western one
            out[k, :, :nx - a] = rows[:, a:]
            out[k, :, nx - a:] = rows[:, :size - (nx - a)]
        else:
            raise ValueError(f"patch at column {a} runs off a grid of {nx} columns that does not wrap")
