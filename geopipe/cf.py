"""Find a store's variables by what they are (CF ``standard_name``), not by what one source calls them.

GFS calls mean sea-level pressure ``prmsl``, ERA5 ``msl``; vorticity comes absolute
(``absv850``, GFS) or relative (``vo850``, ERA5).  :func:`find` looks for a variable whose
``standard_name`` attribute is the one asked for (at the pressure level asked for, when given),
then for the names the sources of this project use, so the detector, the labels and the patches
run unchanged on GFS, ERA5 or any CF store::

    cf.find(ds, "air_pressure_at_mean_sea_level")          # prmsl or msl or ...
    cf.find(ds, "relative_vorticity", level=850)            # vo850, or a CF-named variable
"""

from __future__ import annotations

import xarray as xr

#: short forms accepted for a few long CF names
ALIASES = {"relative_vorticity": "atmosphere_relative_vorticity",
           "absolute_vorticity": "atmosphere_absolute_vorticity",
           "sea_level_pressure": "air_pressure_at_mean_sea_level"}

#: names this project's sources give each quantity (a level is appended for pressure-level fields)
NAMES = {"air_pressure_at_mean_sea_level": ("prmsl", "msl", "mslp", "psl"),
         "atmosphere_relative_vorticity": ("vo", "relv"),
         "atmosphere_absolute_vorticity": ("absv",),
         "geopotential_height": ("gh", "z_height")}


def _level_of(var: xr.DataArray):
    for key in ("level", "GRIB_level", "pressure_level"):
        if key in var.attrs:
            return float(var.attrs[key])
    return None


def find(ds: xr.Dataset, standard_name: str, level: float | None = None) -> xr.DataArray | None:
    """The variable of ``ds`` that is ``standard_name`` (at ``level`` hPa), or None."""
    name = ALIASES.get(standard_name, standard_name)
    for var in ds.data_vars.values():
        if var.attrs.get("standard_name") == name:
            lv = _level_of(var)
            if level is None or lv is None or lv == float(level):
                if level is None or lv is not None or str(var.name).endswith(str(int(level))):
                    return var
    suffix = "" if level is None else str(int(level))
    for short in NAMES.get(name, ()):
        if f"{short}{suffix}" in ds.data_vars:
            return ds[f"{short}{suffix}"]
    return None


def require(ds: xr.Dataset, standard_name: str, level: float | None = None, where: str = "the store") -> xr.DataArray:
    """:func:`find`, or a ``KeyError`` saying what was looked for."""
    var = find(ds, standard_name, level)
    if var is None:
        name = ALIASES.get(standard_name, standard_name)
        names = ", ".join(f"{s}{'' if level is None else int(level)}" for s in NAMES.get(name, ()))
        at = f" at {int(level)} hPa" if level is not None else ""
        raise KeyError(f"{where} has no {name}{at} (no variable with that standard_name, nor any of {names})")
    return var


def pressure(ds: xr.Dataset) -> xr.DataArray:
    """Mean sea-level pressure (Pa): ``prmsl``, ``msl`` or a variable with its standard_name."""
    return require(ds, "air_pressure_at_mean_sea_level")


def has_pressure(ds: xr.Dataset) -> bool:
    return find(ds, "air_pressure_at_mean_sea_level") is not None
