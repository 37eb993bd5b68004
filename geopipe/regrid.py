"""The GOES ABI fixed grid and regular latitude/longitude grids: projecting and resampling.

ABI pixels sit on a *fixed grid* of scan angles ``x``/``y`` (radians) seen from the
satellite.  Multiplied by the perspective point height they are the coordinates of PROJ's
``geos`` projection, so one pyproj transformer per satellite position goes both ways:

* :func:`scan_to_lonlat` gives each pixel its latitude/longitude (NaN off the Earth's disk);
* :func:`lonlat_to_scan` gives each target grid point the scan angles it is seen at, where
  :func:`to_grid` samples the scene (nearest neighbour or bilinear in ``x``/``y``).

Mesoscale sectors move between scans; on a regular grid from ``catalog/grids.yaml`` scenes
stack over time and line up with best tracks and model fields.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
from geopipe.lazy import lazy_import

pyproj = lazy_import("pyproj")
xr = lazy_import("xarray")
interpolate = lazy_import("scipy.interpolate")

#: the goes_imager_projection attributes the projection needs
PROJECTION_KEYS = ("perspective_point_height", "semi_major_axis", "semi_minor_axis",
                   "longitude_of_projection_origin", "sweep_angle_axis")
METHODS = {"nearest": "nearest", "bilinear": "linear"}
LAT_ATTRS = {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north"}
LON_ATTRS = {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east"}


@functools.lru_cache(maxsize=16)
def _transformer(h: float, a: float, b: float, lon_0: float, sweep: str) -> pyproj.Transformer:
    geos = pyproj.CRS.from_dict({"proj": "geos", "h": h, "a": a, "b": b, "lon_0": lon_0, "sweep": sweep})
    return pyproj.Transformer.from_crs(geos, geos.geodetic_crs, always_xy=True)


def _fixed_grid(proj: Mapping) -> tuple[pyproj.Transformer, float]:
    """The geos -> geodetic transformer and the perspective point height (m) for CF attributes."""
    h = float(proj["perspective_point_height"])
    t = _transformer(h, float(proj["semi_major_axis"]), float(proj["semi_minor_axis"]),
                     float(proj["longitude_of_projection_origin"]), str(proj["sweep_angle_axis"]))
    return t, h


def scan_to_lonlat(x, y, proj: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees) of scan angles ``x``, ``y`` (radians, broadcastable,
    e.g. ``x[None, :]`` and ``y[:, None]`` for an image of shape (ny, nx)).  NaN off the disk."""
    t, h = _fixed_grid(proj)
    xs, ys = np.broadcast_arrays(np.asarray(x, dtype="f8") * h, np.asarray(y, dtype="f8") * h)
    lon, lat = t.transform(xs, ys, errcheck=False)
    off = ~(np.isfinite(lon) & np.isfinite(lat))
    lon, lat = np.where(off, np.nan, lon), np.where(off, np.nan, lat)
    return lon, lat


def lonlat_to_scan(lon, lat, proj: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """Scan angles x, y (radians) at which the satellite sees ``lon``, ``lat`` (degrees,
    broadcastable).  NaN where the point is not visible from the satellite."""
    t, h = _fixed_grid(proj)
    lo, la = np.broadcast_arrays(np.asarray(lon, dtype="f8"), np.asarray(lat, dtype="f8"))
    xs, ys = t.transform(lo, la, direction=pyproj.enums.TransformDirection.INVERSE, errcheck=False)
    off = ~(np.isfinite(xs) & np.isfinite(ys))
    return np.where(off, np.nan, xs / h), np.where(off, np.nan, ys / h)


def _sample(image: np.ndarray, x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray,
            method: str) -> np.ndarray:
    """Values of ``image`` (ny, nx) on axes ``x``, ``y`` at points ``sx``, ``sy`` (any shape); NaN outside."""
    if y[0] > y[-1]:  # ABI rows run north to south; the interpolator wants ascending axes
        y, image = y[::-1], image[::-1]
    if x[0] > x[-1]:
        x, image = x[::-1], image[:, ::-1]
    f = interpolate.RegularGridInterpolator((y, x), image, method=method, bounds_error=False, fill_value=np.nan)
    pts = np.stack([sy.ravel(), sx.ravel()], axis=-1)
    ok = np.isfinite(pts).all(axis=1)
    out = np.full(len(pts), np.nan, dtype="f8")
    out[ok] = f(pts[ok])
    return out.reshape(sx.shape)


def check(grid, method: str = "bilinear"):
    """The :class:`geopipe.catalog.Grid` for ``grid`` (a catalog name or a Grid); raises for a
    name the catalog lacks (``CatalogError``) or an unknown ``method`` (``ValueError``)."""
    from geopipe.catalog import Grid, load

    if method not in METHODS:
        raise ValueError(f"unknown resampling method {method!r} (have: {', '.join(METHODS)})")
    return grid if isinstance(grid, Grid) else load().grid(grid)


def to_grid(ds: xr.Dataset, grid, method: str = "bilinear") -> xr.Dataset:
    """Resample a fixed-grid scene onto a regular latitude/longitude grid.

    ``ds`` has data variables of dims (time, y, x), ``x``/``y`` scan angles (radians) and the
    ``goes_imager_projection`` grid mapping; ``grid`` is a catalog grid name or
    :class:`geopipe.catalog.Grid`.  Returns the same variables with dims
    (time, latitude, longitude); quality flags (``DQF_*``) are always taken from the nearest pixel.
    """
    grid_name = grid if isinstance(grid, str) else "custom"
    coords = check(grid, method).coords()
    proj = ds["goes_imager_projection"].attrs
    lon2, lat2 = np.meshgrid(coords["longitude"], coords["latitude"])
    sx, sy = lonlat_to_scan(lon2, lat2, proj)
    x, y = ds["x"].values, ds["y"].values
    out = xr.Dataset(coords={"time": ds["time"], "latitude": ("latitude", coords["latitude"], LAT_ATTRS),
                             "longitude": ("longitude", coords["longitude"], LON_ATTRS)})
    for name, var in ds.coords.items():
        if var.dims == ("time",) and name != "time":
            out.coords[name] = var
    for name, var in ds.data_vars.items():
        if var.dims[-2:] != ("y", "x"):
            continue
        how = "nearest" if name.startswith("DQF_") else METHODS[method]
        lead = var.shape[:-2]
        values = np.empty(lead + sx.shape, dtype=var.dtype)
        for idx in np.ndindex(*lead):  # time steps (one per file), never pixels
            values[idx] = _sample(var.values[idx], x, y, sx, sy, how)
        attrs = {k: v for k, v in var.attrs.items() if k != "grid_mapping"}
        attrs["cell_methods"] = f"area: point (resampled {how} from the ABI fixed grid)"
        out[name] = xr.Variable(var.dims[:-2] + ("latitude", "longitude"), values, attrs)
    out.attrs = {**ds.attrs, "geopipe_grid": grid_name, "geopipe_resampling": method}
    return out
