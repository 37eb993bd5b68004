"""Cartopy without a network: the Natural Earth shapefiles bundled with geopipe.

Cartopy fetches Natural Earth coastlines and borders from the internet the first time a map
needs them; compute nodes and these machines have no network, so ``ax.coastlines()`` would
fail with ``URLError``.  geopipe ships the 1:110m and 1:50m coastline, land and country
border shapefiles in Cartopy's own layout (``geopipe/sample/naturalearth/shapefiles/
natural_earth/{physical,cultural}``).  :func:`use_bundled_natural_earth` points Cartopy at
them unless the user has a data folder of their own (``CARTOPY_DATA_DIR``, or
``cartopy.config["pre_existing_data_dir"]`` already set), and makes a Natural Earth file
that is not bundled (e.g. 1:10m) fail at once with a message instead of a download attempt.
"""

from __future__ import annotations

import os
from pathlib import Path

from geopipe.errors import GeopipeError
from geopipe.sample import NATURAL_EARTH

#: the scales geopipe bundles, for callers choosing a resolution
SCALES = ("110m", "50m")


class _NoDownload:
    """Stands in for Cartopy's Natural Earth downloader: a missing file is an error, not a fetch."""

    def __init__(self, original):
        self.original = original

    def __getattr__(self, name):
        return getattr(self.original, name)

    def path(self, format_dict):
        """The bundled file (or one already in Cartopy's own cache); never a download."""
        for found in (self.original.pre_downloaded_path(format_dict), self.original.target_path(format_dict)):
            if found is not None and Path(found).exists():
                return found
        name = "ne_{resolution}_{name}.shp".format(**format_dict)
        raise GeopipeError(f"Natural Earth {format_dict.get('category')}/{name} is not bundled with geopipe "
                           f"(it has {', '.join(SCALES)} coastline, land and admin_0_boundary_lines_land); "
                           "set CARTOPY_DATA_DIR to a folder holding it")


def user_configured() -> bool:
    """True when the user points Cartopy at a data folder of their own."""
    import cartopy

    if os.environ.get("CARTOPY_DATA_DIR"):
        return True
    pre = cartopy.config.get("pre_existing_data_dir")
    return bool(pre) and Path(pre) not in (Path(""), Path("."), NATURAL_EARTH)


def use_bundled_natural_earth() -> Path | None:
    """Point Cartopy at geopipe's Natural Earth files (idempotent); returns the folder used,
    or None when the user's own configuration was left in place."""
    import cartopy

    if user_configured():
        return None
    cartopy.config["pre_existing_data_dir"] = NATURAL_EARTH
    key = ("shapefiles", "natural_earth")
    current = cartopy.config["downloaders"].get(key)
    if current is not None and not isinstance(current, _NoDownload):
        cartopy.config["downloaders"][key] = _NoDownload(current)
    return NATURAL_EARTH
