"""The shape every source reader shares (as xarray's backends do).

A reader is a small class with:

``name``                 the catalog source it reads (``gfs``, ``goes``, ...)
``dim``                  the dimension its store grows along (``time``; ``obs`` for tracks)
``guess_can_open(path)`` whether a file looks like one of its files
``find(specs)``          expand files, folders, globs and URLs into a sorted list of inputs
``open_dataset(path)``   read ONE input into an ``xarray.Dataset`` (raise ``InputError`` if bad)
``joins``, ``key``       how its data joins a store: ``"append"`` (new steps along ``dim``) or
                         ``"merge"`` by ``key`` (a variable, or ``dim`` itself for index series;
                         :func:`geopipe.store.merge`)
``write(ds, store)``     put one input's Dataset into the store, as ``joins`` says
``remote_inputs(start, end, remote=..., **options)`` the remote requests for a time range, as a
                         :class:`geopipe.sources.inputs.RemoteInputs` (default: the catalog remote's
                         URL templates; GFS cycles and GOES bucket listings override it)
``add_arguments(p)``     its extra ``geopipe ingest NAME`` options; ``options(args)`` maps them back

The shared driver :func:`geopipe.ingest.ingest` does the rest (provenance, quarantine of bad
files, one write per input), so readers stay short.
"""

from __future__ import annotations

import glob
import os
import threading
import urllib.parse
from collections.abc import Iterable, Sequence


from geopipe.config import is_url
from geopipe.errors import InputError
from geopipe.lazy import lazy_import

fsspec = lazy_import("fsspec")
xr = lazy_import("xarray")
_store = lazy_import("geopipe.store")


#: HDF5 (under netCDF4/h5netcdf) and eccodes are not safe to call from several threads at
#: once: the Prefect flows run one task per file in a thread pool, and two threads opening
#: NetCDF files crash the process.  Readers hold this lock while they are inside those C
#: libraries (downloads happen outside it, so they still overlap).
DECODE_LOCK = threading.RLock()


JOINS = ("append", "merge")


class SourceReader:
    name: str = ""
    dim: str = "time"
    #: how this reader's data joins a store: "append" along ``dim``, or "merge" by ``key``
    joins: str = "append"
    #: the merge key (a variable along ``dim``, or ``dim`` itself); None for appends
    key: str | None = None
    #: filename suffixes (lower case, compression suffixes stripped) this reader claims
    suffixes: tuple[str, ...] = ()

    def __init__(self, **options):
        self.options = options

    # -- discovery ---------------------------------------------------------------------
    def guess_can_open(self, path: str) -> bool:
        name = os.path.basename(str(path)).lower()
        for comp in (".bz2", ".gz", ".xz"):
            if name.endswith(comp):
                name = name[: -len(comp)]
        return any(name.endswith(s) for s in self.suffixes)

    def find(self, specs: Sequence[str], storage_options: dict | None = None) -> list[str]:
        """Files, folders (recursively, the files this reader can open), globs and URLs."""
        out: list[str] = []
        for spec in specs:
            spec = str(spec)
            if is_url(spec):
                # a query string (Kyoto's CGI, ISGI's ws) is not a glob: look for wildcards in the path
                if not any(ch in urllib.parse.urlsplit(spec).path for ch in "*["):
                    out.append(spec)
                    continue
                fs, _, paths = fsspec.get_fs_token_paths(spec, storage_options=storage_options or {})
                proto = spec.split("://", 1)[0]
                if any(ch in spec for ch in "*?["):
                    out.extend(f"{proto}://{p}" if not p.startswith(proto) else p for p in fs.glob(spec.split("://", 1)[1]))
                else:
                    out.append(spec)
            elif os.path.isdir(spec):
                for dirpath, _, files in os.walk(spec):
                    out.extend(os.path.join(dirpath, f) for f in files if self.guess_can_open(f))
            elif any(ch in spec for ch in "*?["):
                matches = sorted(glob.glob(spec, recursive=True))
                if not matches:
                    raise InputError(spec, "the pattern matches no file")
                out.extend(matches)
            else:
                if not os.path.exists(spec):
                    raise InputError(spec, "no such file or folder")
                out.append(spec)
        return sorted(dict.fromkeys(out))

    # -- reading -----------------------------------------------------------------------
    def open_dataset(self, path: str) -> xr.Dataset:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- writing -----------------------------------------------------------------------
    @property
    def product(self) -> str | None:
        """The catalog product this reader's store holds (its layout is declared there)."""
        from geopipe.catalog import load

        cat = load()
        return cat.source(self.name).product if self.name in cat.sources else None

    def write(self, ds: xr.Dataset, store: str, sources: Iterable[dict], storage_options: dict | None = None):
        if self.joins == "merge":
            return _store.merge(ds, store, key=self.key or self.dim, dim=self.dim, sources=sources,
                                storage_options=storage_options, product=self.product, sort=self.merge_sort)
        return _store.append(ds, store, dim=self.dim, sources=sources, storage_options=storage_options,
                             product=self.product, ordered=self.ordered)

    #: variables that order the rows of one key after a merge (best tracks: time)
    merge_sort: tuple[str, ...] = ()
    #: appends must not go back before the store's last step (the store refuses them)
    ordered: bool = False

    @classmethod
    def remote_inputs(cls, start, end=None, remote: str | None = None, **options):
        """What to fetch for [start, end] from the catalog remote ``remote`` (see :mod:`geopipe.sources.inputs`)."""
        from geopipe.sources import inputs

        return inputs.from_catalog(cls.name, start, end, remote, **options)

    # -- command line ------------------------------------------------------------------
    @classmethod
    def add_arguments(cls, parser) -> None:
        """Add this reader's ``geopipe ingest NAME`` options."""

    @classmethod
    def options(cls, args) -> dict:
        """The reader options from parsed arguments."""
        return {}
