"""The catalog: declarative sources, products and grids (``catalog/*.yaml``), validated.

``load()`` returns a :class:`Catalog`; a bad entry raises :class:`CatalogError` naming the
file, the entry and the field.  ``open_product(name)`` opens a product under the data root.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geopipe.config import data_root, is_url, safe_child
from geopipe.errors import CatalogError

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalog"


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
    reader: str
    product: str
    formats: list[str]
    cadence: str
    licence: str
    remote: list[Remote] = Field(default_factory=list)
    variables: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def remote_named(self, name: str | None = None) -> Remote:
        for r in self.remote:
            if name is None or r.name == name:
                return r
        raise CatalogError(f"source has no remote named {name!r} (have: {[r.name for r in self.remote]})")


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: str
    dims: list[str]
    source: str | None = None
    chunks: dict[str, int] = Field(default_factory=dict)
    variables: list[str] = Field(default_factory=list)

    @field_validator("store")
    @classmethod
    def _relative(cls, v: str) -> str:
        if os.path.isabs(v) or is_url(v) or ".." in Path(v).parts:
            raise ValueError("must be a path relative to the data root, without '..'")
        return v

    @field_validator("chunks")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, n in v.items() if n < 1]
        if bad:
            raise ValueError(f"chunk sizes must be >= 1 (bad: {bad})")
        return v


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

    def values(self) -> np.ndarray:
        n = int(round((self.stop - self.start) / self.step)) + 1
        return np.round(self.start + self.step * np.arange(n), 6)


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
    """Load and validate the catalog (``$GEOPIPE_CATALOG`` or the project's ``catalog/``)."""
    return _load(str(directory or catalog_dir()))


def open_product(name: str, root=None, **kwargs):
    """Open a catalog product (or a store name/path) under the data root as an ``xarray.Dataset``."""
    from geopipe import store

    cat = load()
    path = cat.store_path(name, root) if name in cat.products else name
    return store.open_store(path, root=root, **kwargs)
