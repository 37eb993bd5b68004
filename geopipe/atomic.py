"""Files written whole: a reader sees the old file or the new one, never half of either.

Every file geopipe writes outside a Zarr store (JSON, CSV, figures, sample files, quarantine
records) goes through here.  Locally the data is written to a hidden sibling
``.NAME.tmp-XXXXXXXX`` (the same rule as the store's temporary folders) and renamed over
``NAME``; a failed write removes the temporary file and leaves ``NAME`` as it was.  On an
object store (``s3://``, ``gs://``, ...) an object appears whole when its upload completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from geopipe.config import is_url


def temp_sibling(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to (by any library); renamed over ``path`` when
    the block ends, removed when it raises.  The parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs):
    """``open(path, mode)`` that publishes the file only once it is complete (also for URLs)."""
    if is_url(str(path)):
        import fsspec

        with fsspec.open(str(path), mode, **kwargs) as fh:
            yield fh
        return
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return str(path)


def write_text(path: str | os.PathLike, text: str, newline: str | None = None) -> str:
    with atomic_open(path, "w", newline=newline) as fh:
        fh.write(text)
    return str(path)


def write_json(path: str | os.PathLike, obj, indent: int | None = 2, **kwargs) -> str:
    return write_text(path, json.dumps(obj, indent=indent, **kwargs) + "\n")
