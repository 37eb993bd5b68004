"""geopipe: raw geoscience archives to Zarr, labels, patches, Keras models and maps.

Importing geopipe is light (``geopipe --help`` starts at once): heavy libraries load inside the
functions that need them (see :mod:`geopipe.lazy`).

Import order: eckitlib (eccodes' C++ dependency) from 2.3 on bundles its own PROJ 9.8 and sqlite,
and findlibs loads them RTLD_GLOBAL, so a pyproj imported *after* eccodes bound its PROJ calls
to eckit's copy ("unable to set PROJ database path", then exit 139).  The lock pins eccodeslib
2.48.2.27 / eckitlib 2.2.0.27, which bundle no PROJ, so any order works, ``import eccodes``
first included (``tests/test_imports.py``).  geopipe still loads pyproj just before eccodes
(an import hook), which is harmless.
"""

from geopipe.lazy import install_eccodes_guard

install_eccodes_guard()

from geopipe.errors import GeopipeError, InputError  # noqa: E402


def __getattr__(name):
    if name == "__version__":  # importlib.metadata costs ~25 ms: only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("geopipe")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            return "0.0.0+unknown"
    raise AttributeError(f"module 'geopipe' has no attribute {name!r}")


def open(name: str, root=None, **kwargs):  # noqa: A001 - mirrors xarray.open_dataset
    """Open a product (catalog name) or a store path/URL under the data root as an xarray.Dataset."""
    from geopipe.catalog import open_product

    return open_product(name, root=root, **kwargs)


__all__ = ["GeopipeError", "InputError", "open", "__version__"]
