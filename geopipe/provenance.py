"""Provenance records of input files: path, size and sha256."""

from __future__ import annotations

import hashlib
import os

from geopipe.config import is_url
from geopipe.lazy import lazy_import

fsspec = lazy_import("fsspec")


def file_record(path: str, storage_options: dict | None = None, data: bytes | None = None) -> dict:
    """``{"path", "size", "sha256"}`` for a local file, a URL, or bytes already fetched from ``path``."""
    h = hashlib.sha256()
    if data is not None:
        h.update(data)
        return {"path": str(path), "size": len(data), "sha256": h.hexdigest()}
    if is_url(path):
        with fsspec.open(path, "rb", **(storage_options or {})) as fh:
            size = 0
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                size += len(block)
        return {"path": str(path), "size": size, "sha256": h.hexdigest()}
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"path": os.path.abspath(path), "size": os.path.getsize(path), "sha256": h.hexdigest()}
