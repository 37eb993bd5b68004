"""IBTrACS v04 best tracks (CSV v04r00/v04r01 and NetCDF) into one tidy store, one row per fix.

Store (catalog product ``ibtracs``), dimension ``obs``, rows sorted by ``sid`` then ``time``:

==============================================  ================================================
``sid, basin, subbasin, name, nature,           fixed-width unicode (``basin`` etc. per fix;
track_type``                                    ``sid``/``name``/``track_type`` per storm)
``season``                                      int16 (never missing)
``time``                                        datetime64 (UTC)
``lat, lon``                                    float32, degrees_north / degrees_east in -180..180
``wmo_wind, usa_wind, storm_speed``             float32, knots
``wmo_pres, usa_pres``                          float32, hPa
``usa_sshs``                                    float32, Saffir-Simpson category (-5..5)
``dist2land``                                   float32, km
``storm_dir``                                   float32, degrees clockwise from north
==============================================  ================================================

Missing values (blank CSV cells, NetCDF fill) are NaN.  The CSV quirks handled: a units row
under the header, 163 (v04r00) or 174 (v04r01) columns (only the columns above are read),
blank WMO fields on provisional rows, basin ``NA`` (North Atlantic, not a missing value).
The NetCDF stores storms x date_time with fixed-length byte strings and a padded time
axis (fill where a storm has no fix) and longitudes up to ~245.

Filters (reader options, ``geopipe ingest ibtracs`` flags): ``basin`` (list) keeps storms
with a fix in any of those basins (whole tracks), ``seasons`` a range of seasons, ``track_type``
``default`` keeps main and provisional tracks and drops spurs, ``main`` main tracks only,
``all`` keeps spurs too.

Writing merges with the store: a storm (``sid``) in the new file replaces that storm's rows,
so re-ingesting a newer IBTrACS release updates tracks instead of duplicating them.
"""

from __future__ import annotations

import logging

import numpy as np

from geopipe.errors import GeopipeError, ParameterError
from geopipe.parsing import csv_list
from geopipe.sources.base import SourceReader
from geopipe.sources.ibtracs_io import NUMBERS, STRINGS, read_csv, read_netcdf
from geopipe.sources.timeseries import read_bytes
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")
xr = lazy_import("xarray")
_store = lazy_import("geopipe.store")

log = logging.getLogger(__name__)

ATTRS = {
    "sid": {"long_name": "IBTrACS serial ID", "cf_role": "trajectory_id"},
    "season": {"long_name": "season (year) the storm started"},
    "basin": {"long_name": "current basin", "comment": "NA EP WP NI SI SP SA"},
    "subbasin": {"long_name": "current sub-basin"},
    "name": {"long_name": "storm name"},
    "time": {"standard_name": "time", "long_name": "time of the fix (UTC)"},
    "lat": {"standard_name": "latitude", "units": "degrees_north"},
    "lon": {"standard_name": "longitude", "units": "degrees_east"},
    "wmo_wind": {"long_name": "maximum sustained wind from the WMO agency", "units": "knots"},
    "wmo_pres": {"long_name": "minimum central pressure from the WMO agency", "units": "hPa"},
    "usa_wind": {"long_name": "maximum sustained wind (US agencies, 1-minute)", "units": "knots",
                 "standard_name": "tropical_cyclone_maximum_sustained_wind_speed"},
    "usa_pres": {"long_name": "minimum central pressure (US agencies)", "units": "hPa"},
    "usa_sshs": {"long_name": "Saffir-Simpson hurricane wind scale category", "units": "1",
                 "comment": "-5 unknown, -4 post-tropical, -3 misc. disturbance, -2 subtropical, "
                            "-1 tropical depression, 0 tropical storm, 1-5 hurricane category"},
    "nature": {"long_name": "nature of the cyclone", "comment": "DS TS ET SS NR MX"},
    "track_type": {"long_name": "track type", "comment": "main, PROVISIONAL, or spur-* (merge/split tracks)"},
    "dist2land": {"long_name": "distance to land", "units": "km"},
    "storm_speed": {"long_name": "storm translation speed", "units": "knots"},
    "storm_dir": {"long_name": "storm translation direction", "units": "degrees", "comment": "clockwise from north"},
}
GLOBAL_ATTRS = {"title": "IBTrACS v04 best tracks, one row per fix", "institution": "NOAA NCEI",
                "references": "Knapp et al. (2010), doi:10.1175/2009BAMS2755.1; doi:10.25921/82ty-9e16",
                "license": "public domain (NOAA NCEI)"}
TRACK_TYPES = ("default", "main", "all")


def parse_seasons(text: str | None) -> set[int] | None:
    """``"2000-2024"``, ``"2004"`` or ``"2000,2004-2006"`` -> set of seasons (None = all)."""
    if not text:
        return None
    out: set[int] = set()
    for part in str(text).split(","):
        a, _, b = part.strip().partition("-")
        try:
            out.update(range(int(a), int(b or a) + 1))
        except ValueError:
            raise ParameterError("seasons", "expected YEAR, YEAR-YEAR or a comma list of them", text) from None
    return out


def select(frame: pd.DataFrame, basins=None, seasons=None, track_type: str = "default") -> pd.DataFrame:
    """Rows of the storms that pass the filters (whole tracks are kept or dropped).

    ``track_type``: ``default`` main and provisional tracks, ``main`` main tracks only,
    ``all`` every track including spurs."""
    keep = np.ones(len(frame), dtype=bool)
    if track_type not in TRACK_TYPES:
        raise GeopipeError(f"track type {track_type!r}: expected one of {', '.join(TRACK_TYPES)}")
    kind = frame["track_type"].str.lower()
    if track_type == "default":
        keep &= ~kind.str.contains("spur").to_numpy()
    elif track_type == "main":
        keep &= (kind == "main").to_numpy()
    if seasons:
        keep &= frame["season"].isin(sorted(seasons)).to_numpy()
    if basins:
        wanted = {b.upper() for b in basins}
        hit = frame.loc[frame["basin"].isin(wanted), "sid"].unique()
        keep &= frame["sid"].isin(hit).to_numpy()
    return frame[keep]


def to_dataset(frame: pd.DataFrame) -> xr.Dataset:
    """A fix table -> the store's Dataset (dim ``obs``, sorted by sid then time)."""
    frame = frame.sort_values(["sid", "time"], kind="stable")
    data = {}
    for name in STRINGS:
        values = frame[name].fillna("").astype(str).to_numpy()
        width = max(1, max((len(v) for v in values), default=1))
        data[name] = ("obs", values.astype(f"<U{width}"), ATTRS[name])
    data["season"] = ("obs", frame["season"].to_numpy(dtype="int16"), ATTRS["season"])
    data["time"] = ("obs", frame["time"].to_numpy(dtype="datetime64[ns]"), ATTRS["time"])
    for name in NUMBERS:
        data[name] = ("obs", frame[name].to_numpy(dtype="float32"), ATTRS[name])
    order = ["sid", "season", "basin", "subbasin", "name", "time", "lat", "lon", *NUMBERS[2:-3], "nature",
             "track_type", "dist2land", "storm_speed", "storm_dir"]
    return xr.Dataset({k: data[k] for k in order}, attrs=dict(GLOBAL_ATTRS))


class IBTrACSReader(SourceReader):
    """IBTrACS v04 best tracks (CSV and NetCDF)."""

    name = "ibtracs"
    dim = "obs"
    #: a storm in a new file replaces that storm's rows (a newer release updates tracks)
    joins = "merge"
    key = "sid"
    merge_sort = ("time",)
    suffixes = (".csv", ".nc")

    def open_dataset(self, path: str) -> xr.Dataset:
        raw, record = read_bytes(path, self.options.get("remote_options"))
        frame = read_netcdf(path, raw) if raw[:4] in (b"\x89HDF", b"CDF\x01", b"CDF\x02") else read_csv(path, raw)
        frame = select(frame, self.options.get("basin"), parse_seasons(self.options.get("seasons")),
                       self.options.get("track_type") or "default")
        ds = to_dataset(frame)
        ds.attrs["_geopipe_record"] = record
        return ds

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--basin", help="keep storms with a fix in these basins, e.g. NA,EP (NA EP WP NI SI SP SA)")
        parser.add_argument("--seasons", help="keep these seasons, e.g. 2000-2024 or 2004,2010-2012")
        parser.add_argument("--track-type", choices=TRACK_TYPES, default="default",
                            help="default: main and provisional tracks (spurs dropped); main: main tracks only; all: spurs too")

    @classmethod
    def options(cls, args) -> dict:
        parse_seasons(args.seasons)  # a bad value fails before any file is read
        return {"basin": csv_list(args.basin), "seasons": args.seasons, "track_type": args.track_type}
