"""Small side outputs written beside a labels store (tables, skill scores).

``beside("labels/heuristic.zarr", "nodes.zarr")`` is ``labels/heuristic_nodes.zarr``: the
store's name without ``.zarr``, an underscore, the suffix.  Works for paths and URLs alike.
"""

from __future__ import annotations

import json

import pandas as pd

from geopipe import atomic
from geopipe.config import resolve_store


def beside(store: str, suffix: str, root=None) -> str:
    url = resolve_store(store, root).rstrip("/")
    stem = url.removesuffix(".zarr")
    return f"{stem}_{suffix}"


def write_text(path: str, text: str) -> str:
    """Write a small text file (local or URL), replacing it whole."""
    return atomic.write_text(path, text)


def write_json(path: str, obj) -> str:
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def write_csv(path: str, table: pd.DataFrame) -> str:
    return write_text(path, table.to_csv(index=False))
