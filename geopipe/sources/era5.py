"""ECMWF ERA5 reanalysis: NetCDF as the Copernicus CDS delivers it, GRIB, and the ARCO-ERA5 Zarr.

Every input becomes one Dataset of dims ``(time, latitude, longitude)`` with ERA5's short names
(``msl``, ``u10``, ...); fields on pressure levels are named with their level, ``vo850``,
``z500``.  ``geopipe ingest era5 FILES... --store S`` merges the variables of several files (a
single-level file and a pressure-level file of the same times) into one store.

* NetCDF (CDS, since 2024): dims ``valid_time``, ``pressure_level``, ``latitude``, ``longitude``,
  coordinates ``number`` (ensemble member) and ``expver`` (per time); the older CDS layout
  (``time``, ``level``, an ``expver`` dimension mixing ERA5 and ERA5T) is read too.
* GRIB (editions 1 and 2) through :mod:`geopipe.sources.grib` (eccodes), as the GFS reader does.
* ARCO-ERA5 (Google's analysis-ready Zarr, ``gs://gcp-public-data-arco-era5/ar/...zarr``):
  read anonymously over HTTPS by time range (``start``/``end``) and variables (ARCO's long names
  or ERA5's short ones; ``vorticity@850`` or ``vo850`` for a level), only the chunks needed.
"""

from __future__ import annotations

import os
import re

from geopipe.config import is_url
from geopipe.errors import InputError
from geopipe.lazy import lazy_import
from geopipe.sources.base import DECODE_LOCK, SourceReader

np = lazy_import("numpy")
xr = lazy_import("xarray")

#: ARCO-ERA5's long variable names -> ERA5 short names
ARCO_NAMES = {"mean_sea_level_pressure": "msl", "vorticity": "vo", "divergence": "d", "geopotential": "z",
              "temperature": "t", "u_component_of_wind": "u", "v_component_of_wind": "v", "specific_humidity": "q",
              "relative_humidity": "r", "10m_u_component_of_wind": "u10", "10m_v_component_of_wind": "v10",
              "2m_temperature": "t2m", "surface_pressure": "sp", "total_column_water_vapour": "tcwv",
              "total_precipitation": "tp", "sea_surface_temperature": "sst"}
SHORT_TO_ARCO = {v: k for k, v in ARCO_NAMES.items()}

#: CF standard names of the short names the detector looks for
STANDARD_NAMES = {"msl": "air_pressure_at_mean_sea_level", "vo": "atmosphere_relative_vorticity",
                  "z": "geopotential", "t": "air_temperature", "u10": "eastward_wind", "v10": "northward_wind"}

#: units of the short names, where an input does not say (ARCO's attributes are optional)
UNITS = {"msl": "Pa", "vo": "s**-1", "z": "m**2 s**-2", "t": "K", "u10": "m s**-1", "v10": "m s**-1", "t2m": "K"}

#: the coordinates' attributes, the same whatever the input (the catalog product declares them)
COORD_ATTRS = {"time": {"long_name": "time", "standard_name": "time"},
               "latitude": {"units": "degrees_north", "long_name": "latitude", "standard_name": "latitude"},
               "longitude": {"units": "degrees_east", "long_name": "longitude", "standard_name": "longitude"}}

#: where ARCO-ERA5 lives, and the public HTTPS endpoint of Google Cloud Storage
ARCO_URL = "gs://gcp-public-data-arco-era5/ar/full_37-1h-0p25deg-chunk-1.zarr-v3"
GCS_HTTP = "https://storage.googleapis.com"


def gcs_to_https(url: str, endpoint: str = GCS_HTTP) -> str:
    """``gs://bucket/path`` as the anonymous HTTPS URL of the same object prefix."""
    if url.startswith("gs://"):
        return f"{endpoint.rstrip('/')}/{url[5:]}"
    return url


def _level_name(name: str, level) -> str:
    lv = float(level)
    return f"{name}{int(lv) if lv == int(lv) else lv}"


def standardise(ds: xr.Dataset, source: str) -> xr.Dataset:
    """CDS or ARCO layout -> (time, latitude, longitude) with level-named variables."""
    ds = ds.rename({k: v for k, v in {"valid_time": "time", "lat": "latitude", "lon": "longitude"}.items()
                    if k in ds.dims or k in ds.coords})
    if "expver" in ds.dims:  # the older CDS layout: ERA5 and ERA5T along expver; take the value present
        first = ds.isel(expver=0, drop=True)
        for k in range(1, ds.sizes["expver"]):
            first = first.fillna(ds.isel(expver=k, drop=True))
        ds = first
    if "number" in ds.dims:
        if ds.sizes["number"] != 1:
            raise InputError(source, f"holds {ds.sizes['number']} ensemble members; ingest one member per store")
        ds = ds.isel(number=0)
    ds = ds.drop_vars([c for c in ("number", "expver", "step", "surface") if c in ds.coords or c in ds.data_vars])
    level = next((d for d in ("pressure_level", "level", "isobaricInhPa") if d in ds.dims or d in ds.coords), None)
    for d in ("time", "latitude", "longitude"):
        if d not in ds.dims and not (d == "time" and "time" in ds.coords):
            raise InputError(source, f"has no {d!r} dimension (dims: {', '.join(map(str, ds.dims))})")
    if "time" not in ds.dims:
        ds = ds.expand_dims("time")
    out = {}
    for name, var in ds.data_vars.items():
        short = ARCO_NAMES.get(str(name), str(name))
        if level and level in var.dims:
            for lv in var[level].values:
                v = var.sel({level: lv}, drop=True)
                out[_level_name(short, lv)] = v.assign_attrs(level=float(lv), level_units="hPa")
        else:
            out[short] = var.drop_vars(level, errors="ignore") if level in var.coords else var
    res = xr.Dataset(out, attrs=dict(ds.attrs))
    for name, var in res.data_vars.items():
        base = re.sub(r"\d+(\.\d+)?$", "", name)
        if base in STANDARD_NAMES and "standard_name" not in var.attrs:
            var.attrs["standard_name"] = STANDARD_NAMES[base]
        if base in UNITS and "units" not in var.attrs:
            var.attrs["units"] = UNITS[base]
        res[name] = var.transpose("time", "latitude", "longitude").astype("f4")
    for c, attrs in COORD_ATTRS.items():
        res[c].attrs = dict(attrs)
    if res.sizes["latitude"] > 1 and not (np.all(np.diff(res["latitude"].values) < 0)
                                          or np.all(np.diff(res["latitude"].values) > 0)):
        raise InputError(source, "latitude is not monotonic")
    return res.sortby("time")


class ERA5Reader(SourceReader):
    """ERA5 reanalysis (CDS NetCDF, GRIB 1/2, ARCO-ERA5 Zarr on GCS)."""

    name = "era5"
    suffixes = (".nc", ".nc4", ".grib", ".grb", ".grib1", ".grib2", ".grb2")

    def find(self, specs, storage_options=None):
        out = []
        rest = []
        for spec in specs:
            s = str(spec)
            (out if s.startswith("gs://") or s.rstrip("/").endswith((".zarr", ".zarr-v3")) else rest).append(s)
        return out + (super().find(rest, storage_options) if rest else [])

    def open_dataset(self, path: str) -> xr.Dataset:
        path = str(path)
        if path.startswith("gs://") or path.rstrip("/").endswith((".zarr", ".zarr-v3")):
            return self._open_arco(path)
        if is_url(path):
            raise InputError(path, "remote ERA5 files: download them from the CDS first, or read ARCO-ERA5 (gs://...zarr)")
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            raise InputError(path, "the file is empty or missing")
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic[:4] == b"GRIB":
            return self._open_grib(path)
        if magic[:4] not in (b"\x89HDF", b"CDF\x01", b"CDF\x02"):
            raise InputError(path, "neither NetCDF nor GRIB (unknown leading bytes)")
        with DECODE_LOCK:
            try:
                with xr.open_dataset(path, engine="netcdf4") as raw:
                    ds = standardise(raw, path).load()
            except (OSError, ValueError) as exc:
                raise InputError(path, f"cannot be read as NetCDF: {exc}") from None
        return ds

    def _open_grib(self, path: str) -> xr.Dataset:
        from geopipe.sources.gfs import GFSReader

        ds = GFSReader().open_dataset(path)  # the same eccodes decoding (editions the grib module reads)
        ds = ds.rename({n: "msl" for n in ds.data_vars if n == "prmsl"})
        ds = ds.drop_vars([c for c in ("init_time", "step") if c in ds.coords])  # an analysis, as the NetCDF
        ds.attrs["source"] = "ECMWF ERA5 GRIB, decoded with eccodes"
        return ds.load()

    def _open_arco(self, url: str) -> xr.Dataset:
        o = self.options
        endpoint = o.get("gcs_endpoint") or os.environ.get("GEOPIPE_GCS_ENDPOINT") or GCS_HTTP
        http = gcs_to_https(url, endpoint)
        try:
            raw = xr.open_zarr(http, consolidated=True, chunks={}, storage_options={"anon": True} if http.startswith("gs") else None)
        except Exception as exc:  # noqa: BLE001 - any failure to reach or parse the store
            raise InputError(url, f"cannot open as an ARCO-ERA5 Zarr store ({type(exc).__name__}: {exc})") from None
        wanted = o.get("variables") or ["mean_sea_level_pressure", "vorticity@850"]
        names, levels = [], {}
        for w in wanted:
            name, _, lv = str(w).partition("@")
            m = re.fullmatch(r"([a-z]+)(\d+)", name)
            if not lv and m and m.group(1) in SHORT_TO_ARCO and SHORT_TO_ARCO[m.group(1)] in raw:
                name, lv = m.group(1), m.group(2)
            long = SHORT_TO_ARCO.get(name, name)
            if long not in raw:
                raise InputError(url, f"has no variable {name!r} (it has {', '.join(sorted(map(str, raw.data_vars))[:12])}...)")
            names.append(long)
            if lv:
                levels.setdefault(long, []).append(float(lv))
        sub = raw[list(dict.fromkeys(names))]
        if o.get("start") or o.get("end"):
            sub = sub.sel(time=slice(o.get("start"), o.get("end")))
        if not sub.sizes.get("time"):
            raise InputError(url, f"has no time between {o.get('start')} and {o.get('end')}")
        parts = []
        for long in dict.fromkeys(names):
            var = sub[long]
            if "level" in var.dims:
                var = var.sel(level=levels.get(long) or var["level"].values)
            parts.append(var.to_dataset(name=long))
        out = standardise(xr.merge(parts, compat="override"), url).load()
        # provenance of a slice of a remote store: what was asked for and the store's own metadata
        import hashlib
        import json

        meta = json.dumps({"url": url, "variables": list(wanted), "start": str(o.get("start")), "end": str(o.get("end"))},
                          sort_keys=True)
        out.attrs["_geopipe_record"] = {"path": url, "size": int(sum(v.nbytes for v in out.data_vars.values())),
                                        "sha256": hashlib.sha256(meta.encode()).hexdigest(), "selection": meta}
        return out

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--start", default=None, help="ARCO-ERA5: first time (e.g. 2025-12-01)")
        parser.add_argument("--end", default=None, help="ARCO-ERA5: last time")
        parser.add_argument("--variables", default=None,
                            help="ARCO-ERA5: variables, e.g. mean_sea_level_pressure,vorticity@850 (or msl,vo850)")
        parser.add_argument("--gcs-endpoint", default=None, help="HTTPS endpoint for gs:// URLs (default: storage.googleapis.com)")

    @classmethod
    def options(cls, args) -> dict:
        out = {k: getattr(args, k, None) for k in ("start", "end", "gcs_endpoint")}
        if getattr(args, "variables", None):
            out["variables"] = [v for v in args.variables.split(",") if v]
        return {k: v for k, v in out.items() if v}
