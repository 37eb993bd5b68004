"""Operational SYM-H nowcast: real-time solar wind + the index store -> forecasts.

The solar wind comes from NOAA SWPC's real-time JSON products (DSCOVR/ACE at L1)::

    https://services.swpc.noaa.gov/products/solar-wind/mag-1-day.json
        [["time_tag","bx_gsm","by_gsm","bz_gsm","lon_gsm","lat_gsm","bt"],
         ["2024-05-10 17:00:00.000","-3.10","8.21","-20.5","110.7","-66.2","23.1"], ...]
    https://services.swpc.noaa.gov/products/solar-wind/plasma-1-day.json
        [["time_tag","density","speed","temperature"], ["2024-05-10 17:00:00.000","10.2","702.5","512000"], ...]

(an array of rows, the first the column names; values are strings, ``null`` where missing).
:func:`read_swpc` turns them into the OMNI variable names the driver models were trained on
(``bz_gsm``, ``by_gsm``, ``b_mag`` = bt, ``speed``, ``proton_density``, ``pdyn`` =
2e-6 n V^2 as OMNI defines it) and shifts them from L1 to the bow shock the way OMNI does
in its simplest form: a ballistic delay ``L1_KM / speed`` per sample (OMNI propagates along
the phase fronts; this flat delay is the usual real-time approximation).  The reader is
geopipe's own small function until the SWPC remote of the archives issue (engineer 16)
lands; the nowcast calls only :func:`read_swpc`.

:func:`nowcast` writes the solar wind to a store, decides whether it is fresh (its last
valid minute no older than ``stale_minutes`` before the index's last minute), forecasts with
the driver model when it is and with the index-only model when it is not, and says which
in the summary (``nowcast_model``: ``drivers`` or ``index-only (solar wind stale)``); the two
write separate stores under ``out`` (``drivers.zarr``, ``index_only.zarr``), since a forecast
store holds one model's forecasts.
"""

from __future__ import annotations

import json

import fsspec
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.errors import InputError
from geopipe.predict.forecast import predict_forecasts

SWPC = "https://services.swpc.noaa.gov/products/solar-wind"
MAG, PLASMA = "mag-1-day.json", "plasma-1-day.json"
L1_KM = 1.5e6  #: distance from L1 to the bow-shock nose used for the ballistic delay (km)


def _table(url: str, storage_options: dict | None) -> pd.DataFrame:
    try:
        with fsspec.open(url, "rb", **(storage_options or {})) as f:
            rows = json.loads(f.read())
    except (OSError, ValueError) as exc:
        raise InputError(url, f"cannot read the SWPC solar-wind JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list) or "time_tag" not in rows[0]:
        raise InputError(url, "not an SWPC solar-wind product: the first row must be the column names with time_tag")
    df = pd.DataFrame(rows[1:], columns=rows[0])
    t = pd.to_datetime(df.pop("time_tag"), errors="coerce")
    if t.isna().any():
        raise InputError(url, f"bad time_tag {rows[1 + int(np.flatnonzero(t.isna())[0])][0]!r}")
    df = df.apply(pd.to_numeric, errors="coerce")
    df.index = pd.DatetimeIndex(t, name="time").as_unit("ns")
    return df[~df.index.duplicated()].sort_index()


def read_swpc(base: str = SWPC, storage_options: dict | None = None) -> xr.Dataset:
    """SWPC real-time magnetic field and plasma -> 1-minute OMNI-named drivers at the bow shock."""
    mag, plasma = _table(f"{base}/{MAG}", storage_options), _table(f"{base}/{PLASMA}", storage_options)
    l1 = pd.DataFrame({"bz_gsm": mag["bz_gsm"], "by_gsm": mag["by_gsm"], "b_mag": mag["bt"]}).join(
        pd.DataFrame({"speed": plasma["speed"], "proton_density": plasma["density"],
                      "temperature": plasma["temperature"]}), how="outer")
    l1 = l1.resample("1min").mean()
    speed = l1["speed"].interpolate(limit_direction="both")
    delay = pd.to_timedelta((L1_KM / speed.clip(lower=200)).fillna(L1_KM / 400).to_numpy(), unit="s")
    arrive = pd.DatetimeIndex(l1.index + delay).round("1min").as_unit("ns")
    shifted = l1.set_axis(arrive).groupby(level=0).mean()
    full = pd.date_range(shifted.index[0], shifted.index[-1], freq="1min", name="time")
    shifted = shifted.reindex(full)
    shifted["pdyn"] = 2e-6 * shifted["proton_density"] * shifted["speed"] ** 2
    units = {"bz_gsm": "nT", "by_gsm": "nT", "b_mag": "nT", "speed": "km s-1", "proton_density": "cm-3",
             "temperature": "K", "pdyn": "nPa"}
    return xr.Dataset({v: ("time", shifted[v].to_numpy("f4"), {"units": u}) for v, u in units.items()},
                      coords={"time": full.values.astype("datetime64[ns]")},
                      attrs={"title": "SWPC real-time solar wind, ballistically shifted from L1 to the bow shock",
                             "source": base, "comment": f"delay = {L1_KM:g} km / speed"})


def last_valid(ds: xr.Dataset, names) -> pd.Timestamp | None:
    ok = np.all([np.isfinite(ds[n].values) for n in names], axis=0)
    return pd.Timestamp(ds["time"].values[ok][-1]) if ok.any() else None


def nowcast(driver_model, index_model, index_store: str, solar_wind_store: str, out: str,
            swpc: str = SWPC, stale_minutes: float = 30.0, hours: float = 3.0,
            storage_options: dict | None = None) -> dict:
    """Fetch the solar wind, forecast the last ``hours`` of issue times; see the module docstring."""
    sw = read_swpc(swpc, storage_options)
    _store.append(sw, solar_wind_store)
    index = _store.open_store(index_store)
    last_index = last_valid(index, ["sym_h"])
    if last_index is None:
        raise InputError(index_store, "holds no SYM-H value: nothing to nowcast from")
    last_sw = last_valid(_store.open_store(solar_wind_store), ["bz_gsm", "speed"])
    age = (last_index - last_sw) / pd.Timedelta(1, "min") if last_sw is not None else float("inf")
    fresh = age <= stale_minutes
    times = f"{last_index - pd.Timedelta(hours=hours):%Y-%m-%dT%H:%M}/{last_index:%Y-%m-%dT%H:%M}"
    label = "drivers" if fresh else "index-only (solar wind stale)"
    out_store = f"{out.rstrip('/')}/{'drivers' if fresh else 'index_only'}.zarr"
    summary = predict_forecasts(driver_model if fresh else index_model, index_store, out_store, times=times,
                                drivers=solar_wind_store if fresh else None)
    return {**summary, "nowcast_model": label, "solar_wind_last": str(last_sw), "index_last": str(last_index),
            "solar_wind_age_minutes": float(age), "stale": not fresh, "times": times}
