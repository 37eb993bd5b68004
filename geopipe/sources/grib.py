"""GRIB2 messages held as bytes: find them, split multi-field ones, read a field's keys and values.

Everything here works on bytes, so the local-file reader and the remote byte-range reader
share it.  eccodes is used directly rather than through cfgrib: cfgrib builds one hypercube
per level type (about a minute on the 307-message GFS sample) and is lenient where geopipe
must be strict (a truncated file or an unsupported grid is refused here, never half-read).

Quirks handled (see geopipe/sample/data/SOURCES.md):

* NCEP packs UGRD and VGRD as two *fields* of one GRIB2 message (the ``12.1``/``12.2`` lines
  of a ``.idx``); :func:`split_fields` turns such a message into single-field messages,
  resolving "bitmap as before" (indicator 254) on the way.
* eccodes' ``level`` key is an integer in Pa *or* hPa depending on ``typeOfLevel``
  (``isobaricInPa`` vs ``isobaricInhPa``); levels are computed here from the scaled values of
  the fixed surfaces instead, pressures always in hPa, and NCEP's sign-magnitude negatives
  (``-2 PVU`` written as ``0x800007d0``) decoded.
"""

from __future__ import annotations

import dataclasses
import functools

# importing this module has imported geopipe, which loads pyproj before eccodes (see geopipe/__init__.py)
import numpy as np

from geopipe.errors import InputError
from geopipe.lazy import lazy_import
from geopipe.sources import gribcheck

eccodes = lazy_import("eccodes")

SUPPORTED_GRIDS = ("regular_ll", "regular_gg")
#: level types stored under the bare parameter name (one level each, by definition)
BARE_LEVELS = ("surface", "meanSea", "atmosphereSingleLayer", "entireAtmosphere")
#: names eccodes gives height-above-ground parameters (10u -> u10, 100u -> u100, 2r -> r2); an isobaric
#: field that would take one of them (u at 10 hPa) is named with its unit instead (u10hPa)
HEIGHT_NAMES = frozenset({"u10", "v10", "u100", "v100", "u200", "v200", "r2", "sh2", "si10", "fg10", "wdir10", "ws10"})
#: preference when one field comes as several step types (never mixed in one variable)
STEP_PREFERENCE = ("instant", "avg", "accum", "max", "min")
_MISSING = {2**31 - 1, 2**32 - 1}
_PA_SURFACES = {100, 108}  # isobaric surface, pressure difference from ground: Pa -> hPa
_LEVEL_UNITS = {100: "hPa", 108: "hPa", 102: "m", 103: "m", 106: "m", 104: "1", 105: "1", 107: "K", 109: "PVU",
                160: "m"}
_FILL = np.float32(np.finfo(np.float32).max)  # asked of eccodes for missing points, then made NaN
#: CF standard names that eccodes does not give for these NCEP parameters
_STANDARD_NAMES = {"pwat": "atmosphere_mass_content_of_water_vapor", "prmsl": "air_pressure_at_mean_sea_level",
                   "absv": "atmosphere_absolute_vorticity", "10u": "eastward_wind", "10v": "northward_wind",
                   "gh": "geopotential_height", "r": "relative_humidity", "sp": "surface_air_pressure",
                   "2t": "air_temperature", "2d": "dew_point_temperature"}  # eccodes names them in GRIB2 only


# ----------------------------------------------------------------------------- bytes


def scan_messages(buf, source: str) -> list[tuple[int, int]]:
    """``(offset, length)`` in bytes of every GRIB message (edition 2 or 1) in ``buf`` (bytes or mmap).

    Raises ``InputError`` naming ``source`` for a message cut short, without its ``7777``,
    or of an unknown edition.
    """
    out, pos, n = [], 0, len(buf)
    while (start := buf.find(b"GRIB", pos)) >= 0:
        edition = buf[start + 7] if n - start >= 16 else None
        if edition not in (1, 2):
            raise InputError(source, f"the GRIB message at byte {start} is cut short or of unknown edition {edition}")
        length = grib1_length(buf, start, source) if edition == 1 else int.from_bytes(buf[start + 8:start + 16], "big")
        if start + length > n:
            raise InputError(source, f"truncated: the GRIB message at byte {start} needs {length} bytes, "
                                     f"only {n - start} are left")
        if buf[start + length - 4:start + length] != b"7777":
            raise InputError(source, f"the GRIB message at byte {start} does not end with '7777' (corrupt)")
        out.append((start, length))
        pos = start + length
    if not out:
        raise InputError(source, "no GRIB message found (not a GRIB file)")
    return out


def split_fields(message: bytes) -> list[bytes]:
    """The fields of one GRIB2 message, each as a single-field message (usually just ``[message]``).

    A GRIB2 message repeats sections 2-7, 3-7 or 4-7 for each extra field; each field
    becomes sections 0 and 1 plus its own latest 2/3/4/5/6/7, with section 0's length fixed.
    """
    if message[7] == 1:
        return [bytes(message)]  # GRIB1 holds one field per message
    pos, end, latest, fields, bitmap = 16, len(message) - 4, {}, [], None
    while pos < end:
        length = int.from_bytes(message[pos:pos + 4], "big")
        number = message[pos + 4]
        if length < 5 or pos + length > end:
            raise ValueError(f"GRIB2 section {number} at byte {pos} of the message has a bad length {length}")
        span = (pos, pos + length)
        if number == 6:
            indicator = message[pos + 5]
            if indicator == 0:
                bitmap = span
            elif indicator == 254:  # "the bitmap defined before in this message"
                if bitmap is None:
                    raise ValueError("section 6 refers to a previous bitmap that the message does not hold")
                span = bitmap
        latest[number] = span
        if number == 7:
            fields.append([latest[k] for k in (1, 2, 3, 4, 5, 6, 7) if k in latest])
        pos += length
    if len(fields) <= 1:
        return [bytes(message)]
    out = []
    for spans in fields:
        body = b"".join(message[a:b] for a, b in spans)
        out.append(bytes(message[:8]) + (16 + len(body) + 4).to_bytes(8, "big") + body + b"7777")
    return out


# ----------------------------------------------------------------------------- fields


@dataclasses.dataclass
class Field:
    """One GRIB field's description (no values): what, where in the vertical, when, on which grid."""

    message: int  # 0-based message number in its source
    sub: int  # 0-based field within the message
    short: str
    cfvar: str
    type_of_level: str
    level_code: int  # GRIB2 code table 4.5 (typeOfFirstFixedSurface)
    level: float | None  # hPa for pressure surfaces, PVU for potential vorticity, else SI
    level2: float | None  # the second surface of a layer
    step_type: str
    span: int  # length of the averaging/accumulation period in step units (0 for instantaneous)
    init: np.datetime64
    valid: np.datetime64
    grid_type: str
    grid_md5: str
    concept: dict

    @property
    def name(self) -> str:
        """Store variable name: ``pwat``, ``u10``, ``absv850``, ``t0p4`` (0.4 hPa), ``u_potentialVorticitym2``."""
        base = self.cfvar if self.cfvar not in ("", "unknown", "~") else \
            self.concept.get("unknown_name") or "p{discipline}_{parameterCategory}_{parameterNumber}".format(**self.concept)
        if self.level_code == 100:  # isobaric, in hPa whether the file says Pa or hPa
            name = f"{base}{fmt_level(self.level)}"
            return name + "hPa" if name in HEIGHT_NAMES else name
        if self.type_of_level in BARE_LEVELS or (self.level_code == 103 and self.short[:1].isdigit()):
            return base  # single-level types; 2t -> t2m, 10u -> u10 carry their height already
        if self.level is None:
            return f"{base}_{self.type_of_level}"
        levels = fmt_level(self.level) + ("" if self.level2 is None else "_" + fmt_level(self.level2))
        return f"{base}_{self.type_of_level}{levels}"

    @property
    def level_units(self) -> str | None:
        return _LEVEL_UNITS.get(self.level_code)


def fmt_level(value: float) -> str:
    """A level as a name part: 850 -> ``850``, 0.4 -> ``0p4``, -2 -> ``m2``."""
    return ("m" if value < 0 else "") + f"{abs(value):.10g}".replace(".", "p")


def _surface(h, which: str) -> tuple[int, float | None]:
    """``(code, value)`` of the first or second fixed surface; value None where the type has none."""
    code = eccodes.codes_get(h, f"typeOf{which}FixedSurface", ktype=int)
    if code == 255 or not (20 <= code < 200) or code == 101:
        return code, None  # surface, tropopause, mean sea level, cloud layers, NCEP local types >= 200
    value = eccodes.codes_get(h, f"scaledValueOf{which}FixedSurface", ktype=int)
    factor = eccodes.codes_get(h, f"scaleFactorOf{which}FixedSurface", ktype=int)
    if value in _MISSING:
        return code, None
    if value >= 2**31:  # sign-magnitude negative (NCEP writes -2 PVU as 0x800007d0)
        value = -(value - 2**31)
    level = value * 10.0 ** (-factor if factor not in _MISSING else 0)
    if code in _PA_SURFACES:
        level /= 100.0
    elif code == 109:
        level *= 1e6  # K m2 kg-1 s-1 -> PVU
    return code, float(f"{level:.10g}")


def _date(day: int, hhmm: int) -> np.datetime64:
    return np.datetime64(f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}T{hhmm // 100:02d}:{hhmm % 100:02d}",
                         "ns")


_CONCEPTS: dict[tuple, dict] = {}


def _concept(key: tuple, h) -> dict:
    """eccodes' concept keys (slow: ~0.5 ms each) for one parameter/level/statistic, cached by ``key``."""
    hit = _CONCEPTS.get(key)
    if hit is None:
        if len(_CONCEPTS) > 4096:
            _CONCEPTS.clear()
        hit = {k: eccodes.codes_get(h, k) for k in ("shortName", "cfVarName", "name", "units", "cfName")}
        hit.update(paramId=int(eccodes.codes_get(h, "paramId", ktype=int)), discipline=key[0],
                   parameterCategory=key[1], parameterNumber=key[2])
        _CONCEPTS[key] = hit
    return hit


def _field(h, number: int, sub: int, concept: dict, code, level, level2, step_type: str) -> Field:
    """The :class:`Field` of handle ``h`` once its parameter and levels are known (GRIB1 and GRIB2 alike)."""
    get = functools.partial(eccodes.codes_get, h, ktype=int)
    return Field(
        message=number, sub=sub, short=concept["shortName"], cfvar=concept["cfVarName"],
        type_of_level=eccodes.codes_get(h, "typeOfLevel"), level_code=code, level=level, level2=level2,
        step_type=step_type, span=get("endStep") - get("startStep"), init=_date(get("dataDate"), get("dataTime")),
        valid=_date(get("validityDate"), get("validityTime")), grid_type=eccodes.codes_get(h, "gridType"),
        grid_md5=eccodes.codes_get(h, "md5GridSection"), concept=concept)


def read_field(message: bytes, number: int, sub: int) -> Field:
    """Describe one single-field GRIB2 message (raises eccodes errors on a corrupt header)."""
    h = eccodes.codes_new_from_message(message)
    try:
        if message[7] == 1:
            return read_field_grib1(h, number, sub)
        get = functools.partial(eccodes.codes_get, h, ktype=int)
        code, level = _surface(h, "First")
        _, level2 = _surface(h, "Second")
        step_type = eccodes.codes_get(h, "stepType")
        key = (get("discipline"), get("parameterCategory"), get("parameterNumber"), code, level, level2,
               step_type, get("centre"), get("productDefinitionTemplateNumber"))
        concept = _concept(key, h)
        return _field(h, number, sub, concept, code, level, level2, step_type)
    finally:
        eccodes.codes_release(h)


# ----------------------------------------------------------------------------- values and grids


def _shape(h) -> tuple[int, int, bool]:
    get = functools.partial(eccodes.codes_get, h, ktype=int)
    if eccodes.codes_is_defined(h, "alternativeRowScanning") and get("alternativeRowScanning"):
        raise ValueError("alternative row scanning is not supported")
    return get("Nj"), get("Ni"), bool(get("jPointsAreConsecutive"))


def decode_values(message: bytes) -> np.ndarray:
    """The field's values as float32 ``(Nj, Ni)`` (latitude, longitude), NaN where the bitmap says missing."""
    h = eccodes.codes_new_from_message(message)
    try:
        nj, ni, j_first = _shape(h)
        gribcheck.check_packing(message)  # eccodes aborts the process on some corrupt packings: refuse them first
        if eccodes.codes_get(h, "bitmapPresent", ktype=int):
            eccodes.codes_set(h, "missingValue", float(_FILL))
        values = eccodes.codes_get_values(h).astype(np.float32)
    finally:
        eccodes.codes_release(h)
    values[values == _FILL] = np.nan
    return values.reshape(ni, nj).T if j_first else values.reshape(nj, ni)


_GRIDS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def grid_coords(field: Field, message: bytes) -> tuple[np.ndarray, np.ndarray]:
    """1-D latitude ``(Nj,)`` and longitude ``(Ni,)`` in degrees, in the file's order (cached per grid).

    Only rectilinear grids: regular lat/lon at any resolution and regular Gaussian (uneven
    latitudes).  Raises ``ValueError`` for any other ``gridType``.
    """
    if field.grid_type not in SUPPORTED_GRIDS:
        raise ValueError(f"{field.name} is on a {field.grid_type} grid; only {' and '.join(SUPPORTED_GRIDS)} "
                         "grids are supported (regrid it first, e.g. with cdo or wgrib2 -new_grid)")
    hit = _GRIDS.get(field.grid_md5)
    if hit is None:
        h = eccodes.codes_new_from_message(message)
        try:
            nj, ni, j_first = _shape(h)
            lats, lons = eccodes.codes_get_array(h, "latitudes"), eccodes.codes_get_array(h, "longitudes")
        finally:
            eccodes.codes_release(h)
        lats, lons = (a.reshape(ni, nj).T if j_first else a.reshape(nj, ni) for a in (lats, lons))
        hit = (lats[:, 0].copy(), lons[0, :].copy())
        if len(_GRIDS) >= 8:
            _GRIDS.clear()
        _GRIDS[field.grid_md5] = hit
    return hit


def cf_attrs(field: Field) -> dict:
    """CF attributes (units, long_name, standard_name where one exists) and GRIB attributes."""
    c = field.concept
    units = c["units"].replace("**", "")
    units = {"(0 - 1)": "1", "Proportion": "1", "Fraction": "1", "gpm": "m"}.get(units, units)
    attrs = {"long_name": c["name"]}
    if not units.startswith("(Code table") and units != "unknown":
        attrs["units"] = units
    std = c["cfName"] if c["cfName"] not in ("unknown", "", "~") else _STANDARD_NAMES.get(field.short)
    if std:
        attrs["standard_name"] = std
    parameter = {f"GRIB_{k}": c[k] for k in (GRIB1_PARAMETER_KEYS if c.get("edition") == 1 else
                                              ("discipline", "parameterCategory", "parameterNumber"))}
    attrs.update(GRIB_shortName=field.short, GRIB_cfVarName=field.cfvar, GRIB_paramId=c["paramId"],
                 **parameter, GRIB_units=c["units"],
                 GRIB_typeOfLevel=field.type_of_level, GRIB_stepType=field.step_type, GRIB_gridType=field.grid_type)
    if field.level is not None:
        attrs["GRIB_level"] = field.level
        if field.level2 is not None:
            attrs["GRIB_level2"] = field.level2
        if field.level_units:
            attrs["GRIB_level_units"] = field.level_units
    return attrs


# ----------------------------------------------------------------------------- GRIB edition 1
#
# GRIB1 names a parameter by (table2Version, indicatorOfParameter) of its centre, the level by
# indicatorOfTypeOfLevel (WMO code table 3) and the time by P1, P2 and timeRangeIndicator.
# Fields are described here with the GRIB2 codes of the same surfaces (code table 4.5), so a
# GRIB1 field gets the store name, the checks and the layout of its GRIB2 twin; eccodes' computed
# keys (stepType, startStep/endStep, validityDate/Time) already follow P1/P2/timeRangeIndicator.

GRIB1_PARAMETER_KEYS = ("edition", "centre", "table2Version", "indicatorOfParameter")
#: GRIB1 code table 3 -> (GRIB2 code table 4.5, factor to geopipe's level units, is a layer)
GRIB1_LEVELS = {
    1: (1, None, False), 2: (2, None, False), 3: (3, None, False), 4: (4, None, False), 6: (6, None, False),
    7: (7, None, False), 8: (8, None, False), 102: (101, None, False), 200: (10, None, False),
    100: (100, 1.0, False),        # isobaric, hPa
    101: (100, 10.0, True),        # layer between isobaric surfaces, kPa
    103: (102, 1.0, False),        # altitude above mean sea level, m
    105: (103, 1.0, False),        # height above ground, m
    106: (103, 100.0, True),       # layer between heights above ground, hm
    107: (104, 1e-4, False),       # sigma, 1/10000
    108: (104, 1e-2, True),        # layer between sigma levels, 1/100
    109: (105, 1.0, False),        # hybrid level number
    110: (105, 1.0, True),         # layer between hybrid levels
    111: (106, 0.01, False),       # depth below land surface, cm
    112: (106, 0.01, True),        # layer between depths below land, cm
    113: (107, 1.0, False),        # isentropic, K
    117: (109, 1e-3, False),       # potential vorticity, 1e-9 K m2 kg-1 s-1 -> PVU
}
#: the ECMWF convention for GRIB1 messages over 8 MB: the top bit of the 3-byte length is set
_GRIB1_LARGE = 0x800000


def grib1_length(buf, start: int, source: str) -> int:
    """Length in bytes of the GRIB1 message at ``start`` (section 0: 'GRIB', 3-byte length, edition)."""
    length = int.from_bytes(buf[start + 4:start + 7], "big")
    if length & _GRIB1_LARGE:
        raise InputError(source, f"the GRIB1 message at byte {start} is over 8 MB (ECMWF's large-message "
                                 "length convention), which geopipe does not read; convert it with "
                                 "grib_set -s edition=2 IN OUT")
    if length < 12:  # section 0 and '7777' alone take 12 bytes
        raise InputError(source, f"the GRIB1 message at byte {start} declares a length of {length} bytes (corrupt)")
    return length


def _grib1_level(h) -> tuple[int, float | None, float | None]:
    """``(GRIB2 level code, level, level2)`` of a GRIB1 field from indicatorOfTypeOfLevel and its octets."""
    get = functools.partial(eccodes.codes_get, h, ktype=int)
    table3 = get("indicatorOfTypeOfLevel")
    code, factor, layer = GRIB1_LEVELS.get(table3, (1000 + table3, 1.0, False))
    if factor is None:
        return code, None, None
    if layer:
        top, bottom = get("topLevel") * factor, get("bottomLevel") * factor
        return code, float(f"{top:.10g}"), float(f"{bottom:.10g}")
    return code, float(f"{get('level') * factor:.10g}"), None


def _concept_grib1(key: tuple, h) -> dict:
    hit = _CONCEPTS.get(key)
    if hit is None:
        hit = {k: eccodes.codes_get(h, k) for k in ("shortName", "cfVarName", "name", "units", "cfName")}
        hit.update(paramId=int(eccodes.codes_get(h, "paramId", ktype=int)), edition=1, centre=key[1],
                   table2Version=key[2], indicatorOfParameter=key[3], unknown_name=f"p{key[2]}_{key[3]}")
        _CONCEPTS[key] = hit
    return hit


def read_field_grib1(h, number: int, sub: int) -> Field:
    """Describe the GRIB1 field of handle ``h`` (see the section comment above)."""
    get = functools.partial(eccodes.codes_get, h, ktype=int)
    code, level, level2 = _grib1_level(h)
    step_type = eccodes.codes_get(h, "stepType")
    key = ("grib1", eccodes.codes_get(h, "centre"), get("table2Version"), get("indicatorOfParameter"), code,
           level, level2, step_type, get("timeRangeIndicator"))
    concept = _concept_grib1(key, h)
    return _field(h, number, sub, concept, code, level, level2, step_type)
