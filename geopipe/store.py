"""The one place in geopipe that writes Zarr.

Every product is a Zarr (format 3) store that opens with plain ``xarray.open_zarr(path)``.
Two ways to write:

``append(ds, store)``
    Add the steps of ``ds`` along ``dim`` (default ``time``) that the store does not hold yet.
    Steps already present are skipped, so a re-run writes nothing.  The write is
    *publish-last*: the new steps' chunks are written first, beyond the arrays' published
    shape where no reader looks; then a journal entry is put in the root attributes; then the
    arrays are resized (the ``dim`` coordinate last) and the journal is cleared.  A writer
    killed before the journal leaves invisible chunks that the next run overwrites; a writer
    killed after it leaves a journal that the next writer, or :func:`open_store`, rolls
    forward.  Chunks are written in tasks that each own whole chunks (or shards) along
    ``dim``, so Dask workers never share a chunk.  A lock file beside a local store
    serialises concurrent writers.

``replace(ds, store)``
    Rewrite a whole store (small tables such as best tracks): written to a sibling
    temporary store, then swapped in by rename.

Every store carries CF attributes and provenance: the source files with size and sha256,
the geopipe version, and a ``history`` line per write.  Compression is Zstd by default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fcntl
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import xarray as xr
import zarr
from zarr.codecs import ZstdCodec
from zarr.core.array import Array, AsyncArray

from geopipe.config import is_url, resolve_store
from geopipe.errors import StoreError
from geopipe.reentrant import ReentrantHolds


class OrderError(StoreError):
    """An ordered append of steps earlier than the store's last one."""

log = logging.getLogger(__name__)

PENDING = "geopipe_pending"
SOURCES = "geopipe_sources"
STORE_ID = "geopipe_store_id"
TIME_UNITS = "milliseconds since 1970-01-01T00:00:00"
TIMEDELTA_UNITS = "seconds"
DEFAULT_ZSTD_LEVEL = 3
TARGET_CHUNK_BYTES = 8 * 2**20


@dataclasses.dataclass
class WriteResult:
    """What a write did: ``written`` steps added, ``skipped`` steps already present."""

    store: str
    written: int
    skipped: int
    new_variables: list[str] = dataclasses.field(default_factory=list)
    times: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- locations


def _zarr_store(url: str, storage_options: Mapping | None = None, read_only: bool = False):
    if is_url(url) and not url.startswith("file://"):
        return zarr.storage.FsspecStore.from_url(url, storage_options=dict(storage_options or {}), read_only=read_only)
    path = url[len("file://"):] if url.startswith("file://") else url
    return zarr.storage.LocalStore(path, read_only=read_only)


def exists(store: str, root=None, storage_options: Mapping | None = None) -> bool:
    """True when ``store`` holds a Zarr group (a published store)."""
    url = resolve_store(store, root)
    try:
        zarr.open_group(_zarr_store(url, storage_options, read_only=True), mode="r", zarr_format=3)
        return True
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, KeyError, ValueError):
        return False


_LOCKS = ReentrantHolds()  # lock file -> the open file holding its flock


@contextlib.contextmanager
def store_lock(url: str):
    """Serialise writers of one local store: a lock file beside it, held with ``flock``.

    Re-entrant within a process (and exclusive between its threads), so a reader that must
    read a store, merge and rewrite it (best tracks, index series) holds the lock across all
    three steps while :func:`append`/:func:`replace` take it again inside.  Object stores
    have no lock primitive: there the Prefect server is the lock (a global concurrency lease
    named after the store, :func:`geopipe.lease.store_lease`).
    """
    if is_url(url) and not url.startswith("file://"):
        from geopipe.lease import store_lease

        with store_lease(url):
            yield
        return
    path = Path(url[len("file://"):] if url.startswith("file://") else url)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = str(path.parent / f".{path.name}.lock")

    def unlock(handle):
        if not path.exists():  # no store was made (a failed first write): leave no lock file behind
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock_path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    with _LOCKS.hold(lock_path, lambda: _flock(lock_path), unlock):
        yield


def _flock(lock_path: str):
    """The lock file, opened and held exclusively.  A writer that made no store removes its lock
    file, so after waiting check that the file locked is still the one at ``lock_path``."""
    while True:
        fh = open(lock_path, "a+")
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            if os.fstat(fh.fileno()).st_ino == os.stat(lock_path).st_ino:
                return fh
        except FileNotFoundError:
            pass
        fh.close()


class WriteOrder:
    """Writes that reach a store in a fixed order: turn ``i`` may write once turns ``0..i-1`` are done.

    The store's rule: an append adds steps after the stored ones (an earlier step would leave
    the index unsorted, and an ordered append refuses it with :class:`OrderError`).  Callers
    that read and decode inputs in parallel (the ingest flows: one task per file in a thread
    pool) take turns here, in input order, around each write.  ``finish(i)`` marks turn
    ``i`` done (after its retries, or at once for a bad file), so a later turn never waits
    on an input that will not come.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._done = 0

    @contextlib.contextmanager
    def turn(self, i: int):
        with self._cond:
            self._cond.wait_for(lambda: self._done >= i)
        yield

    def finish(self, i: int) -> None:
        with self._cond:
            self._done = max(self._done, i + 1)
            self._cond.notify_all()


# ----------------------------------------------------------------------------- reading


def open_store(store: str, root=None, storage_options: Mapping | None = None, chunks: Any = None,
               repair: bool = True) -> xr.Dataset:
    """Open a store as a Dataset, finishing any interrupted append first.

    ``chunks=None`` keeps the store's chunks (Dask-backed, lazy).
    """
    url = resolve_store(store, root)
    if not exists(url, storage_options=storage_options):
        raise StoreError(f"{url}: no Zarr store here")
    if repair:
        group = zarr.open_group(_zarr_store(url, storage_options, read_only=True), mode="r")
        if PENDING in group.attrs:
            with store_lock(url):
                _roll_forward(zarr.open_group(_zarr_store(url, storage_options), mode="r+"))
    ds = xr.open_zarr(url if not url.startswith("file://") else url[7:], consolidated=False,
                      chunks={} if chunks is None else chunks, storage_options=_so(url, storage_options))
    return ds


def _so(url, storage_options):
    return dict(storage_options) if (storage_options and is_url(url)) else None


def _decoded_index(group: zarr.Group, dim: str) -> pd.Index:
    if dim not in group:
        raise StoreError(f"store has no coordinate {dim!r}")
    arr = group[dim]
    attrs = dict(arr.attrs)
    raw = arr[:]
    var = xr.Variable((dim,), raw, attrs={k: v for k, v in attrs.items() if k in ("units", "calendar")})
    decoded = xr.conventions.decode_cf_variable(dim, var)
    return pd.Index(decoded.values)


# ----------------------------------------------------------------------------- creating


def _default_chunks(ds: xr.Dataset, dim: str) -> dict[str, int]:
    """Whole extent in every dim but ``dim``; along ``dim`` about 8 MiB per chunk of the largest variable."""
    chunks = {d: int(n) for d, n in ds.sizes.items() if d != dim}
    step_bytes = 1
    for v in ds.data_vars.values():
        if dim in v.dims:
            other = int(np.prod([ds.sizes[d] for d in v.dims if d != dim] or [1]))
            step_bytes = max(step_bytes, other * v.dtype.itemsize)
    chunks[dim] = int(max(1, min(2**20, TARGET_CHUNK_BYTES // step_bytes)))
    return chunks


def _chunk_shape(var: xr.Variable, chunks: Mapping[str, int], fixed: Iterable[str] = ()) -> tuple[int, ...]:
    """Chunk lengths of ``var``: ``chunks[d]``, clipped to the extent unless ``d`` is ``fixed``
    (a declared chunk length stays what the catalog says, even beyond a short extent)."""
    fixed = set(fixed)
    return tuple(int(chunks[d]) if d in fixed and d in chunks else
                 int(min(chunks.get(d, n), n) or 1) if n else int(chunks.get(d, 1)) for d, n in zip(var.dims, var.shape))


def _encoding_for(var: xr.Variable, chunks: Mapping[str, int], level: int, fixed: Iterable[str] = (),
                  shards: Mapping[str, int] | None = None) -> dict:
    enc: dict[str, Any] = {"compressors": (ZstdCodec(level=level),)}
    if var.ndim:
        enc["chunks"] = _chunk_shape(var, chunks, fixed)
        if shards and any(d in shards for d in var.dims):
            enc["shards"] = tuple(int(shards.get(d, c)) for d, c in zip(var.dims, enc["chunks"]))
    if np.issubdtype(var.dtype, np.datetime64):
        enc.update(units=TIME_UNITS, calendar="proleptic_gregorian", dtype="int64")
    elif np.issubdtype(var.dtype, np.timedelta64):
        enc.update(units=TIMEDELTA_UNITS, dtype="int64")
    return enc


def _encodings(ds: xr.Dataset, chunks: Mapping[str, int], level: int, product: str | None = None) -> dict[str, dict]:
    from geopipe import layout

    fixed = set(layout.chunks(product)) if product else set()
    shards = layout.shards(product) if product else {}
    fills = layout.fill_values(product) if product else {}
    out = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "OUST":  # strings: let xarray choose (vlen string codec)
            out[name] = {"chunks": _chunk_shape(var, chunks, fixed)} if var.ndim else {}
            continue
        out[name] = _encoding_for(var, chunks, level, fixed, shards)
        if name in fills:
            out[name]["_FillValue"] = fills[name]
    return out


def _declared(ds: xr.Dataset, product: str | None, url: str, dim: str | None, chunks: Mapping[str, int] | None,
              whole: bool) -> tuple[xr.Dataset, str | None, dict[str, int]]:
    """``ds`` checked against the catalog's ``product`` (when one is named), its dim and chunks."""
    if not product:
        return ds, dim, dict(chunks or {})
    from geopipe import layout

    decl = layout.product(product)
    if dim and dim != decl.append_dim:
        raise StoreError(f"{url}: product {product} grows along {decl.append_dim}, not {dim}")
    return layout.prepare(ds, product, url, whole), decl.append_dim, {**layout.chunks(product), **dict(chunks or {})}


def _base_attrs(attrs: Mapping) -> dict:
    from geopipe import __version__

    out = dict(attrs)
    out.setdefault("Conventions", "CF-1.10")
    out["geopipe_version"] = __version__
    return out


def create(template: xr.Dataset, store: str, dim: str = "time", chunks: Mapping[str, int] | None = None,
           root=None, storage_options: Mapping | None = None, level: int = DEFAULT_ZSTD_LEVEL,
           product: str | None = None) -> str:
    """Create an empty store (``dim`` of length 0) laid out like ``template``.

    Variables without ``dim`` (grid coordinates, static fields) are written in full.  With a
    catalog ``product`` the template must match its declaration (see :mod:`geopipe.layout`).
    """
    url = resolve_store(store, root)
    template, dim, chunks = _declared(template, product, url, dim, chunks, whole=False)
    full_chunks = {**_default_chunks(template, dim), **dict(chunks or {})}
    empty = template.isel({dim: slice(0, 0)}) if dim in template.dims else template
    empty = empty.copy()
    empty.attrs = _base_attrs(empty.attrs)
    empty.attrs[SOURCES] = json.dumps([])
    empty.attrs[STORE_ID] = uuid.uuid4().hex
    empty.attrs["history"] = ""
    if product:
        empty.attrs["geopipe_product"] = product
    encoding = _encodings(empty, full_chunks, level, product)
    if is_url(url):
        empty.to_zarr(url, mode="w-", zarr_format=3, consolidated=False, compute=True, encoding=encoding,
                      storage_options=_so(url, storage_options))
        return url
    # locally: write beside the target and rename, so a writer killed while creating leaves
    # no half-made store (a leftover temporary folder is removed by the next writer)
    path = Path(url[7:] if url.startswith("file://") else url)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    empty.to_zarr(str(tmp), mode="w-", zarr_format=3, consolidated=False, compute=True, encoding=encoding)
    os.rename(tmp, path)
    return url


# ----------------------------------------------------------------------------- appending


def _shadow(arr: zarr.Array, shape: tuple[int, ...]) -> zarr.Array:
    """The same array with a larger shape, in memory only: its writes land beyond the
    published shape, where readers of the published metadata never look."""
    meta = dataclasses.replace(arr.metadata, shape=shape)
    a = arr.async_array
    return Array(AsyncArray(metadata=meta, store_path=a.store_path, config=a.config))


def _encode_values(name: str, var: xr.Variable, arr: zarr.Array) -> np.ndarray:
    attrs = dict(arr.attrs)
    var = var.copy(deep=False)
    var.attrs = {}
    enc = {k: attrs[k] for k in ("units", "calendar", "scale_factor", "add_offset") if k in attrs}
    enc["dtype"] = arr.dtype
    var.encoding = enc
    encoded = xr.conventions.encode_cf_variable(var, name=name)
    values = np.asarray(encoded.values)
    if values.dtype != arr.dtype:
        values = values.astype(arr.dtype)
    return values


def _write_block(url, storage_options, name, dims, shape, axis, start, block) -> None:
    group = zarr.open_group(_zarr_store(url, storage_options), mode="r+")
    arr = group[name]
    shadow = _shadow(arr, tuple(shape))
    values = _encode_values(name, xr.Variable(dims, np.asarray(block)), arr)
    index = [slice(None)] * len(shape)
    index[axis] = slice(start, start + values.shape[axis])
    shadow[tuple(index)] = values


def _block_edges(start: int, stop: int, chunk: int) -> list[tuple[int, int]]:
    """Split [start, stop) at multiples of ``chunk`` so each piece lies in one chunk/shard."""
    edges, a = [], start
    while a < stop:
        b = min(stop, (a // chunk + 1) * chunk)
        edges.append((a, b))
        a = b
    return edges


def _check_static(ds: xr.Dataset, group: zarr.Group, dim: str, url: str) -> None:
    """Variables without ``dim`` (the grid) must match the store's exactly."""
    for name, var in ds.variables.items():
        if dim in var.dims or name not in group:
            continue
        stored = group[name]
        if tuple(stored.shape) != tuple(var.shape):
            raise StoreError(f"{url}: {name} has shape {var.shape}, the store holds {tuple(stored.shape)} (a different grid)")
        if var.dtype.kind in "fc":
            stored_vals = xr.conventions.decode_cf_variable(name, xr.Variable(var.dims, stored[...], attrs=dict(stored.attrs))).values
            if not np.allclose(np.asarray(var.values, dtype="f8"), np.asarray(stored_vals, dtype="f8"), equal_nan=True, atol=1e-6):
                raise StoreError(f"{url}: {name} differs from the store's {name} (a different grid)")


def _roll_forward(group: zarr.Group) -> None:
    pending = group.attrs.get(PENDING)
    if not pending:
        return
    shapes = pending["shapes"]
    dim = pending["dim"]
    # data and auxiliary variables first, the dimension coordinate last: it is what readers key on
    for name in sorted(shapes, key=lambda n: n == dim):
        arr = group[name]
        if tuple(arr.shape) != tuple(shapes[name]):
            arr.resize(tuple(shapes[name]))
    attrs = dict(group.attrs)
    attrs.update(pending.get("attrs", {}))
    attrs.pop(PENDING, None)
    group.attrs.put(attrs)


def repair(store: str, root=None, storage_options: Mapping | None = None) -> bool:
    """Finish an append that a killed writer left half-published. True if there was one."""
    url = resolve_store(store, root)
    with store_lock(url):
        _restore_replaced(url)
        if not exists(url, storage_options=storage_options):
            return False
        group = zarr.open_group(_zarr_store(url, storage_options), mode="r+")
        had = PENDING in group.attrs
        _roll_forward(group)
        return had


def _provenance_attrs(group_attrs: Mapping, sources: Iterable[Mapping] | None, summary: str) -> dict:
    from geopipe import __version__

    known = json.loads(group_attrs.get(SOURCES, "[]") or "[]")
    seen = {(s.get("path"), s.get("sha256")) for s in known}
    for s in sources or []:
        key = (s.get("path"), s.get("sha256"))
        if key not in seen:
            known.append(dict(s))
            seen.add(key)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = (group_attrs.get("history") or "").strip()
    line = f"{now} geopipe {__version__}: {summary}"
    return {
        SOURCES: json.dumps(known),
        "history": (history + "\n" + line).strip(),
        "date_modified": now,
        "geopipe_version": __version__,
    }


def append(ds: xr.Dataset, store: str, dim: str | None = None, chunks: Mapping[str, int] | None = None,
           sources: Iterable[Mapping] | None = None, attrs: Mapping | None = None, root=None,
           storage_options: Mapping | None = None, level: int = DEFAULT_ZSTD_LEVEL,
           product: str | None = None, ordered: bool = False) -> WriteResult:
    """Append the steps of ``ds`` along ``dim`` that ``store`` lacks (create the store if needed).

    ``sources`` are provenance records (``{"path", "size", "sha256"}``) of the input files.
    Variables new to the store are added (filled with their fill value where ``ds`` has no
    data).  Returns a :class:`WriteResult`; a re-run of the same input writes nothing.

    With a catalog ``product`` the data must match its declaration (dims, dtypes, units;
    :mod:`geopipe.layout`), and the product's dim and chunks are used.  ``ordered`` refuses
    steps earlier than the store's last one (:class:`OrderError`): an append never inserts,
    so writers that must keep the index sorted wait and retry (see :func:`append_in_order`).
    """
    url = resolve_store(store, root)
    ds, dim, chunks = _declared(ds, product, url, dim or "time", chunks, whole=False)
    if dim not in ds.dims:
        raise StoreError(f"{url}: the data to write has no {dim!r} dimension")
    index = pd.Index(ds[dim].values)
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise StoreError(f"{url}: the data to write repeats {dim}={dup}")
    with store_lock(url):
        _restore_replaced(url)
        if not exists(url, storage_options=storage_options):
            create(ds, url, dim=dim, chunks=chunks, storage_options=storage_options, level=level, product=product)
        group = zarr.open_group(_zarr_store(url, storage_options), mode="r+")
        _roll_forward(group)
        _check_static(ds, group, dim, url)
        present = _decoded_index(group, dim)
        n0 = len(present)
        is_new = ~index.isin(present)
        new_vars = [v for v in ds.data_vars if v not in group]
        if new_vars:
            # decode everything before the first write: a file whose values cannot be decoded
            # must not leave its new (empty) variables in the store
            ds = ds.load()
            _add_variables(ds[new_vars], group, url, dim, n0, present, chunks, storage_options, level, product)
            group = zarr.open_group(_zarr_store(url, storage_options), mode="r+")
        filled = _fill_gaps(ds.isel({dim: np.flatnonzero(~is_new)}), group, dim, present,
                            skip=set(new_vars))
        # all new and in order (the usual append): no copy of the data to select or sort
        todo = ds if is_new.all() and index.is_monotonic_increasing else ds.isel({dim: np.flatnonzero(is_new)}).sortby(dim)
        k = todo.sizes[dim]
        if k == 0 and not new_vars and not filled:
            return WriteResult(url, 0, int(len(index)), [])
        if k and ordered and n0 and pd.Index(todo[dim].values).min() < present.max():
            raise OrderError(f"{url}: the data to write starts at {dim}={pd.Index(todo[dim].values).min()}, "
                             f"before the store's last {dim}={present.max()}")
        if k:
            if n0 and pd.Index(todo[dim].values).min() < present.max():
                log.warning("%s: appending %s values earlier than the last one stored; the %s index is no longer sorted",
                            url, dim, dim)
            _write_new_steps(todo, group, url, dim, n0, storage_options)
        summary = f"appended {k} {dim} steps" + (f", added variables {', '.join(new_vars)}" if new_vars else "") \
            + (f", filled gaps at {filled} {dim} steps" if filled else "")
        meta = _provenance_attrs(dict(group.attrs), sources, summary)
        if attrs:
            meta.update({k2: v for k2, v in attrs.items()})
        shapes = {}
        for name, arr in group.arrays():
            dims = _dims_of(arr)
            if dim in dims:
                shape = list(arr.shape)
                shape[dims.index(dim)] = n0 + k
                shapes[name] = shape
        group.attrs[PENDING] = {"dim": dim, "shapes": shapes, "attrs": meta}
        _roll_forward(zarr.open_group(_zarr_store(url, storage_options), mode="r+"))
        times = [str(t) for t in todo[dim].values]
        return WriteResult(url, int(k), int(len(index) - k), new_vars, times)


def _dims_of(arr: zarr.Array) -> tuple[str, ...]:
    return tuple(arr.metadata.dimension_names or ())


def _write_new_steps(todo: xr.Dataset, group: zarr.Group, url: str, dim: str, n0: int, storage_options) -> None:
    k = todo.sizes[dim]
    tasks = []
    variables = dict(todo.variables)
    for name, arr in group.arrays():
        dims = _dims_of(arr)
        if dim in dims and name not in variables:
            # the store has a variable this input lacks: its new steps hold the fill value
            # (written explicitly, so chunks a killed writer left beyond the shape never show)
            shape = tuple(k if d == dim else n for d, n in zip(dims, arr.shape))
            fill = arr.metadata.fill_value
            dtype = "datetime64[ns]" if arr.attrs.get("calendar") else arr.dtype
            variables[name] = xr.Variable(dims, np.full(shape, np.datetime64("NaT") if arr.attrs.get("calendar")
                                                         else fill, dtype=dtype))
    for name, var in variables.items():
        if dim not in var.dims:
            continue
        if name not in group:
            raise StoreError(f"{url}: {name} is not in the store")
        arr = group[name]
        axis = var.dims.index(dim)
        shape = list(arr.shape)
        shape[axis] = n0 + k
        along = (arr.shards or arr.chunks)[axis]
        for a, b in _block_edges(n0, n0 + k, along):
            block = var.data[(slice(None),) * axis + (slice(a - n0, b - n0),)]
            tasks.append(dask.delayed(_write_block)(url, storage_options, name, var.dims, shape, axis, a, block))
    dask.compute(*tasks)


def _fill_gaps(old: xr.Dataset, group: zarr.Group, dim: str, present: pd.Index, skip: set[str]) -> int:
    """Write values for steps the store already has, where the store holds only gaps (NaN).

    This lets several inputs feed one store (an hourly Dst file after a one-minute SYM-H
    file covering the same days) and lets a re-run complete a step that a killed writer left
    partly filled.  Stored values are never overwritten by different values: a step is
    rewritten only where the store is NaN and the input is not, and then with the input's
    values, which equal the stored ones wherever both exist for a re-run of the same file.
    Returns the number of (variable, step) pairs written.
    """
    if old.sizes.get(dim, 0) == 0:
        return 0
    positions = present.get_indexer(pd.Index(old[dim].values))
    written = 0
    for name, var in old.data_vars.items():
        if name in skip or dim not in var.dims or var.dtype.kind != "f" or name not in group:
            continue
        arr = group[name]
        axis = var.dims.index(dim)
        along = (arr.shards or arr.chunks)[axis]
        order = np.argsort(positions)
        for a in range(0, len(order), max(1, along)):
            sel = order[a:a + max(1, along)]
            pos = positions[sel]
            index = [slice(None)] * arr.ndim
            index[axis] = pos
            stored = arr.get_orthogonal_selection(tuple(index))
            new = np.asarray(var.isel({dim: sel}).values)
            other = tuple(i for i in range(arr.ndim) if i != axis)
            need = (np.isnan(stored) & ~np.isnan(new)).any(axis=other) if other else (np.isnan(stored) & ~np.isnan(new))
            if not need.any():
                continue
            keep = np.flatnonzero(need)
            values = _encode_values(name, xr.Variable(var.dims, np.take(new, keep, axis=axis)), arr)
            index[axis] = pos[keep]
            arr.set_orthogonal_selection(tuple(index), values)
            written += int(len(keep))
    return written


def _add_variables(new: xr.Dataset, group, url, dim, n0, present, chunks, storage_options, level,
                   product: str | None = None) -> None:
    """Add variables the store lacks, sized to the published ``dim``; fill the steps ``new`` has."""
    import dask.array as da

    full_chunks = {**_default_chunks(new, dim), **dict(chunks or {})}
    # xarray's append mode rewrites the group attributes: hand it the store's own
    template = xr.Dataset(attrs=dict(group.attrs))
    for name, var in new.data_vars.items():
        shape = tuple(n0 if d == dim else new.sizes[d] for d in var.dims)
        fill = np.nan if var.dtype.kind == "f" else 0
        data = da.full(shape, fill, dtype=var.dtype)
        template[name] = xr.Variable(var.dims, data, attrs=var.attrs)
    enc = {n: e for n, e in _encodings(template, full_chunks, level, product).items() if n in template.data_vars}
    template.to_zarr(url, mode="a", zarr_format=3, consolidated=False, compute=False, encoding=enc,
                     storage_options=_so(url, storage_options))
    overlap = pd.Index(new[dim].values).get_indexer(present)
    have = np.flatnonzero(overlap >= 0)
    if len(have):
        group = zarr.open_group(_zarr_store(url, storage_options), mode="r+")
        for name in new.data_vars:
            arr = group[name]
            var = new[name].variable
            axis = var.dims.index(dim)
            along = max(1, (arr.shards or arr.chunks)[axis])
            # one orthogonal write per chunk's worth of steps (not one per step)
            for a in range(0, len(have), along):
                pos = have[a:a + along]
                values = _encode_values(name, var[{dim: overlap[pos]}].load(), arr)
                index = [slice(None)] * arr.ndim
                index[axis] = pos
                arr.set_orthogonal_selection(tuple(index), values)


# ----------------------------------------------------------------------------- replacing


def _restore_replaced(url: str) -> None:
    """Undo a replace killed between its two renames (local stores only)."""
    if is_url(url):
        return
    path = Path(url)
    olds = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.exists() else []
    if olds and not path.exists():
        os.rename(olds[-1], path)
        olds = olds[:-1]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in path.parent.glob(f".{path.name}.tmp-*") if path.parent.exists() else []:
        shutil.rmtree(tmp, ignore_errors=True)


def replace(ds: xr.Dataset, store: str, dim: str | None = None, chunks: Mapping[str, int] | None = None,
            sources: Iterable[Mapping] | None = None, summary: str = "replaced", root=None,
            storage_options: Mapping | None = None, level: int = DEFAULT_ZSTD_LEVEL,
            product: str | None = None) -> str:
    """Write ``ds`` as the whole content of ``store``.

    Local stores are written beside the target and swapped in by rename, so a reader sees
    the old store or the new one, never a mixture.  Provenance accumulates across replaces.
    """
    url = resolve_store(store, root)
    ds, dim, chunks = _declared(ds, product, url, dim, chunks, whole=True)
    dim = dim or (next(iter(ds.dims)) if ds.dims else None)
    full_chunks = {**(_default_chunks(ds, dim) if dim else {}), **dict(chunks or {})}
    with store_lock(url):
        _restore_replaced(url)
        old_attrs = {}
        if exists(url, storage_options=storage_options):
            old_attrs = dict(zarr.open_group(_zarr_store(url, storage_options, read_only=True), mode="r").attrs)
        out = ds.copy()
        out.attrs = _base_attrs(out.attrs)
        out.attrs.update(_provenance_attrs(old_attrs, sources, summary))
        out.attrs[STORE_ID] = old_attrs.get(STORE_ID) or uuid.uuid4().hex
        if product:
            out.attrs["geopipe_product"] = product
        enc = _encodings(out, full_chunks, level, product)
        if is_url(url):
            out.to_zarr(url, mode="w", zarr_format=3, consolidated=False, encoding=enc,
                        storage_options=_so(url, storage_options))
            return url
        path = Path(url)
        tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
        out.to_zarr(str(tmp), mode="w-", zarr_format=3, consolidated=False, encoding=enc)
        if path.exists():
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
        return url


def _equal(a: xr.Dataset, b: xr.Dataset) -> bool:
    """Same variables, same values (NaN equal to NaN, strings compared as text)."""
    from geopipe.flags import strings

    if set(a.data_vars) != set(b.data_vars) or dict(a.sizes) != dict(b.sizes):
        return False
    for name in a.data_vars:
        x, y = np.asarray(a[name].values), np.asarray(b[name].values)
        if x.dtype.kind in "OUST" or y.dtype.kind in "OUST":
            if not np.array_equal(strings(x), strings(y)):
                return False
        elif not np.array_equal(x, y, equal_nan=x.dtype.kind in "fcmM"):
            return False
    return True


def merge(ds: xr.Dataset, store: str, key: str | None = None, dim: str | None = None,
          sources: Iterable[Mapping] | None = None, root=None, storage_options: Mapping | None = None,
          product: str | None = None, sort: Iterable[str] = (), level: int = DEFAULT_ZSTD_LEVEL) -> WriteResult:
    """Merge ``ds`` into ``store`` by ``key``: lock, load, compare, rewrite (whole, by rename).

    ``key`` is a variable along ``dim`` (the storm id of best tracks): the rows of every key
    in ``ds`` replace that key's stored rows, the others stay; rows are sorted by ``key``
    then ``sort``.  ``key == dim`` (index series): steps new to the store are added, the
    store's NaN gaps are filled, stored values win; when every new step is later than the
    store's last, that is a plain :func:`append` (no rewrite).  Re-merging the same data
    writes nothing.  With a catalog ``product``, its dim is the default.
    """
    url = resolve_store(store, root)
    if product:
        from geopipe import layout

        dim = dim or layout.product(product).append_dim
    dim = dim or (next(iter(ds.dims)) if ds.dims else "time")
    key = key or dim
    sources = list(sources or [])
    with store_lock(url):  # read, merge and rewrite as one step for other writers
        _restore_replaced(url)
        if key == dim:
            return _merge_index(ds, url, dim, sources, storage_options, product, level)
        return _merge_by_key(ds, url, key, dim, list(sort), sources, storage_options, product, level)


def _merge_index(ds, url, dim, sources, storage_options, product, level) -> WriteResult:
    if not exists(url, storage_options=storage_options):
        return append(ds, url, dim=dim, sources=sources, storage_options=storage_options, product=product, level=level)
    old = open_store(url, storage_options=storage_options)
    present = pd.Index(old[dim].values)
    index = pd.Index(ds[dim].values)
    shared = index.isin(present)
    fresh = index[~shared]
    if len(fresh) == 0 or len(present) == 0 or fresh.min() > present.max():
        # the usual case (a later file, a re-run, another index over the same days): append
        # the new steps, add new variables and fill the store's gaps
        return append(ds, url, dim=dim, sources=sources, storage_options=storage_options, product=product, level=level)
    # steps earlier than the store's end: rewrite the store in index order, stored values winning
    merged = old.load().combine_first(ds).sortby(dim)
    merged = merged[list(old.data_vars) + [v for v in ds.data_vars if v not in old.data_vars]]
    for name, var in ds.data_vars.items():  # combine_first keeps the store's attrs; new variables keep theirs
        if not merged[name].attrs:
            merged[name].attrs = dict(var.attrs)
    for var in merged.variables.values():
        var.encoding = {}
    summary = f"merged {len(fresh)} new {dim} steps and filled gaps at {int(shared.sum())} stored steps"
    replace(merged, url, dim=dim, sources=sources, summary=summary, storage_options=storage_options,
            product=product, level=level, chunks=_stored_chunks(old, dim))
    return WriteResult(url, len(fresh), int(shared.sum()), [v for v in ds.data_vars if v not in old],
                       [str(t) for t in fresh])


def _stored_chunks(old: xr.Dataset, dim: str) -> dict[str, int]:
    for var in old.data_vars.values():
        if dim in var.dims and var.encoding.get("chunks"):
            return {dim: int(var.encoding["chunks"][var.dims.index(dim)])}
    return {}


def _merge_by_key(ds, url, key, dim, sort, sources, storage_options, product, level) -> WriteResult:
    from geopipe.flags import strings

    n = ds.sizes[dim]
    new_keys = np.unique(strings(ds[key].values))
    merged, replaced = ds, 0
    if exists(url, storage_options=storage_options):
        old = open_store(url, storage_options=storage_options).load()
        hit = np.isin(strings(old[key].values), new_keys)
        if _equal(old.isel({dim: np.flatnonzero(hit)})[list(ds.data_vars)], ds):
            return WriteResult(url, 0, n)
        replaced = int(hit.sum())
        merged = xr.concat([old.isel({dim: np.flatnonzero(~hit)}), ds], dim=dim, data_vars="all")
    elif n == 0:
        log.warning("%s: no rows to merge; nothing written", url)
        return WriteResult(url, 0, 0)
    # rows sorted by key, then by the ``sort`` variables (np.lexsort: the last key is the first)
    order = np.lexsort(tuple(np.asarray(merged[s].values) for s in reversed(sort)) + (strings(merged[key].values),))
    merged = merged.isel({dim: order})
    for var in merged.variables.values():
        var.encoding = {}
    merged.attrs = dict(ds.attrs)
    summary = f"{len(new_keys)} {key} values: {n} rows written, {replaced} earlier rows replaced"
    import warnings

    with warnings.catch_warnings():
        # fixed-width unicode has no Zarr v3 spec yet; zarr-python reads it back as <U
        warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
        replace(merged, url, dim=dim, sources=sources, summary=summary, storage_options=storage_options,
                product=product, level=level)
    return WriteResult(url, n, 0)


def store_id(store: str, root=None, storage_options: Mapping | None = None) -> str:
    """A random id given to a store when it is created: a recreated store gets a new one."""
    url = resolve_store(store, root)
    group = zarr.open_group(_zarr_store(url, storage_options, read_only=True), mode="r")
    return str(group.attrs.get(STORE_ID, ""))


def sources_of(store: str, root=None, storage_options: Mapping | None = None) -> list[dict]:
    """The provenance records of the files a store was built from."""
    url = resolve_store(store, root)
    group = zarr.open_group(_zarr_store(url, storage_options, read_only=True), mode="r")
    return json.loads(group.attrs.get(SOURCES, "[]") or "[]")
