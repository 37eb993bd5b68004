"""Small side outputs written beside a labels store (tables, skill scores).

``beside("labels/heuristic.zarr", "nodes.zarr")`` is ``labels/heuristic_nodes.zarr``: the
store's name without ``.zarr``, an underscore, the suffix.  Works for paths and URLs alike.
"""

from __future__ import annotations

import json
import os
import tempfile

import fsspec
import pandas as pd

from geopipe.config import is_url, resolve_store


def beside(store: str, suffix: str, root=None) -> str:
    url = resolve_store(store, root).rstrip("/")
    stem = url.removesuffix(".zarr")
    return f"{stem}_{suffix}"


def write_text(path: str, text: str) -> str:
    """Write a small text file (local or URL), replacing it whole."""
    if not is_url(path):
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of it
        return path
    with fsspec.open(path, "w") as fh:
        fh.write(text)
    return path


def write_json(path: str, obj) -> str:
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def write_csv(path: str, table: pd.DataFrame) -> str:
    return write_text(path, table.to_csv(index=False))
