"""Fixtures for the label tests: the real Kyoto month and GFS field, decoded here, and
small real-format stores written through geopipe.store."""

from __future__ import annotations

import bz2

import numpy as np
import pandas as pd
import pytest
import xarray as xr

KYOTO = ("isgi", "kyoto_asysym_iaga2002", "WWW_aeasy00025746.dat.txt.bz2")
GFS = ("gfs", "gfs.t12z.pgrbf120.2p5deg.grib2")


@pytest.fixture(scope="session")
def kyoto_month(sample_dir) -> pd.DataFrame:
    """The real Kyoto ASY/SYM month (IAGA-2002): header lines, comment lines, then the column line."""
    path = sample_dir.joinpath(*KYOTO)
    with bz2.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    skip = next(i for i, line in enumerate(lines) if line.startswith("DATE"))
    assert skip == 14  # 12 header lines + 2 comment lines
    table = pd.read_csv(path, skiprows=skip + 1, sep=r"\s+", header=None,
                        names=["DATE", "TIME", "DOY", "ASY-D", "ASY-H", "SYM-D", "SYM-H"])
    table.index = pd.to_datetime(table["DATE"] + " " + table["TIME"])
    return table.replace(99999.0, np.nan)


def isgi_dataset(table: pd.DataFrame) -> xr.Dataset:
    """The ISGI store layout: dim time (1 min), sym_h and asy_h in nT."""
    return xr.Dataset({"sym_h": ("time", table["SYM-H"].to_numpy("f8"), {"units": "nT"}),
                       "asy_h": ("time", table["ASY-H"].to_numpy("f8"), {"units": "nT"})},
                      coords={"time": table.index.to_numpy("datetime64[ns]")})


@pytest.fixture(scope="session")
def gfs_sample(sample_dir) -> xr.Dataset:
    """prmsl, absv850, gh300 and gh500 of the real GFS sample (2011-01-15 12Z), one time step."""
    import geopipe  # noqa: F401  (pyproj before eccodes)

    path = str(sample_dir.joinpath(*GFS))

    def open_level(kind, **keys):
        return xr.open_dataset(path, engine="cfgrib",
                               backend_kwargs={"indexpath": "", "filter_by_keys": {"typeOfLevel": kind, **keys}})

    def plain(var):
        return var.drop_vars([c for c in var.coords if c not in ("latitude", "longitude")]).load()

    src = open_level("meanSea", shortName="prmsl")
    upper = open_level("isobaricInhPa")  # one scan of the file for gh and absv
    ds = xr.Dataset({"prmsl": plain(src["prmsl"]), "absv850": plain(upper["absv"].sel(isobaricInhPa=850)),
                     "gh300": plain(upper["gh"].sel(isobaricInhPa=300)), "gh500": plain(upper["gh"].sel(isobaricInhPa=500))})
    return ds.expand_dims(time=[src["valid_time"].values])


def ibtracs_dataset(fixes: list[tuple]) -> xr.Dataset:
    """The IBTrACS store layout (dim obs) from fixes ``(sid, time, lat, lon)``; the other
    columns get plausible values."""
    n = len(fixes)
    sid, time, lat, lon = (list(c) for c in zip(*fixes)) if n else ([], [], [], [])
    time = pd.to_datetime(time, format="ISO8601").to_numpy("datetime64[ns]")
    f = lambda v: ("obs", np.full(n, v, "f4"))
    return xr.Dataset(
        {"sid": ("obs", np.array(sid, dtype=str)), "season": ("obs", pd.DatetimeIndex(time).year.to_numpy("i2")),
         "basin": ("obs", np.array(["WP"] * n, dtype=str)), "subbasin": ("obs", np.array(["MM"] * n, dtype=str)),
         "name": ("obs", np.array([f"STORM{s[-2:]}" for s in sid], dtype=str)), "time": ("obs", time),
         "lat": ("obs", np.array(lat, "f4")), "lon": ("obs", np.array(lon, "f4")),
         "wmo_wind": f(65.0), "wmo_pres": f(975.0), "usa_wind": f(70.0), "usa_pres": f(972.0),
         "usa_sshs": ("obs", np.ones(n, "i1")), "nature": ("obs", np.array(["TS"] * n, dtype=str)),
         "track_type": ("obs", np.array(["main"] * n, dtype=str)), "dist2land": ("obs", np.full(n, 500, "i2")),
         "storm_speed": f(10.0), "storm_dir": f(270.0)},
        coords={"obs": np.arange(n)})


def grid_dataset(prmsl: np.ndarray, times, lat, lon, **fields) -> xr.Dataset:
    """The GFS store layout: (time, latitude, longitude), prmsl in Pa, init_time/step along time."""
    times = pd.DatetimeIndex(times)
    dims = ("time", "latitude", "longitude")
    ds = xr.Dataset({"prmsl": (dims, prmsl.astype("f4"), {"units": "Pa"}),
                     **{k: (dims, v.astype("f4")) for k, v in fields.items()}},
                    coords={"time": times.to_numpy("datetime64[ns]"), "latitude": np.asarray(lat, "f8"),
                            "longitude": np.asarray(lon, "f8")})
    return ds.assign_coords(init_time=("time", times.floor("D").to_numpy("datetime64[ns]")),
                            step=("time", (times - times.floor("D")).to_numpy("timedelta64[ns]")))


# ----------------------------------------------------------------------------- planted cyclones

#: name: (lat0, lon0, dlat, dlon per 6 h, steps present, depth Pa, radius deg, vorticity s-1, thickness m)
PLANTED = {
    "tc_north": (15.0, 140.0, 1.0, -2.0, range(8), 3000.0, 2.5, 3e-4, 60.0),
    "tc_south": (-15.0, 176.0, -1.0, 2.0, range(6), 2500.0, 2.5, -3e-4, 60.0),   # crosses the dateline
    "et_north": (50.0, 349.0, 1.0, 4.0, range(6), 2500.0, 6.0, 1.2e-4, -60.0),   # crosses 0/360
    "et_south": (-55.0, 60.0, -1.0, 3.0, range(6), 2000.0, 5.0, -1e-4, -60.0),
    "short": (35.0, 200.0, 0.0, 1.0, range(2), 1500.0, 4.0, 8e-5, -30.0),         # 6 h long: not a track
}
KIND = {"tc_north": 1, "tc_south": 1, "et_north": 2, "et_south": 2, "short": 2}


def planted_positions(times) -> pd.DataFrame:
    rows = []
    for name, (lat0, lon0, dlat, dlon, steps, *_rest) in PLANTED.items():
        for k in steps:
            if k < len(times):
                rows.append({"name": name, "time": pd.Timestamp(times[k]), "lat": lat0 + dlat * k,
                             "lon": (lon0 + dlon * k + 180) % 360 - 180, "kind": KIND[name]})
    return pd.DataFrame(rows)


def planted_store(times, lat=None, lon=None, seed=11, thickness=True) -> xr.Dataset:
    """A GFS-layout Dataset with the :data:`PLANTED` cyclones on a smooth noisy background:
    Gaussian PRMSL lows, matching 850 hPa vorticity (absv850 = f + relative) and warm or
    cold cores in the 300-500 hPa thickness."""
    from scipy import ndimage

    from geopipe.geometry import OMEGA, distance_deg

    lat = np.arange(90.0, -90.5, -1.0) if lat is None else lat
    lon = np.arange(0.0, 360.0, 1.0) if lon is None else lon
    rng = np.random.default_rng(seed)
    glat, glon = np.meshgrid(lat, lon, indexing="ij")
    n = len(times)
    shape = (n, lat.size, lon.size)
    noise = ndimage.gaussian_filter(rng.normal(0, 1, shape), (0, 3, 3), mode=("nearest", "nearest", "wrap"))
    noise[:, np.abs(lat) == 90] = noise[:, np.abs(lat) == 90].mean(axis=-1, keepdims=True)  # a pole is one point
    prmsl = 101300 + 300 * np.cos(np.deg2rad(glat)) ** 2 + 40 * noise / noise.std()
    vort = 2e-6 * rng.normal(0, 1, shape)
    thick = np.broadcast_to(3600 + 400 * np.cos(np.deg2rad(glat)) ** 2, shape).copy()
    pos = planted_positions(times)
    for row in pos.itertuples():
        k = list(pd.DatetimeIndex(times)).index(row.time)
        _, _, _, _, _, depth, radius, vmax, dz = PLANTED[row.name]
        d = distance_deg(row.lat, row.lon, glat, glon)
        prmsl[k] -= depth * np.exp(-(d / radius) ** 2)
        vort[k] += vmax * np.exp(-(d / radius) ** 2)
        thick[k] += dz * np.exp(-(d / 3.0) ** 2)
    f = 2 * OMEGA * np.sin(np.deg2rad(glat))
    fields = {"absv850": vort + f}
    if thickness:
        fields.update(gh500=np.full(shape, 5500.0), gh300=5500.0 + thick)
    return grid_dataset(prmsl, times, lat, lon, **fields)
