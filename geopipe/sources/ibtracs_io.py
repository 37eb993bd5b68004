"""Read one IBTrACS v04 file (CSV or NetCDF) into a fix table (:mod:`geopipe.sources.ibtracs` stores it).

The table is a ``pandas.DataFrame``, one row per fix, with columns :data:`STRINGS` (str),
``season`` (int), ``time`` (datetime64) and :data:`NUMBERS` (float64, NaN = missing).
Longitudes are normalised to -180..180.
"""

from __future__ import annotations

import io

import numpy as np

from geopipe.errors import InputError
from geopipe.sources.timeseries import Lines, check_numeric
from geopipe.lazy import lazy_import

netCDF4 = lazy_import("netCDF4")
pd = lazy_import("pandas")

STRINGS = ("sid", "basin", "subbasin", "name", "nature", "track_type")
NUMBERS = ("lat", "lon", "wmo_wind", "wmo_pres", "usa_wind", "usa_pres", "usa_sshs", "dist2land",
           "storm_speed", "storm_dir")
#: the columns read from the CSV, out of its 163 (v04r00) or 174 (v04r01)
CSV_COLUMNS = ("SID", "SEASON", "BASIN", "SUBBASIN", "NAME", "ISO_TIME", "NATURE", "LAT", "LON", "WMO_WIND",
               "WMO_PRES", "TRACK_TYPE", "DIST2LAND", "USA_WIND", "USA_PRES", "USA_SSHS", "STORM_SPEED", "STORM_DIR")
PER_STORM = ("sid", "season", "name", "track_type")


def normalise_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes (degrees, any range) -> [-180, 180)."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def read_csv(path: str, raw: bytes) -> pd.DataFrame:
    """An IBTrACS ``*.list.v04r0?.csv`` -> fix table. Bad rows raise ``InputError`` with the line."""
    lines = Lines(raw, comment=None)
    if not len(lines):
        raise InputError(path, "the file is empty")
    header = [h.strip() for h in lines.text(0).split(",")]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"not an IBTrACS v04 CSV: the header lacks {', '.join(missing)}", line=lines.number(0))
    units = len(lines) > 1 and lines.text(1).split(",")[header.index("SEASON")].strip() == "Year"
    first = 2 if units else 1
    lines.check_fields(path, len(header), first=1)
    df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, usecols=list(CSV_COLUMNS),
                     skiprows=[lines.rows[1]] if units else None, skip_blank_lines=True)
    line_of = lambda i: lines.number(i + first)  # noqa: E731
    if df.empty:
        raise InputError(path, "no fixes after the header")
    out = pd.DataFrame({name.lower(): df[name].str.strip() for name in ("SID", "BASIN", "SUBBASIN", "NAME", "NATURE", "TRACK_TYPE")})
    numbers = check_numeric(df, ["SEASON", *[n.upper() for n in NUMBERS]], path, line_of)
    blank = np.flatnonzero(numbers["SEASON"].isna().to_numpy() | (out["sid"] == "").to_numpy())
    if len(blank):
        raise InputError(path, "row has no SID or SEASON", line=line_of(int(blank[0])))
    out["season"] = numbers["SEASON"].astype("int64")
    times = pd.to_datetime(df["ISO_TIME"].str.strip(), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise InputError(path, f"bad ISO_TIME {df['ISO_TIME'].iloc[bad[0]]!r}", line=line_of(int(bad[0])))
    out["time"] = times
    for name in NUMBERS:
        out[name] = numbers[name.upper()]
    out["lon"] = normalise_lon(out["lon"].to_numpy())
    dup = np.flatnonzero(out.duplicated(["sid", "time"]).to_numpy())
    if len(dup):
        raise InputError(path, f"storm {out['sid'].iloc[dup[0]]} repeats the fix at {out['time'].iloc[dup[0]]}",
                         line=line_of(int(dup[0])))
    return out


def _chars(nc, name: str) -> np.ndarray:
    """A fixed-length byte-string variable (..., nchar) -> str array (...), padding stripped."""
    var = nc[name]
    var.set_auto_mask(False)
    return np.char.strip(netCDF4.chartostring(var[:], encoding="utf-8").astype(str))


def _numbers(nc, name: str) -> np.ndarray:
    var = nc[name]
    var.set_auto_maskandscale(True)
    return np.ma.filled(var[:].astype("f8"), np.nan)


def read_netcdf(path: str, raw: bytes) -> pd.DataFrame:
    """An IBTrACS ``IBTrACS.*.v04r0?.nc`` -> fix table (only the date_time slots that hold a fix)."""
    try:
        nc = netCDF4.Dataset(str(path), mode="r", memory=raw)
    except OSError as exc:
        raise InputError(path, f"not a readable NetCDF file ({exc})") from None
    with nc:
        need = ["sid", "season", "name", "track_type", "iso_time", "time", *[n for n in STRINGS + NUMBERS if n not in PER_STORM]]
        missing = [n for n in need if n not in nc.variables]
        if missing:
            raise InputError(path, f"not an IBTrACS v04 NetCDF: no variable {', '.join(missing)}")
        t = nc["time"]
        t.set_auto_mask(True)
        valid = ~np.ma.getmaskarray(t[:])  # the padded date_time slots are fill
        storm, _ = np.nonzero(valid)
        out = pd.DataFrame({"sid": _chars(nc, "sid")[storm]})
        seasons = np.ma.filled(nc["season"][:].astype("f8"), np.nan)
        if np.isnan(seasons[storm]).any():
            raise InputError(path, f"storm {out['sid'].iloc[int(np.flatnonzero(np.isnan(seasons[storm]))[0])]} has no season")
        out["season"] = seasons[storm].astype("int64")
        out["name"] = _chars(nc, "name")[storm]
        out["track_type"] = _chars(nc, "track_type")[storm]
        for name in ("basin", "subbasin", "nature"):
            out[name] = _chars(nc, name)[valid]
        iso = _chars(nc, "iso_time")[valid]
        times = pd.to_datetime(pd.Series(iso), format="%Y-%m-%d %H:%M:%S", errors="coerce")
        if times.isna().any():
            raise InputError(path, f"bad iso_time {iso[int(np.flatnonzero(times.isna().to_numpy())[0])]!r}")
        out["time"] = times.to_numpy()
        for name in NUMBERS:
            out[name] = _numbers(nc, name)[valid]
    out["lon"] = normalise_lon(out["lon"].to_numpy())
    return out
