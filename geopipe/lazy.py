"""Heavy modules loaded on first use, so that ``import geopipe.cli`` and argument parsing stay light.

``xr = lazy_import("xarray")`` at the top of a module reads like ``import xarray as xr`` but
imports xarray only when ``xr.something`` is first touched (inside the function that needs it).
Nothing enters ``sys.modules`` before then (unlike :class:`importlib.util.LazyLoader`), which is
what ``tests/test_startup.py`` checks.

The eccodes guard lives here too: the eccodes and pyproj wheels bundle clashing copies of shared C
libraries, and a process that loads eccodes *before* pyproj dies at exit ("double free or
corruption", exit 139).  :func:`install_eccodes_guard` (called by ``geopipe/__init__``) adds an
import hook that loads pyproj just before eccodes is first imported, by geopipe or by anyone
else, so the cost of pyproj is only paid by processes that decode GRIB.
"""

from __future__ import annotations

import importlib
import sys
import types


class LazyModule(types.ModuleType):
    """A stand-in for a module that imports it on first attribute access."""

    def __init__(self, name: str):
        super().__init__(name)
        object.__setattr__(self, "_lazy_target", None)

    def _load(self):
        target = object.__getattribute__(self, "_lazy_target")
        if target is None:
            target = importlib.import_module(self.__name__)
            object.__setattr__(self, "_lazy_target", target)
        return target

    def __getattr__(self, attr):  # only called for names the stand-in does not have itself
        return getattr(self._load(), attr)

    def __setattr__(self, attr, value):  # monkeypatching reaches the real module
        setattr(self._load(), attr, value)

    def __delattr__(self, attr):
        delattr(self._load(), attr)

    def __dir__(self):
        return dir(self._load())

    def __repr__(self) -> str:
        loaded = object.__getattribute__(self, "_lazy_target") is not None
        return f"<lazy module {self.__name__!r}{' (loaded)' if loaded else ''}>"


def lazy_import(name: str) -> types.ModuleType:
    """The module itself when already imported, else a :class:`LazyModule` for it."""
    return sys.modules.get(name) or LazyModule(name)


#: imported just before the first import of any of these (see the module docstring)
_GUARDED = ("eccodes", "gribapi")


class _PyprojBeforeEccodes:  # a meta path finder (importlib.abc costs 13 ms to import)
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in _GUARDED and "pyproj" not in sys.modules:
            import pyproj  # noqa: F401  (must be loaded before eccodes)
        return None  # the ordinary finders import eccodes itself


def install_eccodes_guard() -> None:
    if "eccodes" in sys.modules or "gribapi" in sys.modules:
        return  # too late to help; the crash guard test documents the order
    if not any(isinstance(f, _PyprojBeforeEccodes) for f in sys.meta_path):
        sys.meta_path.insert(0, _PyprojBeforeEccodes())
