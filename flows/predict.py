"""``predict`` and ``render_maps``: full-grid inference into CF Zarr, Cartopy maps as artifacts."""

from __future__ import annotations

from prefect import flow, task

from flows.common import dask_cluster, image_artifact


@task(name="predict")
def predict_task(model: str, store: str, out: str, times: str | None, threshold: float | None,
                 drivers: str | None = None) -> dict:
    from geopipe.config import resolve_store
    from geopipe.predict import predict as run

    return run(resolve_store(model), store, out, times=times, threshold=threshold,
               **({"drivers": drivers} if drivers else {}))


@task(name="render-map")
def render_map_task(pred: str, time: str, out: str, tracks: str | None, labels: str | None) -> str:
    from geopipe.maps import render_map

    return render_map(pred, time, out, tracks=tracks, labels=labels)


@task(name="render-forecast-plot")
def render_forecast_task(forecasts: str, out: str, start: str | None, end: str | None, lead: int) -> str:
    from geopipe.maps import render_forecast_plot

    return render_forecast_plot(forecasts, out, start=start, end=end, lead=lead)


@flow(name="predict", log_prints=True)
def predict(model: str, store: str, out: str, times: str | None = None, threshold: float | None = None,
            dask_address: str | None = None, drivers: str | None = None) -> dict:
    """Predict over ``times`` (``START/END``; all by default); times already predicted are skipped.
    ``drivers``: the solar-wind store of a forecast model trained with drivers."""
    with dask_cluster(dask_address):
        return predict_task(model, store, out, times, threshold, drivers)


@flow(name="render-maps", log_prints=True)
def render_maps(pred: str | None = None, times: list[str] | None = None, out_dir: str = "maps",
                tracks: str | None = None, labels: str | None = None, forecasts: str | None = None,
                forecast_window: list[str] | None = None, lead: int = 60) -> list[str]:
    """Maps of ``pred`` at ``times`` (and a SYM-H forecast plot), each attached as an artifact."""
    import os

    from geopipe.config import resolve_store

    folder = resolve_store(out_dir)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for t in times or []:
        stamp = str(t).replace(":", "").replace("-", "")[:13]
        path = render_map_task(pred, t, os.path.join(folder, f"cyclones_{stamp}.png"), tracks, labels)
        image_artifact(f"map-{stamp.lower()}", path, f"cyclone probability at {t}")
        paths.append(path)
    if forecasts:
        start, end = (forecast_window or [None, None])[:2]
        path = render_forecast_task(forecasts, os.path.join(folder, f"symh_forecast_lead{lead}.png"), start, end, lead)
        image_artifact(f"symh-forecast-lead{lead}", path, f"SYM-H forecast at {lead} min against observations")
        paths.append(path)
    return paths
