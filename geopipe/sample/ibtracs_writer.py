"""IBTrACS v04r01 CSV best tracks of the planted tropical cyclones.

The header and the units row are copied from the bundled real ``ibtracs.ACTIVE.list.v04r01.csv``
(174 columns); rows are 3-hourly fixes with blank cells written as a single space, as NCEI
does.  Filled: SID, SEASON, NUMBER, BASIN, SUBBASIN, NAME, ISO_TIME, NATURE (TS), LAT, LON
(1 decimal; longitudes stay continuous across the dateline, as in IBTrACS, so they can
pass 180 but never go below -180), WMO_WIND/WMO_PRES/WMO_AGENCY (10-minute winds, 0.88 x the 1-minute wind, outside
the NHC/CPHC basins; Tokyo gives no wind below 35 kt), TRACK_TYPE (main), DIST2LAND and
LANDFALL (km, from Natural Earth 1:110m land), IFLAG (``O`` at synoptic hours, ``P`` for the
interpolated 3-hourly fixes), USA_LAT/USA_LON/USA_WIND/USA_PRES/USA_SSHS, STORM_SPEED (kt)
and STORM_DIR (degrees).  SEASON follows WMO: southern-hemisphere seasons start on 1 July
of the year before; NUMBER counts a season's storms across all basins in order of genesis.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import os

import numpy as np
import pandas as pd

from geopipe.atomic import write_text
from geopipe.geometry import distance_km, wrap180
from geopipe.sample import NATURAL_EARTH, real

HEADER_SOURCE = ("ibtracs", "ibtracs.ACTIVE.list.v04r01.csv")
RELATIVE_PATH = "ibtracs/ibtracs.ALL.list.v04r01.csv"
KT = 1.0 / 0.514444  # knots per m/s
_LAND = NATURAL_EARTH / "shapefiles" / "natural_earth" / "physical" / "ne_110m_land.shp"


@functools.lru_cache(maxsize=1)
def header_rows() -> tuple[list[str], list[str]]:
    """The column names (174) and the units row of the real v04r01 CSV."""
    with open(real(*HEADER_SOURCE), newline="") as fh:
        reader = csv.reader(fh)
        return next(reader), next(reader)


@functools.lru_cache(maxsize=1)
def _land():
    """(land polygons as one shapely geometry, coastline vertices (n, 2) lon/lat) of Natural Earth 1:110m."""
    import shapefile  # pyshp, installed with cartopy
    import shapely

    polys, points = [], []
    with shapefile.Reader(str(_LAND)) as shp:
        for shape in shp.shapes():
            for a, b in itertools.pairwise([*shape.parts, len(shape.points)]):
                ring = np.asarray(shape.points[a:b], dtype="f8")
                polys.append(shapely.Polygon(ring))
                points.append(ring)
    return shapely.union_all(polys), np.concatenate(points)


def dist2land_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance (km) from each point to the nearest land, 0 over land (Natural Earth 1:110m)."""
    import shapely

    land, coast = _land()
    lon180 = wrap180(lon)
    on_land = shapely.contains_xy(land, lon180, lat)
    d = distance_km(lat[:, None], lon180[:, None], coast[None, :, 1], coast[None, :, 0]).min(axis=1)
    return np.where(on_land, 0.0, d)


def basin_of(lat: float, lon: float) -> tuple[str, str]:
    """IBTrACS (basin, subbasin) of a position (simplified boundaries)."""
    lon = float(wrap180(lon))
    if lat >= 0:
        if lon < -100 or (lon < -85 and lat < 15):
            return "EP", "CP" if lon < -140 else "MM"
        if lon < 20:
            if 18 < lat < 31 and -98 < lon < -81:
                return "NA", "GM"
            return "NA", "CS" if lat < 22 and -89 < lon < -60 else "NA"
        if lon < 100:
            return "NI", "BB" if lon > 77 else "AS"
        return "WP", "MM"
    if -70 <= lon < 10:
        return "SA", "MM"
    if 10 <= lon < 135:
        return "SI", "WA" if lon >= 90 else "MM"
    return "SP", "EA" if 135 <= lon < 160 else "MM"


def wmo_agency(basin: str, subbasin: str, lon: float) -> str:
    lon = float(wrap180(lon))
    if basin == "NA":
        return "hurdat_atl"
    if basin == "EP":
        return "cphc" if subbasin == "CP" else "hurdat_epa"
    if basin == "SI":
        return "reunion" if lon < 90 else "bom"
    if basin == "SP":
        return "bom" if lon < 160 and lon > 0 else "nadi"
    return {"WP": "tokyo", "NI": "newdelhi", "SA": "hurdat_atl"}[basin]


def sshs(wind_kt: float) -> int:
    """Saffir-Simpson category as IBTrACS codes it: -1 depression, 0 storm, 1..5 hurricane."""
    for cat, lo in ((5, 137), (4, 113), (3, 96), (2, 83), (1, 64), (0, 34)):
        if wind_kt >= lo:
            return cat
    return -1


def season_of(t: pd.Timestamp, lat: float) -> int:
    return t.year + 1 if lat < 0 and t.month >= 7 else t.year


def _sid(t: pd.Timestamp, lat: float, lon: float) -> str:
    """``2025240N11251``: year, day of year, hemisphere, |lat| and lon 0..360 of the first fix."""
    return f"{t:%Y}{t.day_of_year:03d}{'N' if lat >= 0 else 'S'}{round(abs(lat)):02d}{round(lon % 360.0) % 360:03d}"


def motion(lat: np.ndarray, lon: np.ndarray, hours: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Storm speed (kt) and direction (degrees clockwise from north) toward the next fix (the last repeats)."""
    if lat.size < 2:
        return np.zeros(lat.size), np.zeros(lat.size)
    p1, p2 = np.deg2rad(lat[:-1]), np.deg2rad(lat[1:])
    dl = np.deg2rad(lon[1:] - lon[:-1])
    bearing = np.rad2deg(np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)))
    speed = distance_km(lat[:-1], lon[:-1], lat[1:], lon[1:]) / 1.852 / hours
    return np.append(speed, speed[-1]), np.append(bearing % 360.0, bearing[-1] % 360.0)


def rows(tracks: list[dict]) -> list[list[str]]:
    """CSV rows (174 cells each) of the best tracks; ``tracks`` as in the manifest (class tropical)."""
    names, _ = header_rows()
    col = {n: i for i, n in enumerate(names)}
    tracks = sorted(tracks, key=lambda t: t["fixes"][0]["time"])
    numbers: dict[int, int] = {}
    out = []
    for track in tracks:
        fixes = track["fixes"]
        times = [pd.Timestamp(f["time"]) for f in fixes]
        lat = np.array([f["lat"] for f in fixes])
        lon = np.unwrap(np.array([f["lon"] for f in fixes]), period=360.0)
        lon = lon - 360.0 * np.floor((lon[0] + 180.0) / 360.0)  # first fix in -180..180, then continuous ...
        if lon.min() < -180.0:  # ... except that IBTrACS runs past +180, never below -180
            lon = lon + 360.0
        season = season_of(times[0], lat[0])
        numbers[season] = numbers.get(season, 0) + 1
        d2l = dist2land_km(lat, lon)
        speed, heading = motion(lat, lon)
        sid = _sid(times[0], lat[0], lon[0])
        for k, (t, fix) in enumerate(zip(times, fixes)):
            basin, sub = basin_of(lat[k], lon[k])
            agency = wmo_agency(basin, sub, lon[k])
            usa_wind = 5 * round(fix["wind_kt"] / 5)
            wmo_wind = usa_wind if agency in ("hurdat_atl", "hurdat_epa", "cphc") else 5 * round(0.88 * usa_wind / 5)
            pres = round(fix["pres_hpa"])
            cells = [" "] * len(names)
            values = {
                "SID": sid, "SEASON": season, "NUMBER": numbers[season], "BASIN": basin, "SUBBASIN": sub,
                "NAME": track["name"], "ISO_TIME": f"{t:%Y-%m-%d %H:%M:%S}", "NATURE": "TS",
                "LAT": f"{lat[k]:.1f}", "LON": f"{lon[k]:.1f}",
                "WMO_WIND": " " if agency == "tokyo" and wmo_wind < 35 else wmo_wind, "WMO_PRES": pres,
                "WMO_AGENCY": agency, "TRACK_TYPE": "main", "DIST2LAND": round(d2l[k]),
                "LANDFALL": round(min(d2l[k], d2l[k + 1])) if k + 1 < len(fixes) else " ",
                "IFLAG": ("O" if t.hour % 6 == 0 else "P") + "_" * 14,
                "USA_LAT": f"{lat[k]:.1f}", "USA_LON": f"{lon[k]:.1f}", "USA_WIND": usa_wind, "USA_PRES": pres,
                "USA_SSHS": sshs(usa_wind), "STORM_SPEED": round(speed[k]), "STORM_DIR": round(heading[k]),
            }
            for name, value in values.items():
                cells[col[name]] = str(value)
            out.append(cells)
    return out


def write(out: str, tracks: list[dict]) -> str:
    """Write ``OUT/ibtracs/ibtracs.ALL.list.v04r01.csv``; returns its path."""
    names, units = header_rows()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    writer.writerow(units)
    writer.writerows(rows(tracks))
    return write_text(os.path.join(out, RELATIVE_PATH), buf.getvalue(), newline="")
