"""Forecasts of an index (SYM-H) from a forecast model folder and an index store (dim ``time``).

``config.json`` of a forecast model: ``target`` (``sym_h``), ``channels`` (inputs in model
order; default ``[target]``), ``history`` (steps), ``cadence_minutes`` (minutes between
history steps), ``leads`` (minutes ahead, one model output each) and ``residual`` (true: the
model predicts ``target(t + lead) - target(t)``).  ``normalization.json`` holds the inputs'
``channels``/``mean``/``std``; when it also holds ``"target": {"mean": m, "std": s}`` the
model's outputs are in those standardised units and become ``output * s + m`` (nT, or the
change in nT when ``residual``).  A model that ends in geopipe's ``ForecastHead`` layer
(:mod:`geopipe.models.layers`) already returns nT with any residual added back inside the
network, so for it neither ``residual`` nor ``target`` statistics are applied again.

The window of an issue time ``t`` is the rows ``t - (history-1)*cadence, ..., t``; every one
must exist and hold no NaN in any channel (nor in the target at ``t``).  The output store has
dims (``time`` = issue time, ``lead`` = minutes)::

    forecast     float32 nT  the model's value for time + lead
    observed     float32 nT  the target at time + lead (NaN beyond the input or where missing)
    persistence  float32 nT  the target at time: the last observed value

so a forecast scores against persistence with xarray alone::

    ds = xr.open_zarr(out, consolidated=False)
    rmse = np.sqrt(((ds.forecast - ds.observed) ** 2).mean("time"))
    rmse_persistence = np.sqrt(((ds.persistence - ds.observed) ** 2).mean("time"))
    skill = 1 - rmse / rmse_persistence                       # per lead
    valid_time = ds.time + pd.to_timedelta(ds.lead, "min")     # (time, lead)

Models trained on windows with solar-wind drivers (``config.json`` ``drivers``: the recipe of
:mod:`geopipe.datasets.drivers`) need the driver store (``drivers=``, e.g. the OMNI store):
the same variables, couplings, cadence means, masks, bounded fill and fill values are applied
to it, so a driver gap never stops a forecast; a store lacking a driver channel is refused with
its name.  Models trained at a coarser cadence than the store's (``source_cadence_minutes`` <
``cadence_minutes``) get the same block means of the index.  The summary counts the issue
times that got no forecast, by reason (``no_forecast``), and the forecasts made while a driver
was filled past its gap (``driver_filled``).

A re-run adds the issue times the store lacks and fills ``observed`` where the input has grown
to cover it (:func:`geopipe.store.append` fills NaN gaps, never changes stored values).
"""

from __future__ import annotations

import logging
import time as _time

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.datasets import drivers as _drivers
from geopipe.errors import GeopipeError, InputError, ParameterError
from geopipe.models import io
from geopipe.predict import common

log = logging.getLogger(__name__)

BATCH = 8192          #: windows per model call
WRITE = 2**16         #: issue times per append (what an interrupted run keeps)


def _minutes_to_steps(minutes, base: pd.Timedelta, what: str, model_dir) -> np.ndarray:
    steps = np.asarray(minutes, dtype="f8") * pd.Timedelta(1, "min") / base
    if not np.allclose(steps, np.round(steps)):
        raise GeopipeError(f"{model_dir}: {what} {minutes} min is not a multiple of the input's step {base}")
    return np.round(steps).astype("i8")


def windows_ok(bad: np.ndarray, history: int, stride: int) -> np.ndarray:
    """``ok[i]``: rows ``i, i-stride, ..., i-(history-1)*stride`` all exist and none is ``bad``.

    ``bad``: bool (T,) -> bool (T,).  A running sum along each residue class of ``stride``
    makes this O(T) whatever the history length.
    """
    n = len(bad)
    b = np.concatenate([bad.astype("i8"), np.zeros((-n) % stride, dtype="i8")]).reshape(-1, stride)
    cs = np.cumsum(b, axis=0).reshape(-1)[:n]
    back = np.arange(n) - history * stride
    before = np.where(back >= 0, cs[np.clip(back, 0, None)], 0)
    return ((cs - before) == 0) & (np.arange(n) >= (history - 1) * stride)


def _regular(ds: xr.Dataset, names: list[str], where: str) -> tuple[pd.DatetimeIndex, dict, pd.Timedelta]:
    """The variables ``names`` on a complete regular time axis (missing rows -> NaN), as numpy."""
    t = pd.DatetimeIndex(ds["time"].values)
    if len(t) < 2:
        raise InputError(where, "fewer than two times: nothing to forecast from")
    if not t.is_monotonic_increasing or t.has_duplicates:
        ds = ds.sortby("time").drop_duplicates("time")
        t = pd.DatetimeIndex(ds["time"].values)
    base = pd.Timedelta(int(np.median(np.diff(t.asi8))), "ns")
    full = pd.date_range(t[0], t[-1], freq=base)
    sub = ds[names].reindex(time=full).load()
    return full, {n: np.asarray(sub[n].values, dtype="f8") for n in names}, base


def _ends_in_physical_units(model) -> bool:
    """True for models whose last layer is geopipe's ForecastHead (outputs in nT, residual inside)."""
    return any(type(layer).__name__ == "ForecastHead" for layer in model.layers)


def _run(model, z: np.ndarray, issue: np.ndarray, offsets: np.ndarray, n_leads: int, model_dir) -> np.ndarray:
    """Model outputs for the windows ending at rows ``issue`` -> float64 (B, n_leads).

    ``z``: normalised inputs (T, C); a window is ``z[i - offsets]`` (history, C).  Windows are
    gathered BATCH at a time, so memory holds one batch of windows, not all of them.
    """
    flat = len(model.inputs[0].shape) == 2  # a Dense model takes the window flattened
    out = []
    for a in range(0, len(issue), BATCH):
        xb = z[issue[a:a + BATCH, None] - offsets[None, :]]
        y = np.asarray(common.run(model, xb.reshape(len(xb), -1) if flat else xb), dtype="f8")
        y = y.reshape(len(xb), -1)
        if y.shape[1] != n_leads:
            raise GeopipeError(f"{model_dir}: the model returns {y.shape[1]} values per window; config leads has {n_leads}")
        out.append(y)
    return np.concatenate(out) if out else np.zeros((0, n_leads))


def _driver_inputs(spec: dict, drivers, full: pd.DatetimeIndex, model_dir) -> tuple[list[str], np.ndarray]:
    """Raw 1-minute driver + coupling values (T, C) of the driver store on ``full``."""
    if drivers is None:
        raise ParameterError("drivers", f"{model_dir} was trained with solar-wind drivers "
                                        f"({', '.join(spec['variables'])}): give its driver store")
    d_url = _store.resolve_store(drivers)
    dds = _store.open_store(d_url)
    missing = [v for v in spec["variables"] if v not in dds.data_vars]
    if missing:
        raise InputError(d_url, f"lacks driver channel(s) {', '.join(missing)} that the model {model_dir} was trained on")
    dds = dds[spec["variables"]].sel(time=slice(full[0], full[-1]))
    dds = dds.sortby("time").drop_duplicates("time").reindex(time=full).load()
    raw = {v: np.asarray(dds[v].values, "f4") for v in spec["variables"]}
    return _drivers.driver_values(full.values, raw, spec["variables"],
                                  spec.get("couplings", _drivers.LEGACY_COUPLINGS))


def _model_inputs(cfg: dict, ds: xr.Dataset, url: str, drivers, model_dir):
    """(issue-time grid, inputs (T, C) in model channel order, target (T,), grid step, stride in
    rows between history steps, bool (T,) 'a driver was filled at this row')."""
    channels, target = list(cfg.get("channels") or [cfg["target"]]), str(cfg["target"])
    spec = cfg.get("drivers")
    index = [c for c in channels if not spec or c not in spec["channels"]]
    full, values, base = _regular(ds, list(dict.fromkeys(index + [target])), url)
    cadence = float(cfg.get("cadence_minutes", 1))
    source = float(cfg.get("source_cadence_minutes", cadence))
    factor = 1
    if source < cadence:  # the model was trained on block means: build them the same way
        factor = int(_minutes_to_steps(cadence, base, "cadence_minutes", model_dir))
    names = list(dict.fromkeys(index + [target]))
    grid, block = _drivers.block_mean(full.values, np.stack([values[n] for n in names], axis=1).astype("f4"), factor)
    cols = {n: block[:, j].astype("f8") for j, n in enumerate(names)}
    filled = np.zeros(len(grid), bool)
    if spec:
        d_names, d_raw = _driver_inputs(spec, drivers, full, model_dir)
        _, d_block = _drivers.block_mean(full.values, d_raw, factor)
        d_channels, d_values, _ = _drivers.finish(d_names, d_block, int(spec["fill_steps"]), spec["fill_values"])
        if d_channels != list(spec["channels"]):
            raise GeopipeError(f"{model_dir}: driver channels {d_channels} differ from the model's {spec['channels']}")
        cols.update({c: d_values[:, j].astype("f8") for j, c in enumerate(d_channels)})
        masks = [c for c in d_channels if c.endswith("_missing")]
        filled = np.column_stack([cols[m] for m in masks]).any(axis=1) if masks else filled
    grid = pd.DatetimeIndex(grid)
    step = base * factor
    stride = 1 if factor > 1 else int(_minutes_to_steps(cadence, base, "cadence_minutes", model_dir))
    return grid, np.stack([cols[c] for c in channels], axis=-1), cols[target], step, stride, filled


def predict_forecasts(model_dir, store: str, out: str, times=None, drivers=None) -> dict:
    """Forecast from every issue time of ``store`` (within ``times``, ``"START/END"``) not yet in
    ``out``; ``drivers``: the solar-wind store a driver model needs (e.g. the OMNI store)."""
    t0 = _time.perf_counter()
    model_dir = str(model_dir)
    cfg = io.load_config(model_dir)
    if cfg.get("task") != "forecast":
        raise GeopipeError(f"{model_dir}: task is {cfg.get('task')!r}; predict_forecasts needs a forecast model")
    try:
        target, history, leads = str(cfg["target"]), int(cfg["history"]), [int(v) for v in cfg["leads"]]
    except KeyError as exc:
        raise GeopipeError(f"{model_dir}/config.json: forecast models need {exc.args[0]!r}") from None
    channels = list(cfg.get("channels") or [target])
    cadence = float(cfg.get("cadence_minutes", 1))
    residual = bool(cfg.get("residual", False))
    mean, std = common.normalization(model_dir, channels)
    tnorm = io.load_normalization(model_dir).get("target")
    digest = io.model_hash(model_dir)
    url, out_url = _store.resolve_store(store), _store.resolve_store(out)
    ds = _store.open_store(url)
    spec = cfg.get("drivers")
    missing = [n for n in dict.fromkeys(channels + [target]) if n not in ds and not (spec and n in spec["channels"])]
    if missing:
        raise InputError(url, f"no variable(s) {', '.join(missing)} (have {', '.join(map(str, ds.data_vars))})")
    present, old_attrs = common.existing(out_url)
    common.check_same_model(out_url, old_attrs, digest, {"residual": int(residual)})

    rng = common.time_range(times)
    if rng is not None:  # read only the history and the leads around the requested issue times
        pad = slice(rng.start - pd.Timedelta(history * cadence, "min") if rng.start is not None else None,
                    rng.stop + pd.Timedelta(max(leads), "min") if rng.stop is not None else None)
        ds = ds.isel(time=np.flatnonzero(common.in_range(ds["time"].values, pad)))
    full, x, y, base, stride, filled = _model_inputs(cfg, ds, url, drivers, model_dir)
    lead_steps = _minutes_to_steps(leads, base, "lead", model_dir)
    gap = np.isnan(x).any(axis=1) | np.isnan(y)
    ok = windows_ok(gap, history, stride)
    clock = np.arange(len(full)) >= (history - 1) * stride
    wanted = common.in_range(full, rng) & clock
    no_forecast = {"gap_in_index_history": int((wanted & ~ok).sum())}
    ok &= common.in_range(full, rng)
    new = ok & ~full.isin(present)
    already = int((ok & ~new).sum())
    if len(present):  # stored issue times whose observations the input now covers
        obs = _store.open_store(out_url)["observed"]
        gaps = pd.Index(obs["time"].values[np.isnan(obs.values).any(axis=1)])
        cover = full.isin(gaps) & (np.arange(len(full)) + lead_steps.max() < len(full)) & ok
        todo = np.flatnonzero(new | cover)
    else:
        todo = np.flatnonzero(new)
    z = common.normalize(x, mean, std)
    model = common.model_for(model_dir, digest)
    if _ends_in_physical_units(model):
        tnorm, residual_outside = None, False
    else:
        residual_outside = residual
    offsets = stride * np.arange(history - 1, -1, -1)
    attrs, sources = common.provenance(model_dir, digest, cfg, url)
    attrs.update(title=f"geopipe {target} forecasts", source="geopipe predict (forecast)", target=target,
                 residual=int(residual), history_steps=history, cadence_minutes=cadence,
                 comment="score with xarray: see geopipe.predict.forecast; valid time = time + lead minutes",
                 **({"times_requested": str(times)} if times else {}))
    units = ds[target].attrs.get("units", "nT")
    written = 0
    for a in range(0, len(todo), WRITE):
        idx = todo[a:a + WRITE]
        out_y = _run(model, z, idx, offsets, len(leads), model_dir)
        if tnorm:
            out_y = out_y * float(tnorm["std"]) + float(tnorm["mean"])
        if residual_outside:
            out_y = out_y + y[idx, None]
        at = idx[:, None] + lead_steps[None, :]
        observed = np.where(at < len(y), y[np.clip(at, 0, len(y) - 1)], np.nan)
        persistence = np.repeat(y[idx, None], len(leads), axis=1)
        part = _dataset(full[idx], leads, out_y, observed, persistence, target, units, cfg)
        attrs.update(common.coverage(present, pd.Index(full[idx])))
        present = present.append(pd.Index(full[idx]).difference(present))
        result = _store.append(part, out_url, product="forecasts", sources=sources, attrs=attrs)
        written += result.written
    return {"store": out_url, "written": written, "skipped": already,
            "issue_times_possible": int(ok.sum()), "issue_times_requested": int(wanted.sum()),
            "no_forecast": no_forecast, "driver_filled": int((ok & filled).sum()), "leads": leads, "residual": residual, "model_hash": digest,
            "seconds": round(_time.perf_counter() - t0, 3)}


def _dataset(times, leads, forecast, observed, persistence, target, units, cfg) -> xr.Dataset:
    dims = ("time", "lead")
    name = target.replace("_", "-").upper()
    return xr.Dataset(
        {"forecast": (dims, forecast.astype("f4"), {"long_name": f"{name} forecast for time + lead by a {cfg.get('kind', '')} model".replace("  ", " "),
                                                      "units": units}),
         "observed": (dims, observed.astype("f4"), {"long_name": f"observed {name} at time + lead", "units": units}),
         "persistence": (dims, persistence.astype("f4"), {"long_name": f"persistence forecast: observed {name} at the issue time",
                                                           "units": units})},
        coords={"time": ("time", pd.DatetimeIndex(times).values, {"standard_name": "forecast_reference_time",
                                                                   "long_name": "issue time"}),
                "lead": ("lead", np.asarray(leads, dtype="i4"), {"long_name": "lead time (valid time - issue time)",
                                                                  "units": "minutes", "standard_name": "forecast_period"})})
