"""Write the generated sample archive: GFS GRIB2, GOES CMIP, IBTrACS, ISGI, and its manifest.

``generate(out, seed=0, days=20, ...)`` writes, deterministically from ``seed`` (same seed,
byte-identical files), an archive laid out like the real ones so the same ingest code
(local folders, or the loopback HTTP server for the remote paths) reads it::

    OUT/gfs/gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.1p00.fFFF (+ .idx)   every 6 h, fhours each
    OUT/goes/ABI-L2-CMIPC/YYYY/JJJ/HH/OR_ABI-L2-CMIPC-M6C08_G16_s..._e..._c....nc   bands 8, 13
    OUT/ibtracs/ibtracs.ALL.list.v04r01.csv                          the tropical cyclones only
    OUT/isgi/kyoto_asysym_iaga2002/*.bz2 + SOURCES.md                real Kyoto files, copied
    OUT/MANIFEST.json                                                files, parameters, truth

The weather is :class:`geopipe.sample.fields.Weather` with the storms of
:func:`geopipe.sample.vortices.make_storms`; ``MANIFEST.json`` lists every planted storm
(``class`` tropical or extratropical) with 3-hourly fixes (``lat``/``lon`` 0..360 of the PRMSL
minimum, ``pres_hpa`` there, ``dp_hpa`` the vortex depth, ``wind_kt`` its peak 10 m wind;
tropical fixes only from 25 kt, like the best tracks), so detectors can be scored against
the truth.  The first tropical cyclone sits in the GOES CONUS sector at the first scan, one
crosses the dateline westward in the North Pacific and one eastward in the South Pacific.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence

import numpy as np
import pandas as pd

from geopipe.atomic import write_json
from geopipe.errors import GeopipeError
from geopipe.geometry import coriolis
from geopipe.sample import REAL, goes_writer, grib_writer, ibtracs_writer
from geopipe.sample.fields import Weather
from geopipe.sample.vortices import DEG_M, Storm, gradient_wind, make_storms

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.json"
FORMAT = "geopipe-sample/1"
KYOTO = "kyoto_asysym_iaga2002"
GOES_BANDS = (8, 13)
TC_MIN_WIND_KT = 25.0  # best tracks start and end at tropical-depression strength


def generate(out, seed: int = 0, days: int = 20, res: float = 1.0, start: str = "2024-09-01",
             n_tropical: int = 10, n_extratropical: int = 10, goes_times: int | Sequence = 4,
             fhours: Sequence[int] = (0,)) -> dict:
    """Write the sample archive under ``out`` and return its manifest (also in ``out/MANIFEST.json``).

    ``days`` of 6-hourly GFS cycles from ``start`` (00 UTC) on a global ``res``-degree grid
    (``res`` must divide 180), each with forecast hours ``fhours``; ``goes_times`` is a number of
    hourly GOES scans from ``start`` or a list of times (each rounded down to its hour).
    ``out`` must be empty, missing, or an earlier generated archive (whose files are replaced).
    """
    out = os.path.abspath(os.fspath(out))
    start_t, hours, fhours, scans = _check(out, days, res, start, fhours, goes_times, n_tropical, n_extratropical)
    _clear(out)
    rng = np.random.default_rng(seed)
    storms = make_storms(rng, hours, n_tropical, n_extratropical,
                         goes_hour=_hour(scans[0] + goes_writer.SCAN_OFFSET, start_t) if scans else None)
    weather = Weather(rng, storms)
    files = []
    lat = 90.0 - res * np.arange(round(180 / res) + 1)
    lon = res * np.arange(round(360 / res))
    for init in pd.date_range(start_t, periods=days * 4, freq="6h"):
        for fh in fhours:
            fields = weather.on_grid(lat, lon, _hour(init, start_t) + fh)
            path = grib_writer.write_file(os.path.join(out, "gfs"), init, fh, res, fields)
            files += [(path, "gfs"), (path + ".idx", "gfs_idx")]
    for scan in scans:
        for band in GOES_BANDS:
            files.append((goes_writer.write_scene(os.path.join(out, "goes"), weather, scan, start_t, band), "goes"))
    tracks = [_track(s, weather, start_t) for s in storms]
    tropical = [t for t in tracks if t["class"] == "tropical" and t["fixes"]]
    files.append((ibtracs_writer.write(out, tropical), "ibtracs"))
    files += [(p, "isgi") for p in _copy_isgi(out)]
    manifest = {
        "format": FORMAT, "generator": "geopipe.sample.generate", "seed": int(seed),
        "parameters": {"days": int(days), "res": float(res), "start": f"{start_t:%Y-%m-%dT%H:%M:%S}",
                       "n_tropical": int(n_tropical), "n_extratropical": int(n_extratropical),
                       "goes_times": [f"{t:%Y-%m-%dT%H:%M:%S}" for t in scans], "fhours": list(fhours),
                       "goes_bands": list(GOES_BANDS)},
        "grid": {"lat_first": 90.0, "lat_last": -90.0, "lon_first": 0.0, "lon_last": float(lon[-1]),
                 "ny": int(lat.size), "nx": int(lon.size), "res": float(res)},
        "files": [_entry(out, path, kind) for path, kind in files],
        "storms": tracks,
    }
    _write_json(os.path.join(out, MANIFEST), manifest)
    log.info("wrote %d files and %d storms under %s", len(files), len(tracks), out)
    return manifest


def _hour(t: pd.Timestamp, start: pd.Timestamp) -> float:
    return (t - start) / pd.Timedelta("1h")


def _check(out, days, res, start, fhours, goes_times, n_tropical, n_extratropical):
    if int(days) != days or days < 1:
        raise GeopipeError(f"days must be a whole number of days >= 1, not {days!r}")
    if not (0 < res <= 10) or abs(180 / res - round(180 / res)) > 1e-9:
        raise GeopipeError(f"res must divide 180 degrees (e.g. 0.5, 1, 2, 2.5), not {res!r}")
    if min(n_tropical, n_extratropical) < 0:
        raise GeopipeError("the numbers of storms cannot be negative")
    try:
        start_t = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise GeopipeError(f"start {start!r} is not a date (YYYY-MM-DD)") from None
    if start_t.tzinfo is not None:
        start_t = start_t.tz_convert(None)
    if start_t != start_t.normalize():
        raise GeopipeError(f"start must be a day at 00 UTC (GFS cycles are 00/06/12/18), not {start}")
    fhours = sorted({int(f) for f in fhours})
    if not fhours or fhours[0] < 0 or fhours[-1] > 384:
        raise GeopipeError(f"fhours must be forecast hours 0..384, not {fhours}")
    if isinstance(goes_times, (int, np.integer)):
        if goes_times < 0:
            raise GeopipeError("goes_times cannot be negative")
        scans = list(pd.date_range(start_t, periods=int(goes_times), freq="1h"))
    else:
        scans = sorted({pd.Timestamp(t).floor("1h") for t in goes_times})
    hours = days * 24.0
    if scans and not (start_t <= scans[0] and scans[-1] < start_t + pd.Timedelta(hours, "h")):
        raise GeopipeError(f"GOES times must fall within the {days} days from {start_t:%Y-%m-%d}")
    if os.path.isfile(out):
        raise GeopipeError(f"{out} is a file; give a folder for the sample archive")
    if os.path.isdir(out) and os.listdir(out) and not os.path.isfile(os.path.join(out, MANIFEST)):
        raise GeopipeError(f"{out} is not empty and holds no {MANIFEST}: give an empty or new folder "
                           "(an earlier generated archive is replaced)")
    return start_t, hours, fhours, scans


def _clear(out: str) -> None:
    """Remove the files an earlier run listed in its manifest (and folders left empty)."""
    old = os.path.join(out, MANIFEST)
    if not os.path.isfile(old):
        os.makedirs(out, exist_ok=True)
        return
    try:
        with open(old) as fh:
            listed = [e["path"] for e in json.load(fh).get("files", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise GeopipeError(f"{old} is not a manifest of a generated archive; give an empty folder") from None
    for rel in listed:
        path = os.path.normpath(os.path.join(out, rel))
        if path.startswith(out + os.sep) and os.path.isfile(path):
            os.remove(path)
    os.remove(old)
    for sub in ("gfs", "goes", "ibtracs", "isgi"):
        for dirpath, _dirs, _files in sorted(os.walk(os.path.join(out, sub)), reverse=True):
            if not os.listdir(dirpath):
                os.rmdir(dirpath)


def _track(storm: Storm, weather: Weather, start: pd.Timestamp) -> dict:
    """Manifest entry of a storm: 3-hourly fixes (tropical: while at depression strength or more)."""
    fixes = []
    first = int(np.ceil(storm.hours[0] / 3.0) * 3)
    for hour in range(first, int(storm.hours[-1]) + 1, 3):
        lat, lon, a = storm.state(hour)
        if a <= 0.0:
            continue
        wind = _max_wind_kt(storm, lat, a)
        if storm.kind == "tropical" and wind < TC_MIN_WIND_KT:
            continue
        pres = float(weather.at(lat, lon % 360.0, float(hour))["prmsl"]) / 100.0
        fixes.append({"time": f"{start + pd.Timedelta(hour, 'h'):%Y-%m-%dT%H:%M:%S}", "lat": round(lat, 4),
                      "lon": round(lon % 360.0, 4), "pres_hpa": round(pres, 2),
                      "dp_hpa": round(storm.dp_max * a / 100.0, 2), "wind_kt": round(wind, 1)})
    return {"name": storm.name, "class": storm.kind, "basin": storm.basin,
            "hemisphere": "S" if np.mean(storm.lat) < 0 else "N", "dp_max_hpa": round(storm.dp_max / 100.0, 2),
            "radius_deg": round(storm.radius, 3), "pwat_boost": round(storm.pwat_boost, 2),
            "in_ibtracs": storm.kind == "tropical", "fixes": fixes}


def _max_wind_kt(storm: Storm, lat: float, a: float) -> float:
    """Peak 10 m wind (kt) of the vortex: 80 % of its peak gradient wind."""
    r = np.linspace(0.05, 3.0, 120) * storm.radius * DEG_M
    f = abs(float(coriolis(lat)))
    return float(0.8 * gradient_wind(r, storm.dp_max * a, storm.radius * DEG_M, f).max() * ibtracs_writer.KT)


def _copy_isgi(out: str) -> list[str]:
    """Copy the real Kyoto ASY/SYM IAGA-2002 files and their attribution into ``out/isgi``."""
    src, dst = REAL / "isgi" / KYOTO, os.path.join(out, "isgi", KYOTO)
    os.makedirs(dst, exist_ok=True)
    paths = []
    for name in sorted(os.listdir(src)):
        shutil.copyfile(src / name, os.path.join(dst, name))
        paths.append(os.path.join(dst, name))
    note = os.path.join(out, "isgi", "SOURCES.md")
    with open(note, "w") as fh:
        fh.write(_kyoto_note())
    return paths + [note]


def _kyoto_note() -> str:
    """The Kyoto licence and the rows for these files, taken from the bundled SOURCES.md."""
    text = (REAL / "SOURCES.md").read_text()
    begin = text.find("## isgi/ (real SYM-H")
    end = text.find("### isgi/omni_cdaweb_csv")
    section = text[begin:end].rstrip() if 0 <= begin < end else text
    return ("# Real WDC Kyoto files in this generated archive\n\nThese files are copied unchanged from "
            "geopipe's bundled samples (they are real data, not generated).\n"
            "Data (c) WDC for Geomagnetism, Kyoto: free for research and education, no commercial use; "
            "cite doi:10.14989/267216 (ASY/SYM).\n\n" + section + "\n")


def _entry(out: str, path: str, kind: str) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"path": os.path.relpath(path, out).replace(os.sep, "/"), "kind": kind,
            "bytes": os.path.getsize(path), "sha256": digest.hexdigest()}


def _write_json(path: str, obj) -> None:
    write_json(path, obj, indent=1)
