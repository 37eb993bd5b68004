"""NetCDF fixtures made from the real samples (for the GOES tests and the bad-input corpus)."""

from __future__ import annotations

import netCDF4


def copy_netcdf_without(src, dst, drop: str) -> None:
    """Copy a NetCDF-4 file variable by variable (raw values, attributes), leaving out ``drop``."""
    with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w") as b:
        a.set_auto_maskandscale(False)
        b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
        for name, dim in a.dimensions.items():
            b.createDimension(name, len(dim))
        for name, var in a.variables.items():
            if name == drop:
                continue
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            out = b.createVariable(name, var.dtype, var.dimensions, fill_value=fill)
            out.set_auto_maskandscale(False)
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"})
            out[...] = var[...]
