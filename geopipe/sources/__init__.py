"""Source readers, registered by name in one list that the CLI and the flows both read.

A new source is its reader module plus one line here and its catalog entry: ``geopipe ingest
NAME`` (options from the reader's ``add_arguments``/``options``) is generated from this list.
"""

from __future__ import annotations

import importlib

from geopipe.errors import GeopipeError

#: catalog source name -> "module:Class"
READERS: dict[str, str] = {
    "era5": "geopipe.sources.era5:ERA5Reader",
    "gfs": "geopipe.sources.gfs:GFSReader",
    "goes": "geopipe.sources.goes:GOESReader",
    "ibtracs": "geopipe.sources.ibtracs:IBTrACSReader",
    "isgi": "geopipe.sources.isgi:ISGIReader",
    "omni": "geopipe.sources.omni:OMNIReader",
}


def reader_class(name: str):
    try:
        target = READERS[name]
    except KeyError:
        raise GeopipeError(f"no source reader named {name!r} (have: {', '.join(READERS)})") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def get_reader(name: str, **options):
    return reader_class(name)(**options)


def describe(name: str) -> str:
    """One line about a source: its catalog title, else the first line of its reader's docstring."""
    from geopipe.catalog import load
    from geopipe.errors import CatalogError

    try:
        cat = load()
    except CatalogError:  # a help line needs no catalog: a bad one is reported, in one line, when a command runs
        cat = None
    if cat is not None and name in cat.sources and cat.sources[name].title:
        return cat.sources[name].title
    return ((reader_class(name).__doc__ or name).strip().splitlines() or [name])[0]
