"""Real-format GRIB2 fixtures made with eccodes alone (never with the code under test).

The messages come from the bundled GFS 2.5 degree sample; these helpers re-date them, join
two fields into one message as NCEP does for UGRD/VGRD, lay files out like NOAA's bucket
and write the matching wgrib2 ``.idx``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopipe  # noqa: F401  (pyproj before eccodes: see geopipe/__init__.py)

# isort: split
import eccodes
import numpy as np

from geopipe.sample import REAL

SAMPLE = REAL / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
GDAS = REAL / "gfs" / "gdas.t12z.pgrb2.0p25.f000.msg013.grib2"
_WGRIB2 = {"pwat": "PWAT", "prmsl": "PRMSL", "10u": "UGRD", "10v": "VGRD", "absv": "ABSV", "t": "TMP", "gh": "HGT",
           "r": "RH", "u": "UGRD", "v": "VGRD"}
_LEVELS = {"atmosphereSingleLayer": "entire atmosphere (considered as a single layer)", "meanSea": "mean sea level",
           "heightAboveGround": "{level} m above ground", "isobaricInhPa": "{level} mb", "surface": "surface"}


def fields(path) -> list[dict]:
    """Every field of a file (eccodes multi-field support on): its keys, single-field message,
    the byte offset of the message holding it, and its values ``(Nj, Ni)`` (NaN where missing)."""
    out = []
    eccodes.codes_grib_multi_support_on()
    try:
        with open(path, "rb") as fh:
            while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
                try:
                    get = lambda k, h=h: eccodes.codes_get(h, k)
                    values = eccodes.codes_get_values(h).astype("f4")
                    if get("bitmapPresent"):
                        values[values == get("missingValue")] = np.nan
                    out.append({"shortName": get("shortName"), "typeOfLevel": get("typeOfLevel"), "level": get("level"),
                                "stepType": get("stepType"), "offset": int(get("offset")),
                                "message": eccodes.codes_get_message(h),
                                "values": values.reshape(get("Nj"), get("Ni")),
                                "latitudes": eccodes.codes_get_array(h, "latitudes").reshape(get("Nj"), get("Ni"))[:, 0],
                                "longitudes": eccodes.codes_get_array(h, "longitudes")[:get("Ni")]})
                finally:
                    eccodes.codes_release(h)
    finally:
        eccodes.codes_grib_multi_support_off()
    return out


def pick(all_fields, short, type_of_level=None, level=None, step_type=None) -> dict:
    hits = [f for f in all_fields if f["shortName"] == short and (type_of_level in (None, f["typeOfLevel"]))
            and (level in (None, f["level"])) and (step_type in (None, f["stepType"]))]
    assert len(hits) == 1, (short, type_of_level, level, len(hits))
    return hits[0]


def edit(message: bytes, **keys) -> bytes:
    """The message with eccodes keys set (in the order given)."""
    h = eccodes.codes_new_from_message(message)
    try:
        for k, v in keys.items():
            if k == "values":
                eccodes.codes_set_values(h, np.asarray(v, dtype="f8").ravel())
            else:
                eccodes.codes_set(h, k, v)
        return eccodes.codes_get_message(h)
    finally:
        eccodes.codes_release(h)


def redate(message: bytes, init: dt.datetime, fhour: int) -> bytes:
    """An instantaneous field moved to another cycle and forecast hour."""
    return edit(message, dataDate=int(init.strftime("%Y%m%d")), dataTime=init.hour * 100, forecastTime=fhour)


def join(*messages: bytes) -> bytes:
    """One multi-field GRIB2 message of single-field ones (sections 0-1 of the first, then 3-7 of each)."""
    def sections(m):
        pos, out = 16, {}
        while pos < len(m) - 4:
            n = int.from_bytes(m[pos:pos + 4], "big")
            out.setdefault(m[pos + 4], m[pos:pos + n])
            pos += n
        return out
    body = sections(messages[0])[1] + b"".join(sections(m)[k] for m in messages for k in (3, 4, 5, 6, 7))
    return messages[0][:8] + (16 + len(body) + 4).to_bytes(8, "big") + body + b"7777"


def idx_lines(path) -> list[str]:
    """A wgrib2 inventory of a file: ``n[.k]:offset:d=YYYYMMDDHH:VAR:level:fcst:``."""
    by_offset: dict[int, list[dict]] = {}
    for f in fields(path):
        by_offset.setdefault(f["offset"], []).append(f)
    lines = []
    for n, (offset, group) in enumerate(sorted(by_offset.items()), 1):
        for k, f in enumerate(group, 1):
            h = eccodes.codes_new_from_message(f["message"])
            date = f"{eccodes.codes_get(h, 'dataDate')}{eccodes.codes_get(h, 'dataTime') // 100:02d}"
            fh = eccodes.codes_get(h, "forecastTime")
            eccodes.codes_release(h)
            number = f"{n}.{k}" if len(group) > 1 else str(n)
            level = _LEVELS[f["typeOfLevel"]].format(level=f["level"])
            lines.append(f"{number}:{offset}:d={date}:{_WGRIB2[f['shortName']]}:{level}:"
                         f"{'anl' if fh == 0 else f'{fh} hour fcst'}:")
    return lines


#: the messages of a bucket file, in order: (shortName, typeOfLevel, level); a tuple of two is one message
BUCKET_LAYOUT = [("gh", "isobaricInhPa", 500), ("pwat", None, None), ("t", "isobaricInhPa", 850),
                 ("prmsl", None, None), (("10u", None, None), ("10v", None, None)), ("absv", "isobaricInhPa", 850),
                 ("r", "isobaricInhPa", 700)]


def bucket(root: Path, init: dt.datetime, fhours, layout=BUCKET_LAYOUT) -> list[Path]:
    """Files laid out like s3://noaa-gfs-bdp-pds (``gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.0p25.fFFF``) with ``.idx``."""
    sample = fields(SAMPLE)
    out = []
    for fh in fhours:
        parts = []
        for item in layout:
            group = item if isinstance(item[0], tuple) else (item,)
            msgs = [redate(pick(sample, *spec)["message"], init, fh) for spec in group]
            parts.append(join(*msgs) if len(msgs) > 1 else msgs[0])
        path = root / f"gfs.{init:%Y%m%d}" / f"{init:%H}" / "atmos" / f"gfs.t{init:%H}z.pgrb2.0p25.f{fh:03d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(parts))
        (path.parent / (path.name + ".idx")).write_text("\n".join(idx_lines(path)) + "\n")
        out.append(path)
    return out


def gaussian(message: bytes, n: int = 36) -> bytes:
    """A field moved onto the regular Gaussian grid N``n`` (2n uneven latitudes x 4n longitudes),
    the values its first 2n rows (what matters is the grid, not the meteorology)."""
    lats = list(eccodes.codes_get_gaussian_latitudes(n))
    h = eccodes.codes_new_from_message(message)
    try:
        values = eccodes.codes_get_values(h).reshape(eccodes.codes_get(h, "Nj"), eccodes.codes_get(h, "Ni"))
    finally:
        eccodes.codes_release(h)
    return edit(message, gridType="regular_gg", N=n, Ni=4 * n, Nj=2 * n, iDirectionIncrementInDegrees=360 / (4 * n),
                longitudeOfFirstGridPointInDegrees=0.0, longitudeOfLastGridPointInDegrees=360 - 360 / (4 * n),
                jScansPositively=0, latitudeOfFirstGridPointInDegrees=lats[0],
                latitudeOfLastGridPointInDegrees=lats[-1], values=values[:2 * n, :4 * n])


def reduced_gaussian() -> bytes:
    """eccodes' own reduced Gaussian sample (N32, 6114 points): a grid geopipe must refuse."""
    h = eccodes.codes_grib_new_from_samples("reduced_gg_pl_32_grib2")
    try:
        return eccodes.codes_get_message(h)
    finally:
        eccodes.codes_release(h)


def ingest_cli(argv: list[str]) -> int:
    """``geopipe ingest ...`` through the ingest verb alone (the full CLI imports TensorFlow for other verbs)."""
    import argparse

    from geopipe.cli import ingest_cmd

    parser = argparse.ArgumentParser(prog="geopipe")
    ingest_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)
