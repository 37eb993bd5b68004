"""Product layouts: what the catalog declares a store holds, what a store holds, and the check.

The catalog (``catalog/products.yaml``) declares each product once: dims, coordinates and
variables with dtype, units, CF attributes, flags and fill values, chunks and shards.  This
module turns a declaration into

* :func:`declaration` -- its JSON form (``geopipe catalog show NAME --json``);
* :func:`describe` -- the same form read back from a store's metadata, so the two compare
  with ``==`` (tests do, on stores written by the real code paths);
* :func:`prepare` -- what :mod:`geopipe.store` calls before every write of a product: the
  Dataset checked against the declaration (a mismatch raises :class:`StoreError` naming the
  store, the variable and the difference), with the declared CF attributes set and
  categorical strings encoded as CF flags;
* :func:`template` -- the ``zarr.json`` (consolidated metadata) of an empty store made from
  the declaration by :func:`geopipe.store.create`; one per product is checked in under
  ``catalog/templates/`` (``python -m geopipe.catalog templates --update`` rewrites them).
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from geopipe import flags as _flags
from geopipe.errors import StoreError

#: the attributes compared between a declaration and a store (the CF ones geopipe declares)
LAYOUT_ATTRS = ("units", "long_name", "standard_name", "axis", "comment", "flag_values", "flag_meanings")
#: attributes of a template that change with every write (dropped from templates)
VOLATILE = ("history", "date_modified", "geopipe_version", "geopipe_sources", "geopipe_store_id", "geopipe_pending")


def product(name: str):
    from geopipe.catalog import load

    return load().product(name)


# ----------------------------------------------------------------------------- JSON forms


def _fill_json(value) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, (np.generic,)):
        return _fill_json(value.item())
    return value


def default_fill(dtype: str) -> Any:
    """The fill value a variable of ``dtype`` gets when its declaration names none."""
    if dtype == "str" or dtype.startswith(("datetime64", "timedelta64")):
        return None
    kind = np.dtype(dtype).kind
    if kind in "fc":
        return "NaN"
    if kind == "b":
        return False
    return 0


def _var_json(var) -> dict:
    fill = var.fill_value if var.fill_value is not None else default_fill(var.dtype)
    out = {"dims": list(var.dims), "dtype": var.dtype, "attrs": var.attrs()}
    if fill is not None:
        out["fill_value"] = _fill_json(fill)
    return out


def declaration(name: str) -> dict:
    """The declared layout of product ``name`` (``dims``, ``chunks``, ``coords``, ``variables``, ...)."""
    p = product(name)
    return {
        "store": p.store,
        "dims": list(p.dims),
        "append_dim": p.append_dim,
        "chunks": dict(p.chunks),
        "shards": dict(p.shards),
        "coords": {n: _var_json(v) for n, v in p.coords.items()},
        "variables": {n: _var_json(v) for n, v in p.variables.items()},
    }


def _dtype_name(var: xr.Variable) -> str:
    if var.dtype.kind in "OUST":
        return "str"
    return str(var.dtype)


def _stored_fill(arr) -> Any:
    fill = arr.metadata.fill_value
    if isinstance(fill, (bytes, str)) or fill is None:
        return None
    return _fill_json(fill.item() if hasattr(fill, "item") else fill)


def describe(store: str, name: str, root=None, storage_options: Mapping | None = None) -> dict:
    """What ``store`` holds, in the form of :func:`declaration` for product ``name``.

    Variables not declared appear too (so a comparison shows them); chunks are reported
    along the dims the declaration chunks and along any dim a store chunks smaller than
    its extent.
    """
    import zarr

    from geopipe import store as _store

    p = product(name)
    ds = _store.open_store(store, root=root, storage_options=storage_options)
    url = _store.resolve_store(store, root)
    group = zarr.open_group(_store._zarr_store(url, storage_options, read_only=True), mode="r")
    chunks: dict[str, set] = {}
    shards: dict[str, set] = {}
    out_coords, out_vars = {}, {}
    for vname, var in ds.variables.items():
        arr = group[vname]
        keys = _keys(p.variable(vname))
        entry = {"dims": list(var.dims), "dtype": _dtype_name(var),
                 "attrs": {k: _jsonable(var.attrs[k]) for k in keys if k in var.attrs}}
        fill = None if entry["dtype"] == "str" or entry["dtype"].startswith(("datetime", "timedelta")) \
            else _stored_fill(arr)
        if fill is not None:
            entry["fill_value"] = fill
        (out_coords if vname in ds.coords else out_vars)[vname] = entry
        inner = arr.chunks
        outer = arr.shards
        for d, n, c in zip(var.dims, arr.shape, inner):
            if d in p.chunks or c < n or d == p.append_dim:
                chunks.setdefault(d, set()).add(int(c))
        if outer:
            for d, s in zip(var.dims, outer):
                shards.setdefault(d, set()).add(int(s))
    return {
        "store": p.store,
        "dims": [d for d in p.dims if d in ds.dims] + [d for d in ds.dims if d not in p.dims],
        "append_dim": p.append_dim,
        "chunks": {d: _one(v) for d, v in chunks.items() if d in p.chunks or len(v) > 1 or _one(v) < ds.sizes[d]},
        "shards": {d: _one(v) for d, v in shards.items()},
        "coords": out_coords,
        "variables": out_vars,
    }


def _keys(decl) -> tuple[str, ...]:
    """The attributes compared for a variable: those its declaration names (a declared
    variable may carry more, e.g. GRIB keys or the units of the series a window was cut
    from); the CF ones for a variable the catalog does not declare."""
    return tuple(decl.attrs()) if decl is not None else LAYOUT_ATTRS


def _one(values: set):
    return next(iter(values)) if len(values) == 1 else sorted(values)


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def expected(name: str, stored: dict) -> dict:
    """The declaration restricted to what a store may lack: optional variables it does not hold
    are left out, and so are chunks of dims it does not have."""
    p = product(name)
    out = declaration(name)
    for table in ("coords", "variables"):
        decl = p.coords if table == "coords" else p.variables
        out[table] = {n: v for n, v in out[table].items() if decl[n].required or n in stored[table]}
    if p.other_variables is not None:
        for n in stored["variables"]:
            if n not in out["variables"]:
                out["variables"][n] = _var_json(p.other_variables)
    return out


# ----------------------------------------------------------------------------- the write check


def prepare(ds: xr.Dataset, name: str, url: str, whole: bool) -> xr.Dataset:
    """``ds`` as product ``name`` stores it: checked, CF attributes set, flags encoded.

    ``whole`` is True for a write that becomes the whole store (create, replace): then every
    required variable must be there.  Raises :class:`StoreError` naming ``url``.
    """
    p = product(name)
    problems = []
    extra_dims = [d for d in ds.dims if d not in p.dims]
    if extra_dims:
        problems.append(f"dims {extra_dims} are not dims of product {name} {p.dims}")
    out = ds.copy()
    for vname, var in ds.variables.items():
        decl = p.coords.get(vname) if vname in ds.coords else p.variables.get(vname)
        if decl is None and vname not in ds.coords and p.other_variables is not None:
            decl = p.other_variables
        if decl is None:
            problems.append(f"{vname} is not declared for product {name}")
            continue
        if list(var.dims) != list(decl.dims):
            problems.append(f"{vname} has dims {list(var.dims)}, declared {decl.dims}")
            continue
        new = var
        if decl.flags is not None and var.dtype.kind in "OUST":
            new = _flags.encode(var, decl.flags, decl.dtype, where=f"{url}: {vname}")
        got = _dtype_name(new)
        if got != decl.dtype and got[:10] == decl.dtype[:10] and got.startswith(("datetime64", "timedelta64")):
            new = new.astype(decl.dtype)  # another time unit (pandas 3 gives us): stored the same way
            got = decl.dtype
        if got != decl.dtype:
            problems.append(f"{vname} is {got}, declared {decl.dtype}")
            continue
        declared_attrs = decl.attrs()
        for key, value in declared_attrs.items():
            have = new.attrs.get(key)
            if have is not None and _jsonable(have) != value and str(_jsonable(have)) != str(value):
                problems.append(f"{vname} has {key}={have!r}, declared {value!r}")
        if decl.flags is not None and new.size:
            bad = np.setdiff1d(np.unique(np.asarray(new.values)), list(decl.flags))
            if len(bad):
                problems.append(f"{vname} holds {bad.tolist()}, not among its flag values {sorted(decl.flags)}")
        new = new.copy(deep=False)
        new.attrs = {**new.attrs, **declared_attrs}
        if vname in ds.coords:
            out = out.assign_coords({vname: new})
        else:
            out[vname] = new
    if whole:
        missing = [n for n, v in {**p.coords, **p.variables}.items() if v.required and n not in ds.variables]
        if missing:
            problems.append(f"lacks {', '.join(missing)}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise StoreError(f"{url}: the write does not match the catalog's product {name}: "
                         f"{'; '.join(problems[:3])}{more}")
    return out


def chunks(name: str) -> dict[str, int]:
    return dict(product(name).chunks)


def shards(name: str) -> dict[str, int]:
    return dict(product(name).shards)


def fill_values(name: str) -> dict[str, Any]:
    """Declared fill values (only those the declaration names)."""
    p = product(name)
    return {n: v.fill_value for n, v in {**p.coords, **p.variables}.items() if v.fill_value is not None}


# ----------------------------------------------------------------------------- templates


def _empty(name: str) -> xr.Dataset:
    """An empty Dataset laid out as declared: the append dim of length 0, other dims of length 1."""
    p = product(name)
    size = {d: 0 if d == p.append_dim else 1 for d in p.dims}

    def make(var):
        shape = tuple(size[d] for d in var.dims)
        if var.dtype == "str":
            data = np.full(shape, "", dtype=object)
        elif var.dtype.startswith("datetime64"):
            data = np.full(shape, np.datetime64("2000-01-01", "ns"))
        elif var.dtype.startswith("timedelta64"):
            data = np.full(shape, np.timedelta64(0, "ns"))
        else:
            data = np.zeros(shape, dtype=var.dtype)
        return xr.Variable(var.dims, data)

    coords = {n: make(v) for n, v in p.coords.items()}
    data = {n: make(v) for n, v in p.variables.items()}
    return xr.Dataset(data, coords=coords)


def template_path(name: str) -> Path:
    from geopipe.catalog import catalog_dir

    return Path(catalog_dir()) / "templates" / f"{name}.zarr.json"


def template(name: str) -> dict:
    """The consolidated ``zarr.json`` of an empty store of product ``name``, made by the real writer."""
    import zarr

    from geopipe import store as _store

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / f"{name}.zarr")
        _store.create(_empty(name), path, dim=product(name).append_dim, product=name)
        with warnings.catch_warnings():  # "consolidated metadata is not part of the v3 spec": a template only
            warnings.simplefilter("ignore")
            zarr.consolidate_metadata(path, zarr_format=3)
        meta = json.loads((Path(path) / "zarr.json").read_text())
    return normalise(meta)


def normalise(meta: dict) -> dict:
    """A store's root ``zarr.json`` without what changes per write (provenance, history, ids)."""
    meta = json.loads(json.dumps(meta))
    for key in VOLATILE:
        meta.get("attributes", {}).pop(key, None)
    arrays = meta.get("consolidated_metadata", {}).get("metadata", {})
    meta["consolidated_metadata"]["metadata"] = {k: arrays[k] for k in sorted(arrays)}
    return meta


def write_template(name: str) -> Path:
    path = template_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template(name), indent=1, sort_keys=True) + "\n")
    return path


def read_template(name: str) -> dict | None:
    path = template_path(name)
    return json.loads(path.read_text()) if path.exists() else None


# ----------------------------------------------------------------------------- drafting


def draft(store: str, append_dim: str = "time", root=None) -> dict:
    """A products.yaml entry describing an existing store (a start for declaring a new product)."""
    import zarr

    from geopipe import store as _store

    url = _store.resolve_store(store, root)
    ds = _store.open_store(url)
    group = zarr.open_group(_store._zarr_store(url, None, read_only=True), mode="r")

    def entry(name, var):
        out: dict[str, Any] = {"dims": list(var.dims), "dtype": _dtype_name(var)}
        for key in ("units", "long_name", "standard_name", "axis", "comment"):
            if key in var.attrs:
                out[key] = _jsonable(var.attrs[key])
        if "flag_values" in var.attrs and "flag_meanings" in var.attrs:
            out["flags"] = {int(v): m for v, m in zip(np.atleast_1d(var.attrs["flag_values"]).tolist(),
                                                       str(var.attrs["flag_meanings"]).split())}
        fill = _stored_fill(group[name]) if out["dtype"] != "str" and not out["dtype"].startswith(("datetime", "timedelta")) else None
        if fill is not None and fill != default_fill(out["dtype"]):
            out["fill_value"] = fill
        return out

    chunks = {}
    for name, var in ds.variables.items():
        for d, n, c in zip(var.dims, group[name].shape, group[name].chunks):
            if c < n or d == append_dim:
                chunks[d] = int(c)
    return {"store": str(store), "dims": list(ds.dims), "append_dim": append_dim, "chunks": chunks,
            "coords": {n: entry(n, v) for n, v in ds.coords.items()},
            "variables": {n: entry(n, v) for n, v in ds.data_vars.items()}}


# ----------------------------------------------------------------------------- README


README_START, README_END = "<!-- store-table:start -->", "<!-- store-table:end -->"


def readme_table() -> str:
    """The README's store table, from the catalog (``python -m geopipe.layout readme`` writes it)."""
    from geopipe.catalog import load

    lines = [README_START,
             "<!-- generated from catalog/products.yaml by `python -m geopipe.layout readme`; do not edit -->",
             "| product | store | dims | variables |", "|---|---|---|---|"]
    for name, p in load().products.items():
        names = [n if v.required else f"{n}?" for n, v in p.variables.items()]
        if p.other_variables is not None:
            names.append("(+ named by the input)")
        lines.append(f"| {name} | `{p.store}` | {', '.join(p.dims)} | {', '.join(names)} |")
    lines.append(README_END)
    return "\n".join(lines)


def write_readme(path: str | Path) -> bool:
    """Replace the store table between its markers in ``path``; True if it changed."""
    path = Path(path)
    text = path.read_text()
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = head + readme_table() + tail
    path.write_text(new)
    return new != text


if __name__ == "__main__":  # pragma: no cover
    import sys

    if sys.argv[1:2] != ["readme"]:
        raise SystemExit("usage: python -m geopipe.layout readme [README.md]")
    print("updated" if write_readme(sys.argv[2] if len(sys.argv) > 2 else "README.md") else "unchanged")
