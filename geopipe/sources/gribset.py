"""GRIB fields to an xarray Dataset: which field each variable takes, and lazy decoding.

Shared by the GRIB readers (GFS today; HRRR/RAP/GDAS files have the same shape).  Given the
:class:`~geopipe.sources.grib.Field` descriptions of a file (or of the messages fetched from
it) and, optionally, a list of :class:`Selection`, :func:`choose` picks one field per
variable and valid time and :func:`to_dataset` builds a Dataset of dims ``(time, latitude,
longitude)`` whose values are decoded lazily, one Dask task per field, so a file's fields
never all sit in memory (the eccodes wheel is built with ECCODES_THREADS: tasks may run in
parallel threads).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from geopipe.errors import InputError
from geopipe.sources import grib
from geopipe.lazy import lazy_import

dask = lazy_import("dask")
da = lazy_import("dask.array")
xr = lazy_import("xarray")


@dataclasses.dataclass(frozen=True)
class Selection:
    """One asked field: ``text`` as written, the store ``name`` (None: the field's own), GRIB keys, ``.idx`` key."""

    text: str
    name: str | None
    short: str
    type_of_level: str | None = None
    level: float | None = None  # hPa for isobaric
    idx: str | None = None

    def matches(self, f: grib.Field) -> bool:
        if self.short not in (f.short, f.cfvar):
            return False
        if self.type_of_level in (None, "isobaricInhPa", "isobaricInPa") and self.level is not None:
            return f.level_code == 100 and math.isclose(f.level, self.level, rel_tol=1e-9)
        if self.type_of_level:
            return f.type_of_level == self.type_of_level and (
                self.level is None or (f.level is not None and math.isclose(f.level, self.level, rel_tol=1e-9)))
        return f.type_of_level in grib.BARE_LEVELS or (f.level_code == 103 and f.short[:1].isdigit())


def local_message(path: str, offset: int, length: int, sub: int) -> bytes:
    """Field ``sub`` of the message at ``offset`` (``length`` bytes) of a local file, as a single-field message."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return grib.split_fields(fh.read(length))[sub]


def decode(source: str, name: str, payload) -> np.ndarray:
    """Values of one field; ``payload`` is its message bytes or ``(path, offset, length, sub)``."""
    try:
        message = payload if isinstance(payload, bytes) else local_message(*payload)
        return grib.decode_values(message)
    except Exception as exc:  # eccodes raises many types; the user needs file + field
        raise InputError(source, f"{name}: the values cannot be decoded ({exc})") from exc


def choose(fields: list[grib.Field], selections: list[Selection] | None, source: str) -> dict[str, dict]:
    """Store name -> {valid time -> Field}: one step type per variable (instant first), the
    shortest accumulation where a file has several (GFS's 6-hour bucket next to 0-120 h)."""
    groups: dict[str, list[grib.Field]] = {}
    for sel in selections or []:
        hits = [f for f in fields if sel.matches(f)]
        if not hits:
            raise InputError(source, f"no field {sel.text!r} in the file (it has {len(fields)} fields)")
        names = sorted({f.name for f in hits})
        if sel.name is None and len(names) > 1:
            raise InputError(source, f"{sel.text!r} matches several fields ({', '.join(names)}); add a level")
        groups[sel.name or names[0]] = hits
    if selections is None:
        for f in fields:
            groups.setdefault(f.name, []).append(f)
    out = {}
    for name, hits in groups.items():
        rank = {s: i for i, s in enumerate(grib.STEP_PREFERENCE)}
        step = min({f.step_type for f in hits}, key=lambda s: (rank.get(s, len(rank)), s))
        by_time: dict[np.datetime64, grib.Field] = {}
        for f in sorted((f for f in hits if f.step_type == step), key=lambda f: f.span):
            other = by_time.get(f.valid)
            if other is None:
                by_time[f.valid] = f
            elif other.span == f.span:
                raise InputError(source, f"{name}: messages {other.message + 1} and {f.message + 1} are both "
                                         f"{step} fields valid at {f.valid}")
        out[name] = by_time
    return out


def to_dataset(chosen: dict[str, dict], payloads: dict, source: str) -> xr.Dataset:
    """The Dataset of the chosen fields; ``payloads[(message, sub)]`` feeds :func:`decode`.

    ``time`` is the valid time, with ``init_time`` and ``step`` along it; the grid is the file's own.
    """
    fields = [f for by_time in chosen.values() for f in by_time.values()]
    first = fields[0]
    for f in fields:
        if f.grid_md5 != first.grid_md5 or f.grid_type != first.grid_type:
            raise InputError(source, f"{f.name} and {first.name} are on different grids; ingest them into "
                                     "separate stores (select one grid's variables per store)")
    first_bytes = payloads[(first.message, first.sub)]
    try:
        lat, lon = grib.grid_coords(first, first_bytes if isinstance(first_bytes, bytes) else local_message(*first_bytes))
    except ValueError as exc:
        raise InputError(source, str(exc)) from None
    times = sorted({t for by_time in chosen.values() for t in by_time})
    inits: dict = {}
    for f in fields:
        if inits.setdefault(f.valid, f.init) != f.init:
            raise InputError(source, f"fields valid at {f.valid} come from two cycles ({inits[f.valid]} and {f.init})")
    shape = (len(lat), len(lon))
    data_vars = {}
    for name, by_time in chosen.items():
        blocks = [da.from_delayed(dask.delayed(decode)(source, name, payloads[(by_time[t].message, by_time[t].sub)]),
                                  shape, np.float32) if t in by_time else da.full(shape, np.nan, np.float32)
                  for t in times]
        data_vars[name] = (("time", "latitude", "longitude"), da.stack(blocks), grib.cf_attrs(next(iter(by_time.values()))))
    time = np.array(times, dtype="datetime64[ns]")
    init = np.array([inits[t] for t in times], dtype="datetime64[ns]")
    ds = xr.Dataset(data_vars, coords={
        "time": ("time", time, {"standard_name": "time", "long_name": "valid time", "axis": "T"}),
        "init_time": ("time", init, {"standard_name": "forecast_reference_time", "long_name": "initialisation time"}),
        "step": ("time", time - init, {"standard_name": "forecast_period", "long_name": "time since initialisation"}),
        "latitude": ("latitude", lat, {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"}),
        "longitude": ("longitude", lon, {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"}),
    }, attrs={"source": "NCEP GFS GRIB2, decoded with eccodes", "GRIB_gridType": first.grid_type})
    ds.encoding["source"] = source
    return ds
