"""GFS-format GRIB2 files and their wgrib2 ``.idx`` inventories, cloned from real NCEP messages.

Each message starts as a copy of the matching message of the bundled operational file
``gfs/gfs.t12z.pgrbf120.2p5deg.grib2`` (centre kwbc, complex packing with spatial
differencing, NCEP's decimal scale factors), so sections 1-5 are NCEP's own; the grid
(regular_ll, 90..-90 x 0..360-res), the reference time, the forecast hour and the values are
then set with eccodes.  Files are laid out as on NOAA's servers,
``gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.1p00.fFFF`` (the resolution tag follows ``res``), each
with a ``.idx`` of lines ``n:byte_offset:d=YYYYMMDDHH:VAR:level:fcst:`` so a byte-range reader
can fetch single fields.
"""

from __future__ import annotations

import functools
import os

import eccodes  # geopipe/__init__ has loaded pyproj first, as it must
import numpy as np
import pandas as pd

from geopipe.atomic import write_bytes
from geopipe.sample import real

TEMPLATE = ("gfs", "gfs.t12z.pgrbf120.2p5deg.grib2")
#: (field key of Weather.on_grid, template shortName, typeOfLevel, level, idx VAR, idx level), in file order
MESSAGES = (
    ("prmsl", "prmsl", "meanSea", 0, "PRMSL", "mean sea level"),
    ("absv850", "absv", "isobaricInhPa", 850, "ABSV", "850 mb"),
    ("u10", "10u", "heightAboveGround", 10, "UGRD", "10 m above ground"),
    ("v10", "10v", "heightAboveGround", 10, "VGRD", "10 m above ground"),
    ("pwat", "pwat", "atmosphereSingleLayer", 0, "PWAT", "entire atmosphere (considered as a single layer)"),
)


@functools.lru_cache(maxsize=1)
def templates() -> dict[str, bytes]:
    """The real NCEP messages to clone, by field key (single-field: NCEP packs 10u/10v in one message)."""
    wanted = {(m[1], m[2], m[3]): m[0] for m in MESSAGES}
    out: dict[str, bytes] = {}
    eccodes.codes_grib_multi_support_on()  # split NCEP's two-field UGRD/VGRD message
    try:
        with open(real(*TEMPLATE), "rb") as fh:
            while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
                try:
                    key = (eccodes.codes_get(h, "shortName"), eccodes.codes_get(h, "typeOfLevel"),
                           eccodes.codes_get(h, "level"))
                    if key in wanted and wanted[key] not in out:
                        out[wanted[key]] = eccodes.codes_get_message(h)
                finally:
                    eccodes.codes_release(h)
    finally:
        eccodes.codes_grib_multi_support_off()
    missing = sorted(set(wanted.values()) - set(out))
    if missing:
        raise RuntimeError(f"the template file {TEMPLATE[1]} lacks messages for {missing}")
    return out


def res_tag(res: float) -> str:
    """NOAA's resolution tag: 1.0 -> ``1p00``, 0.25 -> ``0p25``, 2.5 -> ``2p50``."""
    return f"{res:.2f}".replace(".", "p")


def relative_path(init: pd.Timestamp, fhour: int, res: float) -> str:
    """``gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.1p00.fFFF`` for a cycle and forecast hour."""
    return (f"gfs.{init:%Y%m%d}/{init:%H}/atmos/gfs.t{init:%H}z.pgrb2.{res_tag(res)}.f{fhour:03d}")


def encode(key: str, values: np.ndarray, init: pd.Timestamp, fhour: int, res: float) -> bytes:
    """One GRIB2 message of field ``key`` (values (ny, nx), north to south, 0..360-res east)."""
    ny, nx = values.shape
    h = eccodes.codes_new_from_message(templates()[key])
    try:
        for name, value in (("Ni", nx), ("Nj", ny), ("iDirectionIncrementInDegrees", res),
                            ("jDirectionIncrementInDegrees", res), ("latitudeOfFirstGridPointInDegrees", 90.0),
                            ("longitudeOfFirstGridPointInDegrees", 0.0),
                            ("latitudeOfLastGridPointInDegrees", 90.0 - (ny - 1) * res),
                            ("longitudeOfLastGridPointInDegrees", (nx - 1) * res),
                            ("dataDate", int(f"{init:%Y%m%d}")), ("dataTime", int(f"{init:%H%M}")),
                            ("forecastTime", int(fhour))):
            eccodes.codes_set(h, name, value)
        eccodes.codes_set_values(h, np.ascontiguousarray(values, dtype="f8").ravel())
        return eccodes.codes_get_message(h)
    finally:
        eccodes.codes_release(h)


def idx_line(n: int, offset: int, init: pd.Timestamp, fhour: int, var: str, level: str) -> str:
    """One wgrib2 inventory line, e.g. ``1:0:d=2024090100:PRMSL:mean sea level:anl:``."""
    fcst = "anl" if fhour == 0 else f"{fhour} hour fcst"
    return f"{n}:{offset}:d={init:%Y%m%d%H}:{var}:{level}:{fcst}:"


def write_file(out: str, init: pd.Timestamp, fhour: int, res: float, fields: dict[str, np.ndarray]) -> str:
    """Write one GFS file (and its ``.idx``) under ``out``; returns its path.

    ``fields`` maps the keys of :data:`MESSAGES` to arrays (ny, nx) valid at init + fhour.
    Written to a temporary name and renamed, so a reader never sees half a file.
    """
    path = os.path.join(out, relative_path(init, fhour, res))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    offset, lines, chunks = 0, [], []
    for n, (key, _short, _tol, _lev, var, level) in enumerate(MESSAGES, start=1):
        msg = encode(key, fields[key], init, fhour, res)
        lines.append(idx_line(n, offset, init, fhour, var, level))
        chunks.append(msg)
        offset += len(msg)
    write_bytes(path, b"".join(chunks))
    write_bytes(path + ".idx", ("\n".join(lines) + "\n").encode())
    return path
