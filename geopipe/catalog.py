"""The catalog: declarative sources, products and grids (``catalog/*.yaml``), validated.

``load()`` returns a :class:`Catalog`; a bad entry raises :class:`CatalogError` naming the
file, the entry and the field.  ``open_product(name)`` opens a product under the data root.

The YAML files live in the project's ``catalog/`` folder, which the package holds as
``geopipe/catalog_data`` (a link in a checkout, real files in a wheel), so an installed
geopipe finds them wherever it runs.  ``$GEOPIPE_CATALOG`` points at another folder.

Each product's layout is declared once, in ``products.yaml`` (see :mod:`geopipe.layout`).
Its template (``catalog/templates/NAME.zarr.json``) is rewritten by::

    python -m geopipe.catalog templates --update        # every product (or name some)
    python -m geopipe.catalog draft STORE --dim time    # a products.yaml entry from a store
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geopipe.config import data_root, is_url, safe_child
from geopipe.errors import CatalogError
from geopipe.lazy import lazy_import

np = lazy_import("numpy")  # only for grid coordinates: `geopipe catalog list` starts without it

#: inside the package: ``geopipe/catalog_data`` is the project's ``catalog/`` (see pyproject.toml)
DEFAULT_DIR = Path(__file__).resolve().parent / "catalog_data"


def catalog_dir() -> Path:
    return Path(os.environ.get("GEOPIPE_CATALOG", DEFAULT_DIR))


class Remote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    url: str
    index: str | None = None
    storage_options: dict[str, Any] = Field(default_factory=dict)
    #: what one request covers: month (default), year, day, range (the whole range at once) or
    #: recent (a "last N" product such as SWPC's 7-day JSON); see geopipe.sources.inputs
    period: str = "month"
    #: more templates fetched with ``url`` for the same period (SWPC: plasma beside mag)
    also: list[str] = Field(default_factory=list)
    #: templates tried in order when ``url`` is missing (Kyoto Dst: provisional, then realtime)
    fallback: list[str] = Field(default_factory=list)
    #: polite request rate for this host (NOMADS blocks heavy users)
    rate_per_minute: float | None = None
    #: the service needs a user token (name of the token, looked up by geopipe.sources.tokens)
    token: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str
    product: str
    licence: str
    remote: list[Remote] = Field(default_factory=list)
    variables: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def remote_named(self, name: str | None = None) -> Remote:
        for r in self.remote:
            if name is None or r.name == name:
                return r
        raise CatalogError(f"source has no remote named {name!r} (have: {[r.name for r in self.remote]})")


class Variable(BaseModel):
    """One declared array of a product: dims, dtype, units, CF attributes, fill value, flags."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    dims: list[str]
    dtype: str
    units: str | None = None
    long_name: str | None = None
    standard_name: str | None = None
    axis: str | None = None
    comment: str | None = None
    #: categorical values (CF flags): ``{0: train, 1: val, 2: test}``; stored as flag_values/flag_meanings
    flags: dict[int, str] | None = None
    fill_value: float | int | str | None = None
    #: other attributes (``cf_role``, ...), stored as given
    attrs_: dict[str, Any] = Field(default_factory=dict, alias="attrs")
    #: False when the store holds the variable only if an input brought it (e.g. Dst, Kp)
    required: bool = True

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, v: str) -> str:
        if v != "str":
            try:
                np.dtype(v)
            except TypeError:
                raise ValueError(f"not a numpy dtype: {v!r}") from None
        return v

    @field_validator("flags")
    @classmethod
    def _flags(cls, v):
        if v is not None and any(" " in m or not m for m in v.values()):
            raise ValueError("flag meanings are single words (CF flag_meanings are blank-separated)")
        return v

    def attrs(self) -> dict[str, Any]:
        """The CF attributes the store holds for this variable."""
        out: dict[str, Any] = {}
        for key in ("units", "long_name", "standard_name", "axis", "comment"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.flags is not None:
            out["flag_values"] = sorted(self.flags)
            out["flag_meanings"] = " ".join(self.flags[k] for k in sorted(self.flags))
        out.update(self.attrs_)
        return out


class Product(BaseModel):
    """A store's declared layout: the one place that says what the store holds (see products.yaml)."""

    model_config = ConfigDict(extra="forbid")
    store: str
    dims: list[str]
    #: the dimension the store grows along (appends) or is indexed by (whole rewrites)
    append_dim: str
    source: str | None = None
    chunks: dict[str, int] = Field(default_factory=dict)
    shards: dict[str, int] = Field(default_factory=dict)
    coords: dict[str, Variable] = Field(default_factory=dict)
    variables: dict[str, Variable] = Field(default_factory=dict)
    #: variables named by the input (e.g. GFS fields chosen with --vars): their common layout
    other_variables: Variable | None = None

    @field_validator("store")
    @classmethod
    def _relative(cls, v: str) -> str:
        if os.path.isabs(v) or is_url(v) or ".." in Path(v).parts:
            raise ValueError("must be a path relative to the data root, without '..'")
        return v

    @field_validator("chunks", "shards")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, n in v.items() if n < 1]
        if bad:
            raise ValueError(f"chunk sizes must be >= 1 (bad: {bad})")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Product":
        if self.append_dim not in self.dims:
            raise ValueError(f"append_dim {self.append_dim!r} is not one of dims {self.dims}")
        for kind, table in (("chunks", self.chunks), ("shards", self.shards)):
            bad = [d for d in table if d not in self.dims]
            if bad:
                raise ValueError(f"{kind} names {bad}, not dims of the product {self.dims}")
        for d, n in self.shards.items():
            if n % self.chunks.get(d, n):
                raise ValueError(f"shard of {n} along {d} is not a multiple of its chunk {self.chunks[d]}")
        every = {**self.coords, **self.variables, **({"(other)": self.other_variables} if self.other_variables else {})}
        for name, var in every.items():
            bad = [d for d in var.dims if d not in self.dims]
            if bad:
                raise ValueError(f"variable {name!r} has dims {bad} that the product does not declare")
        return self

    def variable(self, name: str) -> Variable | None:
        return self.coords.get(name) or self.variables.get(name) or (
            self.other_variables if self.other_variables and name not in self.coords else None)

    def flag_variables(self) -> dict[str, Variable]:
        return {n: v for n, v in {**self.coords, **self.variables}.items() if v.flags is not None}


class Axis(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: float
    stop: float
    step: float

    @field_validator("step")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("step must not be 0")
        return v

    @property
    def size(self) -> int:
        return int(round((self.stop - self.start) / self.step)) + 1

    def values(self) -> np.ndarray:
        return np.round(self.start + self.step * np.arange(self.size), 6)


class Grid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Axis
    lon: Axis

    def coords(self) -> dict[str, np.ndarray]:
        return {"latitude": self.lat.values(), "longitude": self.lon.values()}


class Catalog(BaseModel):
    sources: dict[str, Source]
    products: dict[str, Product]
    grids: dict[str, Grid]
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise CatalogError(f"no source named {name!r} in the catalog (have: {', '.join(self.sources)})") from None

    def product(self, name: str) -> Product:
        try:
            return self.products[name]
        except KeyError:
            raise CatalogError(f"no product named {name!r} in the catalog (have: {', '.join(self.products)})") from None

    def grid(self, name: str) -> Grid:
        try:
            return self.grids[name]
        except KeyError:
            raise CatalogError(f"no grid named {name!r} in the catalog (have: {', '.join(self.grids)})") from None

    def store_path(self, product: str, root=None) -> str:
        return safe_child(data_root(root), self.product(product).store)


def _read_yaml(path: Path) -> dict:
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file missing") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping of entries, got {type(data).__name__}")
    return data


def _validate(path: Path, model: type[BaseModel], data: dict) -> dict:
    out = {}
    for name, entry in data.items():
        try:
            out[name] = model.model_validate(entry or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise CatalogError(f"{path}: entry {name!r}, field {field}: {err['msg']}") from None
    return out


@functools.lru_cache(maxsize=8)
def _load(directory: str) -> Catalog:
    d = Path(directory)
    sources = _validate(d / "sources.yaml", Source, _read_yaml(d / "sources.yaml"))
    products = _validate(d / "products.yaml", Product, _read_yaml(d / "products.yaml"))
    grids = _validate(d / "grids.yaml", Grid, _read_yaml(d / "grids.yaml"))
    for name, src in sources.items():
        if src.product not in products:
            raise CatalogError(f"{d / 'sources.yaml'}: entry {name!r}, field product: no product {src.product!r} in products.yaml")
    settings = {}
    for extra in sorted(d.glob("*.yaml")):
        if extra.stem not in ("sources", "products", "grids"):
            settings[extra.stem] = _read_yaml(extra)
    return Catalog(sources=sources, products=products, grids=grids, settings=settings)


def load(directory: str | os.PathLike | None = None) -> Catalog:
    """Load and validate the catalog (``$GEOPIPE_CATALOG`` or the package's ``catalog_data``)."""
    return _load(str(directory or catalog_dir()))


def open_product(name: str, root=None, **kwargs):
    """Open a catalog product (or a store name/path) under the data root as an ``xarray.Dataset``."""
    from geopipe import store

    cat = load()
    path = cat.store_path(name, root) if name in cat.products else name
    return store.open_store(path, root=root, **kwargs)


# ----------------------------------------------------------------------------- python -m geopipe.catalog


def main(argv: list[str] | None = None) -> int:
    """``python -m geopipe.catalog templates [--update] [NAME ...]`` | ``draft STORE [--dim D]``."""
    import argparse
    import json
    import sys

    from geopipe import layout

    parser = argparse.ArgumentParser(prog="python -m geopipe.catalog")
    sub = parser.add_subparsers(dest="command", required=True)
    tp = sub.add_parser("templates", help="check (or with --update rewrite) the products' zarr.json templates")
    tp.add_argument("names", nargs="*", help="products (default: all)")
    tp.add_argument("--update", action="store_true", help="rewrite the templates from the declarations")
    dp = sub.add_parser("draft", help="print a products.yaml entry describing an existing store")
    dp.add_argument("store")
    dp.add_argument("--dim", default="time", help="the dimension the store grows along")
    args = parser.parse_args(argv)
    if args.command == "draft":
        print(yaml.safe_dump({Path(args.store).stem: layout.draft(args.store, args.dim)}, sort_keys=False))
        return 0
    names = args.names or list(load().products)
    stale = []
    for name in names:
        if args.update:
            print(f"wrote {layout.write_template(name)}")
        elif layout.read_template(name) != layout.template(name):
            stale.append(name)
    if stale:
        print(f"templates out of date: {', '.join(stale)} (python -m geopipe.catalog templates --update)",
              file=sys.stderr)
        return 1
    if not args.update:
        print(json.dumps({"checked": names}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
