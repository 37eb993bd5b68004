"""``symh-nowcast``: every 10 minutes, SYM-H forecasts from the real-time solar wind.

Thin flow over :func:`geopipe.predict.nowcast.nowcast`: it fetches SWPC's real-time solar wind,
forecasts the last hours of issue times with the driver model (or, when the solar wind is
stale, with the index-only model, and says so), and attaches a forecast-against-observation plot.
The index store is kept current by the ISGI/Kyoto ingest deployments.
"""

from __future__ import annotations

import os

from prefect import flow, get_run_logger

from flows.common import image_artifact


@flow(name="symh-nowcast", log_prints=True)
def symh_nowcast(driver_model: str = "models/symh_drivers/lstm", index_model: str = "models/symh_drivers/lstm_index",
                 index_store: str = "isgi.zarr", solar_wind_store: str = "swpc_solar_wind.zarr",
                 out: str = "nowcast", swpc: str | None = None, stale_minutes: float = 30.0, hours: float = 3.0,
                 plot_lead: int = 60) -> dict:
    """Forecast SYM-H from the latest solar wind; falls back to the index-only model when it is stale."""
    from geopipe.config import resolve_store
    from geopipe.maps import render_forecast_plot
    from geopipe.predict.nowcast import SWPC, nowcast

    log = get_run_logger()
    s = nowcast(resolve_store(driver_model), resolve_store(index_model), index_store, solar_wind_store,
                resolve_store(out), swpc=swpc or SWPC, stale_minutes=stale_minutes, hours=hours)
    if s["stale"]:
        log.warning(f"solar wind stale: last valid {s['solar_wind_last']}, {s['solar_wind_age_minutes']:.0f} min "
                    f"before the last SYM-H ({s['index_last']}); forecasting with the index-only model")
    log.info(f"{s['nowcast_model']}: {s['written']} issue times into {s['store']}; no forecast: {s['no_forecast']}")
    start, end = s["times"].split("/")
    path = os.path.join(resolve_store(out), f"nowcast_{'index_only' if s['stale'] else 'drivers'}.png")
    render_forecast_plot(s["store"], path, start=start, end=end, lead=plot_lead)
    image_artifact("symh-nowcast", path, f"SYM-H nowcast ({s['nowcast_model']}), {plot_lead}-min lead")
    s["plot"] = path
    return s
