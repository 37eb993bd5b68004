"""geopipe: raw geoscience archives to Zarr, labels, patches, Keras models and maps.

Import order matters here: the eccodes wheel and the pyproj wheel each bundle their
own copies of shared C libraries (PROJ/sqlite/curl). When eccodes is loaded *before*
pyproj, the process dies at exit with "double free or corruption" (seen with
eccodes 2.50 / pyproj 3.7 wheels on this stack).  Loading pyproj first avoids it, so
geopipe does that before anything can pull in eccodes.  ``tests/test_imports.py``
guards the fix.
"""

import pyproj  # noqa: F401  (must be loaded before eccodes; see above)

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
