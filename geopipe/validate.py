"""Plausibility checks of one input's Dataset against ``catalog/valid_ranges.yaml``.

:func:`check` runs in the ingest driver between a reader's ``open_dataset`` and the store
write.  It refuses, with an ``InputError`` naming the file:

* ``inf`` anywhere in a float variable (never a real measurement; NaN is the missing value);
* a value outside its variable's range (CF ``valid_min``/``valid_max``), naming the variable,
  the range and the first offending index, e.g. ``gh30: 10512 values outside the valid range
  [19080, 28620], the first 87654.3 at (time=0, latitude=0, longitude=0)``; with
  ``allow_out_of_range`` the values are kept and each variable's count is returned to be
  recorded in the store's provenance;
* a band or satellite not in the source's known list (GOES ``band_id``, ``platform_ID``);
* more than one valid time in a file of a product that has one per file (GFS).

Every checked variable gets CF ``valid_min``/``valid_max`` attributes.  Variables decoded
lazily (GRIB fields, one Dask task each) are checked block by block as they are decoded, so
a file's fields are still never all in memory at once.
"""

from __future__ import annotations

import fnmatch
import functools
import math

from typing import TYPE_CHECKING

import numpy as np

from geopipe.errors import InputError

if TYPE_CHECKING:
    import xarray as xr


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict:
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def rules(source: str) -> dict:
    """The ``catalog/valid_ranges.yaml`` entry of ``source`` (``{}`` when it has none)."""
    from geopipe.catalog import catalog_dir

    path = catalog_dir() / "valid_ranges.yaml"
    return dict(_load(str(path)).get(source) or {}) if path.exists() else {}


def valid_range(rule: dict, name: str, attrs: dict) -> tuple[float, float] | None:
    """``(min, max)`` of a variable from its name (or the attribute ``rule["by"]``) and isobaric level."""
    key = attrs.get(rule["by"]) if rule.get("by") else name
    if key is None:
        return None
    level = attrs.get("GRIB_level")
    table = (rule.get("levels") or {}).get(key)
    if table and level is not None and str(attrs.get("GRIB_typeOfLevel", "")).startswith("isobaric"):
        return _by_level(table, float(level))
    for pattern, bounds in (rule.get("variables") or {}).items():
        if fnmatch.fnmatchcase(str(key), str(pattern)):
            return float(bounds[0]), float(bounds[1])
    return None


def _by_level(table: dict, level: float) -> tuple[float, float]:
    """Range at ``level`` hPa: the table's row, or interpolated in log-pressure (clamped at its ends)."""
    rows = sorted((float(p), (float(b[0]), float(b[1]))) for p, b in table.items())
    ps = np.log([p for p, _ in rows])
    x = math.log(max(level, 1e-6))
    return (float(np.interp(x, ps, [b[0] for _, b in rows])), float(np.interp(x, ps, [b[1] for _, b in rows])))


def _where(dims, shape, flat: int, offsets=None) -> str:
    index = np.unravel_index(flat, shape)
    offsets = offsets or (0,) * len(shape)
    return "(" + ", ".join(f"{d}={int(i) + int(o)}" for d, i, o in zip(dims, index, offsets)) + ")"


def _problem(name, dims, values, bounds, offsets=None, units: str = "") -> tuple[str, int] | None:
    """The message for the first bad value of a numpy block, and how many are bad; None when all are fine."""
    inf = np.isinf(values)
    if inf.any():
        return f"{name}: {int(inf.sum())} infinite values, the first at {_where(dims, values.shape, int(np.argmax(inf)), offsets)}", -1
    if bounds is None:
        return None
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        bad = (values < lo) | (values > hi)
    if not bad.any():
        return None
    first = int(np.argmax(bad))
    units = f" {units}" if units and units != "1" else ""
    return (f"{name}: {int(bad.sum())} values outside the valid range [{lo:g}, {hi:g}]{units}, the first "
            f"{values.flat[first]:g} at {_where(dims, values.shape, first, offsets)}", int(bad.sum()))


def _check_block(block, path, name, dims, bounds, units, block_info=None):
    loc = block_info[0]["array-location"] if block_info else None
    hit = _problem(name, dims, np.asarray(block), bounds, [a for a, _ in loc] if loc else None, units)
    if hit:
        raise InputError(path, hit[0])
    return block


def check(ds: xr.Dataset, source: str, path: str, allow_out_of_range: bool = False) -> list[dict]:
    """Check ``ds`` (one input of ``source``) in place; returns the out-of-range flags kept (see module doc)."""
    import dask.array as da

    rule = rules(source)
    _check_identity(ds, rule, path)
    if _one_time(rule.get("one_valid_time_per_file"), path) and ds.sizes.get("time", 1) > 1:
        times = ", ".join(str(t)[:16] for t in ds["time"].values[:3])
        raise InputError(path, f"{ds.sizes['time']} valid times ({times}...) in one file; a {source} file holds one")
    flags = []
    for name, var in list(ds.data_vars.items()):
        units = str(var.attrs.get("units", ""))
        if var.dtype.kind != "f":
            continue
        bounds = valid_range(rule, str(name), var.attrs)
        if bounds is not None:
            var.attrs["valid_min"], var.attrs["valid_max"] = (var.dtype.type(b) for b in bounds)
        if isinstance(var.data, da.Array) and not allow_out_of_range:
            ds[name] = var.copy(data=var.data.map_blocks(_check_block, path, str(name), var.dims, bounds, units,
                                                         dtype=var.dtype, meta=np.array((), var.dtype)))
            ds[name].attrs = var.attrs
            continue
        hit = _problem(str(name), var.dims, np.asarray(var.values), bounds, units=units)
        if hit is None:
            continue
        message, count = hit
        if count < 0 or not allow_out_of_range:
            raise InputError(path, message)
        flags.append({"variable": str(name), "valid_range": list(bounds), "count": count, "first": message})
    return flags


def _one_time(rule, path: str) -> bool:
    """``true``, or a list of file-name patterns (the products that hold one valid time per file)."""
    if isinstance(rule, (list, tuple)):
        name = str(path).rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, str(p)) for p in rule)
    return bool(rule)


def _check_identity(ds: xr.Dataset, rule: dict, path: str) -> None:
    """Bands and satellites against the source's known lists."""
    bands = rule.get("bands")
    if bands:
        for name, var in ds.data_vars.items():
            band = var.attrs.get("band_id")
            if band is not None and int(band) not in bands:
                raise InputError(path, f"band_id {band} of {name} is not a known band ({bands[0]}-{bands[-1]})")
    satellites = rule.get("satellites")
    if satellites and "platform_ID" in ds.attrs and str(ds.attrs["platform_ID"]) not in satellites:
        raise InputError(path, f"platform_ID {ds.attrs['platform_ID']!r} is not a known satellite ({', '.join(satellites)})")
