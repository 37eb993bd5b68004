"""Train forecast models on a window store: the SYM-H ladder up to an LSTM.

Rungs (geopipe.training.ladder.FORECAST_LADDER): persistence, linear AR (ridge) on the
index channels, ARX (the same plus the solar-wind driver channels), the Burton model, a
one-hidden-layer network, the index-only LSTM and the LSTM on every channel.  ARX, Burton
and the index-only LSTM need a window store built with drivers (otherwise they are skipped
with the reason; the LSTM is then the index-only one).  With drivers the LSTM carries a
linear skip held at the ARX fit, and learns two corrections to that linear forecast: gains on
its change per lead, one for the index's part and one for the drivers' (they scale with the
storm), and an added change.
Each rung is scored pooled over the test split and per test storm.  The scikit-learn rungs
are fitted on up to ``max_windows`` train windows; the LSTM streams the train split.
All are scored per lead on the test split against the same targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from geopipe.errors import GeopipeError, InputError
from geopipe.models import metrics as M
from geopipe.models import simple
from geopipe.models.burton import Burton, driver_channels
from geopipe.models.data import SampleStore, StreamDataset, _strings, forecast_target
from geopipe.training import anchors
from geopipe.training import ladder as L
from geopipe.training.params import ForecastParams  # noqa: F401  (declared once there)
from geopipe.training.common import Run, header_lines, parse_params, run_keras, time_it


def leads_minutes(store: SampleStore) -> np.ndarray:
    lead = store.coord("lead")
    if lead is None:
        raise InputError(store.path, "window store has no 'lead' coordinate (minutes ahead of each y column)")
    if np.issubdtype(lead.dtype, np.timedelta64):
        return (lead / np.timedelta64(1, "m")).astype("f8")
    return lead.astype("f8")


def cadence_minutes(store: SampleStore) -> float:
    """Minutes between history steps: the ``cadence_minutes`` attribute, the ``step`` coordinate,
    or else the smallest gap between window times."""
    if "cadence_minutes" in store.attrs:
        return float(store.attrs["cadence_minutes"])
    step = store.coord("step")
    if step is not None and len(step) > 1 and np.issubdtype(step.dtype, np.number):
        return float(np.median(np.diff(step.astype("f8"))))
    if step is not None and len(step) > 1 and np.issubdtype(step.dtype, np.timedelta64):
        return float(np.median(np.diff(step)) / np.timedelta64(1, "m"))
    t = np.unique(store.coord("time"))
    gaps = np.diff(t) / np.timedelta64(1, "m")
    if not len(gaps):
        raise InputError(store.path, "cannot tell the history cadence: set the 'cadence_minutes' attribute")
    return float(gaps[gaps > 0].min())


def index_channels(store: SampleStore) -> list[int] | None:
    """Indices of the index channels (target and extras) of a store built with drivers; None
    when the store has no driver channels."""
    names = [c for c in str(store.attrs.get("index_channels", "")).split(",") if c]
    if not store.attrs.get("driver_spec") or not names:
        return None
    return [store.channels.index(c) for c in names]


#: the lag check resolves 1 min on any cadence: on a 5-min grid a forecast carrying a fifth of the
#: coming change still reads lag = lead (tests/models/test_metrics.py)
LAG_RESOLUTION_MINUTES = 1.0

NO_DRIVERS = "no solar-wind driver channels in the window store (build it with --drivers)"


def _finite_rows(store: SampleStore, split: str) -> np.ndarray:
    """Rows of a split whose every target is finite (targets are small: read in full)."""
    rows = store.indices(split)
    y = np.asarray(store.ds["y"].values, "f8")[rows]
    return rows[np.isfinite(y).all(axis=1)]


def _fit(kind: str, store: SampleStore, p: ForecastParams, run: Run, cache: dict) -> L.RungResult:
    res = L.RungResult(kind, "forecast")
    leads, cadence = cache["leads"], cache["cadence"]
    if kind in ("ar", "arx", "burton", "mlp") and "train" not in cache:
        rows = _finite_rows(store, "train")
        if len(rows) > p.max_windows:
            rows = np.sort(np.random.default_rng(p.seed).choice(rows, p.max_windows, replace=False))
        data = store.take(rows)
        cache["train"] = (np.asarray(data["x"], "f8"), np.asarray(data["y"], "f8"))
    x, y = cache.get("train", (None, None))
    idx = index_channels(store)
    if kind == "persistence":
        res.model = simple.Persistence(n_leads=np.int64(len(leads)))
    elif kind == "ar":
        res.channels = idx
        sub = slice(None) if idx is None else idx
        res.model, res.seconds = time_it(lambda: simple.LinearAR.fit(x[..., sub], y, store.mean[sub], store.std[sub],
                                                                     alpha=p.alpha))
        res.config = {"alpha": p.alpha}
    elif kind == "arx":
        if idx is None:
            res.skipped = NO_DRIVERS
            return res
        res.model, res.seconds = time_it(lambda: simple.LinearARX.fit(x, y, store.mean, store.std, alpha=p.alpha))
        res.config = {"alpha": p.alpha}
        cache["arx"] = res.model
    elif kind == "burton":
        drivers, why = driver_channels(store.channels)
        if drivers is None:
            res.skipped = why
            return res
        try:
            res.model, res.seconds = time_it(lambda: Burton.fit(x, drivers, np.round(leads / cadence).astype(int)))
        except ValueError as exc:
            res.skipped = str(exc)
            return res
        res.config = {"drivers": [store.channels[i] for i in drivers], "tau_minutes": res.model.tau_steps() * cadence,
                      "coef": [float(c) for c in res.model.coef]}
    elif kind == "mlp":
        res.model, res.seconds = time_it(lambda: simple.WindowMLP.fit(x, y, store.mean, store.std, hidden=p.hidden,
                                                                      seed=p.seed))
        res.config = {"hidden": p.hidden, "converged": res.model.converged}
    elif kind == "lstm_index":
        if idx is None:
            res.skipped = NO_DRIVERS + "; the LSTM rung is the index-only LSTM"
            return res
        res.channels = idx
        _fit_lstm(res, store, p, run, len(leads))
    elif kind == "lstm":
        arx = cache.get("arx") if (p.linear_skip and idx is not None) else None
        _fit_lstm(res, store, p, run, len(leads), linear=None if arx is None else (arx.coef, arx.intercept))
    return res


def _fit_lstm(res: L.RungResult, store: SampleStore, p: ForecastParams, run: Run, n_leads: int,
              linear=None) -> None:
    import keras

    from geopipe.models.lstm import build_lstm

    ch = res.channels
    train = StreamDataset(store, "train", p.batch_size, forecast_target, rows=_finite_rows(store, "train"), seed=p.seed,
                          channels=ch)
    val = StreamDataset(store, "val", p.batch_size, forecast_target, rows=_finite_rows(store, "val"), shuffle=False,
                        channels=ch)
    arch = {"units": [int(u) for u in p.units], "dropout": p.dropout, "residual": p.residual, "squash": bool(p.squash)}
    groups = None
    if linear is not None:
        arch.update(gain=bool(p.gain), train_linear=bool(p.train_linear))
        if p.gain:
            idx = index_channels(store)
            groups = {"index": idx, "drivers": [i for i in range(len(store.channels)) if i not in idx]}
    history = int(store.ds["x"].shape[1])
    n_ch = len(store.channels) if ch is None else len(ch)
    run_keras(res, run, lambda name="lstm": build_lstm(n_ch, history, n_leads, target_mean=float(store.mean[0]),
                                                       target_std=float(store.std[0]), linear=linear, name=name,
                                                       gain_groups=groups, **arch),
              p.loss, [keras.metrics.RootMeanSquaredError(name="rmse")], train, val, p)
    res.config = {**arch, "linear_skip": linear is not None, "loss": p.loss, "optimizer": p.optimizer, "lr": p.lr, "clipnorm": p.clipnorm,
                  "epochs": p.epochs, "batch_size": p.batch_size, "members": p.members}
    if groups:  # by name in the model's config
        res.config["gain_groups"] = {k: [store.channels[i] for i in v] for k, v in groups.items()}


def _observations(times, x, y, leads, cadence) -> pd.Series:
    """Every target value the test windows hold (history and targets), indexed by time."""
    times = pd.DatetimeIndex(times)
    steps = x.shape[1]
    parts = [pd.Series(x[:, j, 0], index=times - pd.Timedelta(minutes=(steps - 1 - j) * cadence)) for j in range(steps)]
    parts += [pd.Series(y[:, k], index=times + pd.Timedelta(minutes=float(lead))) for k, lead in enumerate(leads)]
    obs = pd.concat(parts)
    return obs[~obs.index.duplicated()].dropna().sort_index()


def _score(store: SampleStore, results: list[L.RungResult], leads, cadence, batch_size: int) -> None:
    rows = store.indices("test")
    preds = {r.kind: [] for r in results if not r.skipped}
    xs, ys = [], []
    for _, data in store.batches("test", max(256, batch_size)):
        xs.append(np.asarray(data["x"][:, :, 0], "f8"))
        ys.append(np.asarray(data["y"], "f8"))
        for r in results:
            if not r.skipped:
                xin = data["x"] if r.channels is None else data["x"][..., r.channels]
                preds[r.kind].append(np.asarray(r.model.predict(xin), "f8"))
    x0, y = np.concatenate(xs)[..., None], np.concatenate(ys)
    storm = store.coord("storm")
    if storm is not None:  # CF flags come back as their words ("quiet", "storm")
        storm = storm[rows] == "storm" if storm.dtype.kind in "USO" else storm[rows].astype(bool)
    times = store.coord("time")
    obs = _observations(times[rows], x0, y, leads, cadence) if times is not None else None
    pers = np.concatenate(preds["persistence"])
    storms = test_storms(store, rows, y, obs)
    for r in results:
        if r.skipped:
            continue
        pred = np.concatenate(preds[r.kind])
        r.scores = _lead_scores(y, pred, pers, storm, times[rows] if times is not None else None, obs, leads, cadence)
        r.by_storm = {name: _lead_scores(y[sel], pred[sel], pers[sel], None, times[rows][sel], obs, leads, cadence)
                      for name, (sel, _) in storms.items()}
    return {name: info for name, (_, info) in storms.items()}


def _lead_scores(y, pred, pers, storm, times, obs, leads, cadence) -> dict:
    out = {}
    for j, lead in enumerate(leads):
        s = M.forecast_scores(y[:, j], pred[:, j], pers[:, j], storm)
        s["lag_minutes"] = (M.best_lag(times + np.timedelta64(int(lead * 60), "s"), pred[:, j], obs, 2 * lead, cadence,
                                       resolution_minutes=LAG_RESOLUTION_MINUTES)
                            if obs is not None else float("nan"))
        out[int(lead) if float(lead).is_integer() else float(lead)] = s
    return out


def test_storms(store: SampleStore, rows: np.ndarray, y: np.ndarray, obs: pd.Series | None = None,
                min_windows: int = 12) -> dict:
    """The test split's storms: ``{label: (window mask, info)}``, a window belonging to a storm
    when its history-to-last-lead span overlaps the storm (onset..end of recovery); ``min``
    is the lowest observed value in the storm."""
    onset, end, split = store.coord("event_onset"), store.coord("event_end"), store.coord("event_split")
    times, step, lead = store.coord("time"), store.coord("step"), store.coord("lead")
    if onset is None or times is None or step is None:
        return {}
    t = times[rows]
    first = t + np.timedelta64(int(float(np.min(step)) * 60), "s")
    last = t + np.timedelta64(int(float(np.max(lead)) * 60), "s")
    out = {}
    for a, b, sp in zip(onset, end, _strings(split)):
        if sp != "test":
            continue
        sel = (first <= b) & (last >= a)
        if sel.sum() < min_windows:
            continue
        label = f"{pd.Timestamp(a):%Y-%m-%d}"
        out[label] = (sel, {"onset": str(pd.Timestamp(a)), "end": str(pd.Timestamp(b)), "windows": int(sel.sum()),
                            "min": float(obs[a:b].min()) if obs is not None and len(obs[a:b]) else
                            float(np.nanmin(y[sel]))})
    return out


def _config(store: SampleStore, r: L.RungResult, leads, cadence) -> dict:
    channels = store.channels if r.channels is None else [store.channels[i] for i in r.channels]
    spec = json.loads(store.attrs.get("driver_spec") or "null")
    uses_drivers = spec is not None and any(c in spec["channels"] for c in channels)
    index = [c for c in str(store.attrs.get("index_channels", "")).split(",") if c] or channels
    return {"format": "keras" if r.kind.startswith("lstm") else "npz", "kind": r.kind, "task": "forecast",
            "channels": channels, "target": store.channels[0], "history": int(store.ds["x"].shape[1]),
            "leads": [float(v) for v in leads], "cadence_minutes": cadence,
            "source_cadence_minutes": float(store.attrs.get("source_cadence_minutes", cadence)),
            "index_channels": [c for c in index if c in channels],
            **({"drivers": spec} if uses_drivers else {}),
            "units": store.ds["y"].attrs.get("units", "nT"), **r.config}


def _train(windows, kinds, out_for, params, root=None) -> dict:
    p = parse_params(ForecastParams, params)
    store = SampleStore(windows, "windows")
    for split in ("train", "val", "test"):
        if not len(store.indices(split)):
            raise InputError(store.path, f"the {split} split has no samples (the ladder needs train, val and test)")
    leads, cadence = leads_minutes(store), cadence_minutes(store)
    run = Run(out_for, p.device)
    try:
        cache, results = {"leads": leads, "cadence": cadence}, []
        for kind in kinds:
            results.append(_fit(kind, store, p, run, cache))
        for r in results:
            if r.skipped and r.kind in out_for and root is None:  # the one model asked for cannot run
                raise GeopipeError(f"{store.path}: cannot train {r.kind}: {r.skipped}")
        storms = _score(store, results, leads, cadence, p.batch_size)
        lines, flags = L.forecast_verdict(results, cadence)
        more, storm_flags = L.storm_verdict(results, storms)
        lines, flags = lines + more, {**flags, **storm_flags, "test_storms": storms}
        header = header_lines(store, run.device) + [
            f"- target: {store.channels[0]}; history {store.ds['x'].shape[1]} steps of {cadence:g} min; "
            f"leads {', '.join(f'{v:g}' for v in leads)} min"]
        if storms:
            header += ["", "## Per test storm (RMSE in nT, ratio to persistence in brackets)", "",
                       L.storm_table(results, storms), "", *anchors.report_lines(storms, results)]
        return run.write(results, store, p, lambda s, r: _config(s, r, leads, cadence), lines, flags, header, root=root)
    finally:
        run.cleanup()


def train_forecast(windows, out, kind: str = "lstm", **params) -> dict:
    """Train ``kind`` on a window store into the model folder ``out``; its test report holds
    persistence and every rung below ``kind``.  Returns the metrics.json content."""
    return _train(windows, L.rungs_up_to(kind, "forecast"), {kind: out}, params)


def train_ladder_forecast(windows, out_root, kinds=None, **params) -> dict:
    """Train every rung (or ``kinds`` plus persistence) into ``out_root/<kind>``; the combined
    ladder table goes in every folder and in ``out_root`` (metrics.json, report.md)."""
    kinds = [k for k in L.FORECAST_LADDER if kinds is None or k in kinds or k in L.FORECAST_BASELINES]
    return _train(windows, kinds, {k: Path(out_root) / k for k in kinds}, params, root=out_root)
