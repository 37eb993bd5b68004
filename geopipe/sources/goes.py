"""GOES-16/17/18/19 ABI NetCDF-4: L2 Cloud and Moisture Imagery and L1b radiances, one band per file.

A file becomes a Dataset of dims (time=1, y, x) on the ABI fixed grid (``x``/``y`` scan
angles in radians, ``goes_imager_projection`` grid mapping, 2-D ``latitude``/``longitude``):

* L2 CMIP ``CMI``  -> ``CMI_Cnn`` (brightness temperature K or reflectance factor 1, as NOAA made it)
* L1b ``Rad``, bands 7-16 -> ``BT_Cnn``  = (fk2 / ln(fk1 / L + 1) - bc1) / bc2   (K)
* L1b ``Rad``, bands 1-6  -> ``RF_Cnn``  = kappa0 * L                             (1)

each with its quality flags ``DQF_Cnn`` (float32, NaN where the file has no flag).  With
``grid=NAME`` the scene is resampled onto that catalog grid (see :mod:`geopipe.regrid`).
Remote files are listed from NOAA's buckets (:mod:`geopipe.sources.goes_remote`: east/west by scan time).
"""

from __future__ import annotations

import datetime as _dt
import os
import re

import numpy as np

from geopipe.config import is_url
from geopipe.errors import InputError, ParameterError
from geopipe.provenance import file_record
from geopipe.sources import goes_remote
from geopipe.sources.base import DECODE_LOCK, SourceReader
from geopipe.lazy import lazy_import

netCDF4 = lazy_import("netCDF4")
pd = lazy_import("pandas")
xr = lazy_import("xarray")
regrid = lazy_import("geopipe.regrid")

#: OR_ABI-L2-CMIPM1-M6C13_G16_s20230011800281_e..._c....nc  (start: year, day of year, HHMMSS, tenths)
FILENAME = re.compile(r"OR_(?P<product>ABI-L[12]b?-[A-Za-z]+\d?)-M(?P<mode>\d+)(?:C(?P<band>\d{2}))?"
                      r"_G(?P<sat>\d{2})_s(?P<start>\d{14})")
_DROP_ATTRS = {"_FillValue", "_Unsigned", "scale_factor", "add_offset", "valid_range", "coordinates",
               "grid_mapping", "ancillary_variables", "sensor_band_bit_depth"}
KEEP_ATTRS = ("title", "institution", "platform_ID", "instrument_type", "scene_id", "spatial_resolution", "project")
AXIS_ATTRS = {"x": {"standard_name": "projection_x_coordinate", "long_name": "GOES fixed grid x scan angle", "units": "rad", "axis": "X"},
              "y": {"standard_name": "projection_y_coordinate", "long_name": "GOES fixed grid y scan angle", "units": "rad", "axis": "Y"}}


def parse_name(name: str) -> dict | None:
    """``{"product", "mode", "band" (int or None), "satellite" ("goes16"), "start" (Timestamp)}`` of an ABI file name."""
    m = FILENAME.search(os.path.basename(str(name)))
    if not m:
        return None
    s = m["start"]
    start = pd.Timestamp(_dt.datetime.strptime(s[:13], "%Y%j%H%M%S")) + pd.Timedelta(int(s[13]) * 100, "ms")
    return {"product": m["product"], "mode": int(m["mode"]), "band": int(m["band"]) if m["band"] else None,
            "satellite": f"goes{m['sat']}", "start": start}


def _scalar(nc, path, name: str) -> float:
    if name not in nc.variables or np.ma.is_masked(nc[name][...]):
        raise InputError(path, f"{name} is missing or fill: it is needed to convert radiance")
    return float(nc[name][...])


def _attrs(var) -> dict:
    return {k: var.getncattr(k) for k in var.ncattrs() if k not in _DROP_ATTRS}


def _scan_angles(var) -> np.ndarray:
    """Scan angles (rad, float64) from the packed int16 axis: decoded in float64, not netCDF4's float32."""
    var.set_auto_maskandscale(False)
    raw = np.asarray(var[:], dtype="f8")
    return raw * float(getattr(var, "scale_factor", 1.0)) + float(getattr(var, "add_offset", 0.0))


def _band(nc, path) -> int:
    if "band_id" in nc.variables:
        return int(np.ravel(nc["band_id"][:])[0])
    info = parse_name(getattr(nc, "dataset_name", "")) or parse_name(path)
    if not info or info["band"] is None:
        raise InputError(path, "no band_id variable and no band (Cnn) in dataset_name or the file name")
    return info["band"]


def _from_radiance(nc, path, band: int, rad: np.ndarray) -> tuple[str, np.ndarray, dict]:
    """L1b radiance (mW m-2 sr-1 (cm-1)-1, shape (ny, nx)) -> brightness temperature or reflectance factor."""
    L = rad.astype("f8")
    if 7 <= band <= 16:
        fk1, fk2, bc1, bc2 = (_scalar(nc, path, f"planck_{k}") for k in ("fk1", "fk2", "bc1", "bc2"))
        with np.errstate(divide="ignore", invalid="ignore"):
            bt = (fk2 / np.log(fk1 / L + 1.0) - bc1) / bc2
        bt[~(L > 0)] = np.nan  # ln is undefined for non-positive radiance (noise below zero)
        return f"BT_C{band:02d}", bt.astype("f4"), {
            "standard_name": "toa_brightness_temperature", "units": "K",
            "long_name": f"ABI band {band} brightness temperature from L1b radiance (Planck fk1/fk2, bc1/bc2)"}
    if 1 <= band <= 6:
        return f"RF_C{band:02d}", (_scalar(nc, path, "kappa0") * L).astype("f4"), {
            "standard_name": "toa_bidirectional_reflectance", "units": "1",
            "long_name": f"ABI band {band} reflectance factor from L1b radiance (kappa0 * L)"}
    raise InputError(path, f"band_id {band} is not an ABI band (1-16)")


def read_scene(nc: netCDF4.Dataset, path: str) -> xr.Dataset:
    """One open ABI file -> Dataset (time=1, y, x); raises ``InputError`` naming what is missing."""
    if "goes_imager_projection" not in nc.variables:
        raise InputError(path, "no goes_imager_projection variable (the ABI fixed-grid projection)")
    proj = {k: nc["goes_imager_projection"].getncattr(k) for k in nc["goes_imager_projection"].ncattrs()}
    missing = [k for k in regrid.PROJECTION_KEYS if k not in proj]
    if missing:
        raise InputError(path, f"goes_imager_projection lacks {', '.join(missing)}")
    kind = next((k for k in ("CMI", "Rad") if k in nc.variables), None)
    if kind is None:
        raise InputError(path, "neither CMI (L2 CMIP) nor Rad (L1b) in the file")
    for name in ("x", "y", "DQF"):
        if name not in nc.variables:
            raise InputError(path, f"no {name} variable")
    x, y = (_scan_angles(nc[a]) for a in ("x", "y"))
    if nc[kind].shape != (len(y), len(x)):
        raise InputError(path, f"{kind} has shape {nc[kind].shape}, expected (y, x) = ({len(y)}, {len(x)})")
    try:
        t = _utc(nc.getncattr("time_coverage_start"))
    except (AttributeError, ValueError, TypeError):
        raise InputError(path, "no valid time_coverage_start attribute") from None
    band = _band(nc, path)
    values = np.ma.filled(nc[kind][:].astype("f4"), np.nan)  # netCDF4 applies _Unsigned, scale/offset, fill
    if kind == "Rad":
        name, values, attrs = _from_radiance(nc, path, band, values)
    else:
        name, attrs = f"CMI_C{band:02d}", _attrs(nc["CMI"])
    tag = f"C{band:02d}"
    wavelength = float(np.ravel(nc["band_wavelength"][:])[0]) if "band_wavelength" in nc.variables else None
    attrs.update(band_id=band, grid_mapping="goes_imager_projection", ancillary_variables=f"DQF_{tag}",
                 **({"band_wavelength_um": wavelength} if wavelength else {}))
    dqf = np.ma.filled(nc["DQF"][:].astype("f4"), np.nan)
    dqf_attrs = {**_attrs(nc["DQF"]), "grid_mapping": "goes_imager_projection", "band_id": band}
    lon, lat = regrid.scan_to_lonlat(x[None, :], y[:, None], proj)
    dims = ("time", "y", "x")
    ds = xr.Dataset(
        {name: (dims, values[None], attrs), f"DQF_{tag}": (dims, dqf[None], dqf_attrs),
         "goes_imager_projection": ((), np.int32(0), proj)},
        coords={"time": ("time", [t.to_datetime64()], {"standard_name": "time", "long_name": "scan start (time_coverage_start)"}),
                "y": ("y", y, AXIS_ATTRS["y"]), "x": ("x", x, AXIS_ATTRS["x"]),
                "latitude": (("y", "x"), lat.astype("f4"), regrid.LAT_ATTRS),
                "longitude": (("y", "x"), lon.astype("f4"), regrid.LON_ATTRS),
                "satellite_longitude": ("time", [float(proj["longitude_of_projection_origin"])],
                                        {"long_name": "longitude of the sub-satellite point", "units": "degrees_east"})})
    ds.attrs = {k: nc.getncattr(k) for k in KEEP_ATTRS if k in nc.ncattrs()}
    ds.attrs["source"] = "GOES-R ABI " + ("L2 CMIP" if kind == "CMI" else "L1b radiances")
    return ds


def _fetch(url: str, storage_options: dict) -> bytes:
    """The whole remote file, retried like every remote read (:mod:`geopipe.sources.remote`).

    A network failure after the retries is a ``RemoteError`` (the run fails, as a GFS outage
    does); a listed file that is gone (404) is a bad input (``InputError``, quarantined)."""
    from geopipe.errors import RemoteError
    from geopipe.sources import remote

    try:
        return remote.fetch_file(url, storage_options)
    except RemoteError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise InputError(url, "no such remote file") from None
        raise


def _utc(value) -> pd.Timestamp:
    """A time as a naive UTC Timestamp (ABI times are UTC; '...Z' and offsets are converted)."""
    t = pd.Timestamp(value)
    return (t.tz_convert(None) if t.tzinfo else t).as_unit("ns")


def _remote_options(url: str, given: dict | None) -> dict:
    """``given``, else the catalog's options for the NOAA bucket ``url`` is in (anonymous S3)."""
    if given is not None:
        return dict(given)
    from geopipe.catalog import load

    for remote in load().source("goes").remote:
        if url.startswith(remote.url.split("{", 1)[0]):
            return dict(remote.storage_options)
    return {}


def list_remote(satellite: str, product: str, start, end, bands=None, storage_options: dict | None = None) -> list[str]:
    """URLs of ``satellite``'s (``east``, ``west``, ``goes16`` ... ``goes19``) ``product`` files that start
    in [start, end); hours without files give none (:meth:`GOESReader.remote_inputs` fails on them)."""
    from geopipe.sources.inputs import list_prefix

    plan = goes_remote.remote_inputs(start, end, satellite, product, bands, storage_options)
    return sorted({u for listing in plan.listings for u in list_prefix(listing)})


class GOESReader(SourceReader):
    """GOES-16/17/18/19 ABI NetCDF-4 (L2 CMIP, L1b radiances -> BT/RF), native fixed grid or --grid."""

    name = "goes"
    suffixes = (".nc",)

    def __init__(self, **options):
        super().__init__(**options)
        if options.get("grid"):  # a bad grid or method fails here, before any file is read
            regrid.check(options["grid"], options.get("method") or "bilinear")

    def open_dataset(self, path: str) -> xr.Dataset:
        data = _fetch(path, _remote_options(path, self.options.get("remote_options"))) if is_url(path) else None
        with DECODE_LOCK:
            try:
                nc = netCDF4.Dataset(os.path.basename(path), memory=data) if data is not None else netCDF4.Dataset(path)
            except OSError as exc:
                raise InputError(path, f"not a readable NetCDF-4 file ({str(exc).splitlines()[0]})") from None
            with nc:
                ds = read_scene(nc, path)
        if self.options.get("grid"):
            ds = regrid.to_grid(ds, self.options["grid"], self.options.get("method") or "bilinear")
        if data is not None:  # provenance from the bytes already fetched, not a second download
            ds.attrs["_geopipe_record"] = file_record(path, data=data)
        return ds

    @property
    def product(self) -> str:
        """``goes`` on the ABI fixed grid; ``goes_grid`` when resampled onto a catalog grid."""
        return "goes_grid" if self.options.get("grid") else "goes"

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--grid", help="resample onto this catalog grid: dims (time, latitude, longitude)")
        parser.add_argument("--method", choices=sorted(regrid.METHODS), default="bilinear", help="resampling for --grid")
        parser.add_argument("--satellite", choices=list(goes_remote.SATELLITES),
                            help="list NOAA's bucket of this satellite (east/west: the one in service at each "
                                 "scan time, catalog/sources.yaml goes.operational)")
        parser.add_argument("--product", default="ABI-L2-CMIPF", help="e.g. ABI-L2-CMIPF, ABI-L2-CMIPM1, ABI-L1b-RadC")
        parser.add_argument("--bands", help="comma-separated ABI bands, e.g. 8,13")
        parser.add_argument("--start", help="first scan start time (UTC, ISO 8601)")
        parser.add_argument("--end", help="end of the time range (exclusive)")
        parser.add_argument("--endpoint-url", help="S3 endpoint of a mirror of the NOAA buckets")

    @classmethod
    def options(cls, args) -> dict:
        opts = {"grid": args.grid, "method": args.method}
        if args.satellite:
            if not (args.start and args.end):
                raise ParameterError("satellite", "needs {start} and {end}")
            remote = {"client_kwargs": {"endpoint_url": args.endpoint_url}} if args.endpoint_url else {}
            bands = [int(b) for b in args.bands.split(",")] if args.bands else None
            plan = cls.remote_inputs(args.start, args.end, satellite=args.satellite, product=args.product,
                                     bands=bands, storage_options=remote)
            opts.update(remote_inputs=plan, remote_options=plan.storage_options)
        return opts

    @classmethod
    def remote_inputs(cls, start, end=None, remote: str | None = None, satellite: str = "east",
                      product: str = "ABI-L2-CMIPF", bands=None, storage_options: dict | None = None, **_):
        """One bucket prefix per hour (:func:`geopipe.sources.goes_remote.remote_inputs`); ``remote``
        is a satellite name too (``east`` ...), as ``satellite`` is."""
        if end is None:
            end = _utc(start) + pd.Timedelta(hours=1)
        return goes_remote.remote_inputs(start, end, remote or satellite, product, bands, storage_options)
