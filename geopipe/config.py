"""Where data lives: the data root, and store names resolved safely beneath it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from geopipe.errors import StoreError

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(path: str | os.PathLike) -> bool:
    return bool(_URL.match(str(path)))


def data_root(root: str | os.PathLike | None = None) -> str:
    """The data root: explicit argument, else ``$GEOPIPE_ROOT``, else ``./data``."""
    root = root or os.environ.get("GEOPIPE_ROOT") or "data"
    return str(root) if is_url(root) else str(Path(root).expanduser().resolve())


def join_url(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/")] + [p.strip("/") for p in parts])


def resolve_store(name: str | os.PathLike, root: str | os.PathLike | None = None) -> str:
    """Resolve a store (or output folder) argument to a path or URL.

    * a URL (``s3://``, ``memory://``, ``file://``) or an absolute path is used as it is;
    * a path that starts with ``./`` or ``../`` is relative to the working directory, as a
      shell user means it;
    * anything else (``gfs.zarr``, ``labels/ibtracs.zarr``, ``models/unet``) is a name under
      the data root, and may not escape it: ``..`` components are refused.
    """
    name = str(name)
    if is_url(name) or os.path.isabs(name):
        return name
    if name.startswith(("./", "../")):
        return str(Path(name).resolve())
    if name in ("", ".") or ".." in Path(name).parts:
        raise StoreError(f"store name {name!r} would escape the data root")
    base = data_root(root)
    if is_url(base):
        return join_url(base, name)
    return str(Path(base) / name)


def safe_child(root: str | os.PathLike, name: str) -> str:
    """``root/name`` for a catalog-declared relative path, refusing anything that escapes root."""
    if os.path.isabs(name) or is_url(name) or ".." in Path(name).parts:
        raise StoreError(f"path {name!r} must be relative to {root} and stay inside it")
    base = data_root(root)
    if is_url(base):
        return join_url(base, name)
    target = (Path(base) / name).resolve()
    if Path(base) not in target.parents and target != Path(base):
        raise StoreError(f"path {name!r} escapes the data root {base}")
    return str(target)
