"""geopipe: raw geoscience archives to Zarr, labels, patches, Keras models and maps.

Import order: eckitlib (eccodes' C++ dependency) from 2.3 on bundles its own PROJ 9.8 and
sqlite, and findlibs loads them RTLD_GLOBAL, so a pyproj imported *after* eccodes bound its
PROJ calls to eckit's copy (a "unable to set PROJ database path" warning, then exit 139).
The lock pins eccodeslib 2.48.2.27 / eckitlib 2.2.0.27, which bundle no PROJ, so any order
works (``tests/test_imports.py``); pyproj is still loaded first here, which is harmless.
"""

import pyproj  # noqa: F401  (see above)

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("geopipe")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"

from geopipe.errors import GeopipeError, InputError  # noqa: E402


def open(name: str, root=None, **kwargs):  # noqa: A001 - mirrors xarray.open_dataset
    """Open a product (catalog name) or a store path/URL under the data root as an xarray.Dataset."""
    from geopipe.catalog import open_product

    return open_product(name, root=root, **kwargs)


__all__ = ["GeopipeError", "InputError", "open", "__version__"]
