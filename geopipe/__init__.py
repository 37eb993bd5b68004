"""geopipe: raw geoscience archives to Zarr, labels, patches, Keras models and maps.

Importing geopipe is light (``geopipe --help`` starts at once): heavy libraries load inside the
functions that need them (see :mod:`geopipe.lazy`).

Import order matters for one pair: the eccodes wheel and the pyproj wheel each bundle their own
copies of shared C libraries (PROJ/sqlite/curl).  When eccodes is loaded *before* pyproj, the
process dies at exit with "double free or corruption" (seen with eccodes 2.50 / pyproj 3.7 wheels
on this stack).  geopipe installs an import hook that loads pyproj just before eccodes is first
imported (by geopipe or by anyone after ``import geopipe``).  ``tests/test_imports.py`` guards it.
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
