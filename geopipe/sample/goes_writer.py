"""GOES-16 ABI L2 CMIP (Cloud and Moisture Imagery) NetCDF-4 scenes of the generated weather.

The layout copies NOAA's CMIP files (see the bundled ``goes/OR_ABI-L2-CMIPM1-...`` and the
band-13 subset): ``CMI`` int16 with ``_Unsigned = "true"``, ``scale_factor``/``add_offset`` and
``_FillValue`` -1 (65535 unsigned), ``DQF`` int8, ``x``/``y`` scaled int16 scan angles,
``goes_imager_projection`` (GOES-East, lon0 -75.0), ``t``/``time_bounds`` in J2000 seconds,
``band_id``/``band_wavelength`` and the global ``time_coverage_start``.  The sector is NOAA's
CONUS fixed-grid sector decimated by 10: 150 x 250 pixels of 560 microradians (about 20 km).
File names and folders follow the NOAA bucket, ``ABI-L2-CMIPC/YYYY/JJJ/HH/OR_ABI-L2-CMIPC-
M6C08_G16_s..._e..._c....nc``; scans start at HH:01:17.2 (mode 6 CONUS) and last 2 min 23.7 s.

Brightness temperatures (K), from the same :class:`~geopipe.sample.fields.Weather` as GFS:

* band 8 (6.19 um, upper-level water vapour): clear sky ``253 - 0.45 PWAT`` (250 K dry, 226 K
  in the moist tropics), blended toward 208 K under the storms' and the ITCZ's deep cloud;
* band 13 (10.33 um, clean IR window): clear sky the surface temperature ``301 - 42 sin^2(lat)``
  less ``0.15 PWAT`` of water-vapour absorption, blended toward 200 K cloud tops.
"""

from __future__ import annotations

import os

import netCDF4
import numpy as np
import pandas as pd

from geopipe.atomic import atomic_path

PROJECTION = {"long_name": "GOES-R ABI fixed grid projection", "grid_mapping_name": "geostationary",
              "perspective_point_height": 35786023.0, "semi_major_axis": 6378137.0,
              "semi_minor_axis": 6356752.31414, "inverse_flattening": 298.2572221,
              "latitude_of_projection_origin": 0.0, "longitude_of_projection_origin": -75.0,
              "sweep_angle_axis": "x"}
#: NOAA's GOES-East CONUS sector (2 km pixels: x from -0.101332, y from 0.128212 rad) taken 10 by 10
STEP, NX, NY = 56e-5, 250, 150
X0, Y0 = -0.101332 + 4.5 * 56e-6, 0.128212 - 4.5 * 56e-6  # centres of the 10 x 10 blocks
#: band -> (central wavelength um, CMI scale_factor K, add_offset K), 12-bit counts 0..4095
BANDS = {8: (6.19, 0.04224, 138.05), 13: (10.33, 0.06145332, 89.62)}
SCAN_OFFSET, SCAN_LENGTH, CREATED_AFTER = pd.Timedelta("1min 17.2s"), pd.Timedelta("2min 23.7s"), pd.Timedelta("4.9s")
J2000 = pd.Timestamp("2000-01-01 12:00:00")


def scan_axes() -> tuple[np.ndarray, np.ndarray]:
    """Scan-angle axes (rad): ``x`` (NX,) west to east and ``y`` (NY,) north to south, exactly as a
    reader decodes them from the int16 counts and the float32 scale_factor/add_offset."""
    x = np.float64(np.float32(X0)) + np.float64(np.float32(STEP)) * np.arange(NX)
    y = np.float64(np.float32(Y0)) + np.float64(np.float32(-STEP)) * np.arange(NY)
    return x, y


def brightness(weather, lat, lon, hour: float, band: int) -> np.ndarray:
    """Brightness temperature (K) of ``band`` at points ``lat``/``lon`` (NaN where off the disk)."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    f = weather.at(np.where(ok, lat, 0.0), np.where(ok, lon, 0.0), hour)
    cloud = np.maximum(f["cloud"], np.clip((f["pwat"] - 50.0) / 15.0, 0.0, 0.8))  # storms and the ITCZ
    if band == 8:
        bt = (253.0 - 0.45 * f["pwat"]) * (1.0 - cloud) + 208.0 * cloud
    elif band == 13:
        clear = 301.0 - 42.0 * np.sin(np.deg2rad(lat)) ** 2 - 0.15 * f["pwat"]
        bt = clear * (1.0 - cloud) + 200.0 * cloud
    else:
        raise ValueError(f"the sample archive makes ABI bands {sorted(BANDS)}, not {band}")
    return np.where(ok, bt, np.nan)


def _stamp(t: pd.Timestamp) -> str:
    """ABI file-name time: YYYYJJJHHMMSS plus tenths of a second."""
    return f"{t:%Y%j%H%M%S}{t.microsecond // 100000}"


def _iso(t: pd.Timestamp) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 100000}Z"


def relative_path(hour_start: pd.Timestamp, band: int) -> str:
    """Bucket path of the first CONUS scan of ``hour_start``'s hour in ``band``."""
    s = hour_start + SCAN_OFFSET
    e = s + SCAN_LENGTH
    c = e + CREATED_AFTER
    name = f"OR_ABI-L2-CMIPC-M6C{band:02d}_G16_s{_stamp(s)}_e{_stamp(e)}_c{_stamp(c)}.nc"
    return f"ABI-L2-CMIPC/{s:%Y}/{s:%j}/{s:%H}/{name}"


def write_scene(out: str, weather, hour_start: pd.Timestamp, start: pd.Timestamp, band: int) -> str:
    """Write the CONUS scan of ``band`` in the hour ``hour_start`` under ``out``; returns its path.

    ``start`` is the archive start (the Weather's hour 0); values are for the scan's mid-time.
    """
    rel = relative_path(hour_start, band)
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = hour_start + SCAN_OFFSET
    e = s + SCAN_LENGTH
    mid = s + (e - s) / 2
    from geopipe import regrid  # here: it pulls in scipy, which nothing else of the generator needs

    x, y = scan_axes()
    lon, lat = regrid.scan_to_lonlat(x[None, :], y[:, None], PROJECTION)
    bt = brightness(weather, lat, lon, (mid - start) / pd.Timedelta("1h"), band)
    wavelength, scale, offset = BANDS[band]
    counts = np.clip(np.round((bt - offset) / scale), 0, 4095)
    raw = np.where(np.isfinite(bt), counts, -1).astype("i2")
    with atomic_path(path) as tmp, netCDF4.Dataset(str(tmp), "w", format="NETCDF4") as nc:
        _globals(nc, os.path.basename(rel), s, e, e + CREATED_AFTER)
        nc.createDimension("y", NY)
        nc.createDimension("x", NX)
        nc.createDimension("number_of_time_bounds", 2)
        nc.createDimension("band", 1)
        nc.createDimension("number_of_image_bounds", 2)
        _image(nc, raw, band, scale, offset)
        _coordinates(nc, x, y, s, e, band, wavelength)
        _summary(nc, lat, lon, bt)
    return path


def _globals(nc, name: str, s, e, c) -> None:
    nc.setncatts({
        "naming_authority": "gov.nesdis.noaa", "Conventions": "CF-1.7",
        "Metadata_Conventions": "Unidata Dataset Discovery v1.0",
        "standard_name_vocabulary": "CF Standard Name Table (v35, 20 July 2016)",
        "institution": "DOC/NOAA/NESDIS > U.S. Department of Commerce, National Oceanic and Atmospheric "
                       "Administration, National Environmental Satellite, Data, and Information Services",
        "project": "GOES", "production_site": "RBU", "production_environment": "OE",
        "spatial_resolution": "2km at nadir", "orbital_slot": "GOES-East", "platform_ID": "G16",
        "instrument_type": "GOES R Series Advanced Baseline Imager", "scene_id": "CONUS", "instrument_ID": "FM1",
        "dataset_name": name, "title": "ABI L2 Cloud and Moisture Imagery",
        "summary": "Single emissive band Cloud and Moisture Imagery Products are digital maps of clouds, moisture "
                   "and atmospheric windows at IR bands.",
        "processing_level": "National Aeronautics and Space Administration (NASA) L2",
        "date_created": _iso(c), "cdm_data_type": "Image", "time_coverage_start": _iso(s),
        "time_coverage_end": _iso(e), "timeline_id": "ABI Mode 6", "production_data_source": "Realtime",
        "comment": "geopipe generated sample (geopipe.sample.generate): synthetic values in the real layout, "
                   "decimated 10 x 10 from the 2 km CONUS grid",
    })


def _image(nc, raw: np.ndarray, band: int, scale: float, offset: float) -> None:
    cmi = nc.createVariable("CMI", "i2", ("y", "x"), zlib=True, complevel=1, shuffle=True,
                            chunksizes=(NY, NX), fill_value=np.int16(-1))
    cmi.set_auto_maskandscale(False)
    cmi.setncatts({"long_name": "ABI L2+ Cloud and Moisture Imagery brightness temperature",
                   "standard_name": "toa_brightness_temperature", "_Unsigned": "true",
                   "sensor_band_bit_depth": np.int8(12), "valid_range": np.array([0, 4095], "i2"),
                   "scale_factor": np.float32(scale), "add_offset": np.float32(offset), "units": "K",
                   "resolution": "y: 0.000560 rad x: 0.000560 rad",
                   "coordinates": "band_id band_wavelength t y x", "grid_mapping": "goes_imager_projection",
                   "cell_methods": "t: point area: point", "ancillary_variables": "DQF"})
    cmi[:] = raw
    dqf = nc.createVariable("DQF", "i1", ("y", "x"), zlib=True, complevel=1, shuffle=True,
                            chunksizes=(NY, NX), fill_value=np.int8(-1))
    dqf.set_auto_maskandscale(False)
    flags = np.where(raw < 0, 3, 0).astype("i1")  # no_value where the scene is off the disk
    good = float((flags == 0).mean())
    dqf.setncatts({"long_name": "ABI L2+ Cloud and Moisture Imagery brightness temperature data quality flags",
                   "standard_name": "status_flag", "_Unsigned": "true", "valid_range": np.array([0, 4], "i1"),
                   "units": "1", "coordinates": "band_id band_wavelength t y x",
                   "grid_mapping": "goes_imager_projection", "flag_values": np.array([0, 1, 2, 3, 4], "i1"),
                   "flag_meanings": "good_pixel_qf conditionally_usable_pixel_qf out_of_range_pixel_qf "
                                    "no_value_pixel_qf focal_plane_temperature_threshold_exceeded_qf",
                   "number_of_qf_values": np.int8(5), "percent_good_pixel_qf": np.float32(good),
                   "percent_conditionally_usable_pixel_qf": np.float32(0.0),
                   "percent_out_of_range_pixel_qf": np.float32(0.0),
                   "percent_no_value_pixel_qf": np.float32(1.0 - good),
                   "percent_focal_plane_temperature_threshold_exceeded_qf": np.float32(0.0)})
    dqf[:] = flags


def _j2000(t: pd.Timestamp) -> float:
    return (t - J2000) / pd.Timedelta("1s")


def _scalar(nc, name: str, dtype: str, value, attrs: dict, dims=()):
    var = nc.createVariable(name, dtype, dims, fill_value=attrs.pop("_FillValue", None))
    var.setncatts(attrs)
    var[...] = value
    return var


def _coordinates(nc, x, y, s, e, band: int, wavelength: float) -> None:
    _scalar(nc, "t", "f8", _j2000(s + (e - s) / 2), {
        "long_name": "J2000 epoch mid-point between the start and end image scan in seconds",
        "standard_name": "time", "units": "seconds since 2000-01-01 12:00:00", "axis": "T", "bounds": "time_bounds"})
    for name, axis, values, step in (("y", "Y", y, -STEP), ("x", "X", x, STEP)):
        var = nc.createVariable(name, "i2", (name,))
        var.set_auto_maskandscale(False)
        var.setncatts({"scale_factor": np.float32(step), "add_offset": np.float32(values[0]), "units": "rad",
                       "axis": axis, "long_name": f"GOES fixed grid projection {name}-coordinate",
                       "standard_name": f"projection_{name}_coordinate"})
        var[:] = np.arange(values.size, dtype="i2")
    _scalar(nc, "time_bounds", "f8", [_j2000(s), _j2000(e)],
            {"long_name": "Scan start and end times in seconds since epoch (2000-01-01 12:00:00)"},
            ("number_of_time_bounds",))
    proj = nc.createVariable("goes_imager_projection", "i4", ())
    proj.setncatts(PROJECTION)
    for name, values in (("y", y), ("x", x)):
        _scalar(nc, f"{name}_image", "f4", (values[0] + values[-1]) / 2, {
            "long_name": f"GOES-R fixed grid projection {name}-coordinate center of image",
            "standard_name": f"projection_{name}_coordinate", "units": "rad", "axis": name.upper()})
        _scalar(nc, f"{name}_image_bounds", "f4", [values[0], values[-1]], {
            "long_name": f"GOES-R fixed grid projection {name}-coordinate "
                         f"{'north/south' if name == 'y' else 'west/east'} extent of image"},
            ("number_of_image_bounds",))
    for name, value, units, std in (("lat", 0.0, "degrees_north", "latitude"),
                                    ("lon", -75.0, "degrees_east", "longitude")):
        _scalar(nc, f"nominal_satellite_subpoint_{name}", "f4", value, {
            "long_name": f"nominal satellite subpoint {std} (platform {std})", "standard_name": std,
            "_FillValue": np.float32(-999.0), "units": units})
    _scalar(nc, "nominal_satellite_height", "f4", 35786.023, {
        "long_name": "nominal satellite height above GRS 80 ellipsoid (platform altitude)",
        "standard_name": "height_above_reference_ellipsoid", "_FillValue": np.float32(-999.0), "units": "km"})
    _scalar(nc, "band_id", "i1", [band], {"long_name": "ABI band number", "standard_name": "sensor_band_identifier",
                                          "units": "1"}, ("band",))
    _scalar(nc, "band_wavelength", "f4", [wavelength], {
        "long_name": "ABI band central wavelength", "standard_name": "sensor_band_central_radiation_wavelength",
        "units": "um"}, ("band",))


def _summary(nc, lat, lon, bt) -> None:
    ok = np.isfinite(bt)
    ext = nc.createVariable("geospatial_lat_lon_extent", "f4", ())
    ext.setncatts({"long_name": "geospatial latitude and longitude references",
                   "geospatial_westbound_longitude": np.float32(np.nanmin(lon)),
                   "geospatial_northbound_latitude": np.float32(np.nanmax(lat)),
                   "geospatial_eastbound_longitude": np.float32(np.nanmax(lon)),
                   "geospatial_southbound_latitude": np.float32(np.nanmin(lat)),
                   "geospatial_lat_nadir": np.float32(0.0), "geospatial_lon_nadir": np.float32(-75.0),
                   "geospatial_lat_units": "degrees_north", "geospatial_lon_units": "degrees_east"})
    for name, fn, long in (("min", np.min, "minimum"), ("max", np.max, "maximum"), ("mean", np.mean, "mean"),
                           ("std_dev", np.std, "standard deviation of")):
        _scalar(nc, f"{name}_brightness_temperature", "f4", fn(bt[ok]) if ok.any() else -999.0, {
            "long_name": f"{long} brightness temperature of pixels", "standard_name": "toa_brightness_temperature",
            "_FillValue": np.float32(-999.0), "units": "K",
            "coordinates": "band_id band_wavelength t y_image x_image", "grid_mapping": "goes_imager_projection"})
