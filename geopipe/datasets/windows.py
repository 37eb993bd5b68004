"""Sequence windows of a geomagnetic index (SYM-H) for forecasting, split by whole storms.

A window issued at time ``t`` holds the ``history`` steps up to and including ``t`` of the
target and of any extra series, and the target at ``leads`` minutes after ``t``.  Windows
are issued every ``stride`` steps on the clock (minutes since 1970 divisible by the stride),
so the same store always gives the same issue times.

Splits never cut a storm: by default the storms (from the store's SYM-H with
:func:`geopipe.labels.storms.storm_events`, or a given table) go to train/val/test in time
order, 60/20/20, each boundary in the middle of the quiet stretch between two storms, with a
``gap`` around it (:func:`geopipe.datasets.splits.storm_blocks`).  Explicit ``--split`` time
blocks are refused when a storm straddles two of them.  A window whose history-to-last-lead
span is not wholly inside one block is dropped, so no minute is seen by two splits.
A window is a *storm* window when its span overlaps a storm (onset..end of recovery);
per split, storm and quiet windows are balanced to ``quiet_ratio`` quiet per storm window.
Windows with NaN in their history (any index channel) or in a target are dropped, and
counted by reason (``dropped`` in the summary and the store's attributes).

Solar-wind drivers (``drivers``, e.g. an OMNI store) follow :mod:`geopipe.datasets.drivers`:
the default set or the named variables, couplings (``phi_pc`` by default; ``vbs``, ``newell``), block means at
``cadence`` (e.g. ``"5min"``; the index channels too), mask channels and a bounded forward
fill, so drivers never hold NaN and never drop a window; the recipe (``driver_spec``) is
stored for prediction.

Dataset: ``x`` (sample, step, channel) float32 history (the target first, then ``extra``,
then drivers), ``y`` (sample, lead) float32 target in its units; per sample ``time`` (issue
time = last history step), ``split``, ``storm`` (uint8); coords ``step`` (minutes, -history+1
cadence .. 0), ``lead`` (minutes), ``channel``; train-only ``mean``/``std``/``min``/``max``
(channel); the storm table on dim ``event`` (``event_onset``, ``event_end``, ``event_split``).
"""

from __future__ import annotations

import functools
import json
import time as _time

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.config import resolve_store
from geopipe.datasets import drivers as _drivers
from geopipe.datasets import samples
from geopipe.datasets.defaults import WINDOWS
from geopipe.datasets.splits import (
    SPLITS,
    assign_spans,
    balanced_choice,
    parse_splits,
    storm_blocks,
    storm_splits,
    with_gaps,
)
from geopipe.datasets.stats import stats_variables
from geopipe.errors import InputError, ParameterError, StoreError

DEFAULT_WINDOW_GAP = WINDOWS.gap


def _open_series(store: str, variables, root=None) -> tuple[str, xr.Dataset]:
    url = resolve_store(store, root)
    try:
        ds = _store.open_store(url)
    except StoreError as exc:
        raise InputError(url, str(exc).split(": ", 1)[-1]) from None
    for v in variables:
        if v not in ds.data_vars:
            raise InputError(url, f"has no variable {v!r} (have: {', '.join(map(str, ds.data_vars))})")
        if ds[v].dims != ("time",):
            raise InputError(url, f"{v} has dims {ds[v].dims}, expected (time,)")
    return url, ds


def regular_series(url: str, ds: xr.Dataset, variables) -> tuple[np.ndarray, np.ndarray, np.timedelta64]:
    """(times on a regular grid at the store's cadence, values (time, variable) float32 with NaN
    where the store has no value, cadence)."""
    t = ds["time"].values.astype("datetime64[ns]")
    if t.size < 2:
        raise InputError(url, f"holds {t.size} time step(s): too short for windows")
    cadence = np.median(np.diff(t)).astype("m8[ns]")
    if cadence <= np.timedelta64(0, "ns"):
        raise InputError(url, "its times are not increasing")
    grid = np.arange(t[0], t[-1] + cadence, cadence)
    values = np.full((grid.size, len(variables)), np.nan, np.float32)
    on = ((t - t[0]) % cadence) == np.timedelta64(0, "ns")
    rows = ((t[on] - t[0]) // cadence).astype(np.int64)
    for j, v in enumerate(variables):
        values[rows, j] = ds[v].values[on].astype(np.float32)
    return grid, values, cadence


def _on_grid(grid: np.ndarray, url: str, ds: xr.Dataset, variables) -> np.ndarray:
    """Driver values (time, variable) at exactly the times of ``grid`` (NaN where absent)."""
    t = ds["time"].values.astype("datetime64[ns]")
    out = np.full((grid.size, len(variables)), np.nan, np.float32)
    if not t.size:
        return out
    where = np.searchsorted(t, grid).clip(0, t.size - 1)
    hit = t[where] == grid
    for j, v in enumerate(variables):
        out[hit, j] = ds[v].values[where[hit]].astype(np.float32)
    return out


def load_events(storms, grid: np.ndarray, target: np.ndarray, params=None, root=None) -> tuple[pd.DataFrame, str]:
    """(storm onsets and ends, where they came from): from a storm store (``geopipe labels
    storms``), a CSV/JSON event table (columns ``onset``, ``end``), a DataFrame, or else
    detected in the target series by :func:`geopipe.labels.storms.storm_events` with
    ``params`` (the catalog's thresholds by default: SYM-H <= -50 nT)."""
    if storms is None:
        from geopipe.labels.storms import StormParams, storm_events

        p = StormParams.load(params)
        table = storm_events(pd.Series(target, index=pd.DatetimeIndex(grid)), p)[["onset", "end"]]
        return table, f"detected: {json.dumps(p.to_dict())}"
    origin = "table" if isinstance(storms, pd.DataFrame) else str(storms)
    if isinstance(storms, pd.DataFrame):
        table = storms
    elif str(storms).endswith((".csv", ".json")):
        table = pd.read_csv(storms) if str(storms).endswith(".csv") else pd.read_json(storms)
    else:
        ds = _store.open_store(storms, root)
        if "event_onset" not in ds or "event_end" not in ds:
            raise InputError(str(storms), "is not a storm store: it lacks event_onset/event_end")
        table = pd.DataFrame({"onset": ds["event_onset"].values, "end": ds["event_end"].values})
    if not {"onset", "end"} <= set(table.columns):
        raise InputError(str(storms), f"the storm table needs onset and end columns (has {list(table.columns)})")
    table = pd.DataFrame({"onset": pd.to_datetime(table["onset"]), "end": pd.to_datetime(table["end"])})
    return table.sort_values("onset").reset_index(drop=True), origin


def issue_rows(grid: np.ndarray, values: np.ndarray, cadence: np.timedelta64, history: int, ahead: np.ndarray,
               stride: int, counts: dict | None = None) -> np.ndarray:
    """Rows of ``grid`` where a window is issued: on the clock (steps since 1970 divisible by
    ``stride``), with all ``history`` steps and every lead (``ahead`` steps) inside the record,
    no NaN in the history of any channel of ``values`` (time, channel), nor in the target
    (channel 0) at the leads.  ``counts`` (a dict) receives how many clock times were
    candidates and how many were dropped for each reason."""
    steps = ((grid - np.datetime64(0, "ns")) // cadence).astype(np.int64)
    i = np.arange(grid.size)
    rows = np.flatnonzero((steps % stride == 0) & (i >= history - 1) & (i + ahead.max() < grid.size))
    bad = np.concatenate([[0], np.cumsum(np.isnan(values).any(axis=1))])  # NaN rows so far
    hist_ok = bad[rows + 1] - bad[rows - history + 1] == 0
    lead_ok = ~np.isnan(values[rows[:, None] + ahead, 0]).any(axis=1)
    if counts is not None:
        counts.update(candidates=int(rows.size), gap_in_history=int((~hist_ok).sum()),
                      target_missing_at_a_lead=int((hist_ok & ~lead_ok).sum()))
    return rows[hist_ok & lead_ok]


def _cut_windows(plan: dict, values: np.ndarray, back: np.ndarray, ahead: np.ndarray) -> dict:
    """x (n, history, channel) and y (n, lead) of the windows issued at grid rows ``plan['i']``."""
    i = plan["i"]
    return {"x": values[i[:, None] + back], "y": values[i[:, None] + ahead, 0]}


def _overlaps(starts, ends, onsets, event_ends) -> np.ndarray:
    """True where the span ``[starts, ends]`` overlaps any event ``[onset, end]``."""
    if not len(onsets):
        return np.zeros(len(starts), bool)
    reach = np.maximum.accumulate(event_ends)  # the latest end among events starting so far
    k = np.searchsorted(onsets, ends, side="right") - 1
    return (k >= 0) & (reach[np.maximum(k, 0)] >= starts)


def _driver_part(grid: np.ndarray, drivers, root) -> tuple[list[str], np.ndarray, list[str], list[str], list[str]]:
    """(raw driver + coupling channels, their 1-minute values on ``grid``, variables, store URLs,
    couplings)."""
    raw, variables, urls, coupled = {}, [], [], []
    for d_store, d_vars in drivers:
        d_url, d_ds = _open_series(d_store, [], root)
        chosen, named = _drivers.choose(d_ds.data_vars, list(d_vars or []), d_url)
        coupled += [c for c in named if c not in coupled]
        _open_series(d_store, chosen, root)  # checks dims
        on = _on_grid(grid, d_url, d_ds, chosen)
        for j, v in enumerate(chosen):
            raw[v] = on[:, j]
        variables += chosen
        urls.append(d_url)
    names, values = _drivers.driver_values(grid, raw, variables, coupled)
    return names, values, variables, urls, [n for n in names if n in coupled]


def cadence_factor(cadence, base: np.timedelta64) -> int:
    """Source steps per output step for ``cadence`` (``"5min"``, minutes, or None: the source's)."""
    if cadence in (None, ""):
        return 1
    want = pd.Timedelta(f"{cadence}min" if isinstance(cadence, (int, float)) else cadence).to_timedelta64()
    factor = want / base
    if factor < 1 or not float(factor).is_integer():
        raise ParameterError("cadence", f"not a whole multiple of the store's {pd.Timedelta(base)} step", cadence)
    return int(factor)


def build_windows(store: str, out: str, var: str = WINDOWS.var, extra=(), drivers=None,
                  history: int = WINDOWS.history, horizon: int = WINDOWS.horizon, stride: int = WINDOWS.stride,
                  leads=None, splits: str | None = None, fractions=WINDOWS.fractions, gap: str = DEFAULT_WINDOW_GAP,
                  quiet_ratio: float = WINDOWS.quiet_ratio, seed: int = WINDOWS.seed, storms=None, storm_params=None, chunk: int | None = None,
                  cadence=None, fill_minutes: int = _drivers.DEFAULT_FILL_MINUTES, root=None) -> dict:
    """Build a window dataset at ``out`` from the 1-D series store ``store`` (see the module
    docstring); returns a summary.  ``history``/``horizon``/``stride`` are in time steps of
    ``cadence`` (default the store's); ``leads`` in minutes (default every step 1..horizon);
    ``drivers``: ``[(store, [variable, ...] or []), ...]`` on the same time stamps (e.g. an
    OMNI store; ``[]`` picks the default drivers)."""
    started = _time.perf_counter()
    chunk = chunk or samples.catalog_chunk("windows")
    if history < 1 or horizon < 1 or stride < 1 or quiet_ratio < 0:
        raise ParameterError(("history", "horizon", "stride", "quiet_ratio"),
                             "history, horizon and stride must be >= 1, quiet_ratio >= 0")
    extra = list(extra or [])
    url, ds = _open_series(store, [var, *extra], root)
    grid, values, base = regular_series(url, ds, [var, *extra])
    channels = [var, *extra]
    factor = cadence_factor(cadence, base)
    driver_urls, spec = [], None
    if drivers:
        d_names, d_values, d_vars, driver_urls, coupled = _driver_part(grid, drivers, root)
        _, d_values = _drivers.block_mean(grid, d_values, factor)
    grid, values = _drivers.block_mean(grid, values, factor)
    cadence = base * factor
    if drivers:
        fill_steps = max(0, int(round(fill_minutes / (cadence / np.timedelta64(1, "m")))))
        d_channels, d_values, fills = _drivers.finish(d_names, d_values, fill_steps)
        values = np.concatenate([values, d_values], axis=1)
        channels += d_channels
        spec = {"stores": driver_urls, "variables": d_vars, "couplings": coupled, "channels": d_channels,
                "fill_steps": fill_steps,
                "fill_minutes": int(fill_minutes), "fill_values": fills}
    if len(set(channels)) != len(channels):
        raise ParameterError(("extra", "drivers"), f"a channel name repeats: {channels}")
    cad_min = cadence / np.timedelta64(1, "m")
    lead_min = np.asarray(leads if leads else np.arange(1, horizon + 1) * cad_min, dtype="f8")
    ahead = np.round(lead_min / cad_min).astype(np.int64)
    if (ahead < 1).any() or not np.allclose(ahead * cad_min, lead_min):
        raise ParameterError("leads", f"leads {lead_min.tolist()} must be positive multiples of the {cad_min:g}-minute cadence")
    back = np.arange(-history + 1, 1)

    dropped: dict = {}
    rows = issue_rows(grid, values, cadence, history, ahead, stride, dropped)
    if not rows.size:
        raise InputError(url, f"no window of {history} steps + {ahead.max()} ahead without gaps")

    events, origin = load_events(storms, grid, values[:, 0], storm_params, root)
    onsets, ends = events["onset"].to_numpy("datetime64[ns]"), events["end"].to_numpy("datetime64[ns]")
    blocks = (with_gaps(parse_splits(splits), gap) if splits else
              storm_blocks(onsets, ends, grid[0], grid[-1] + cadence, fractions, gap, where=url))
    event_split = storm_splits(onsets, ends, blocks)  # refuses a storm cut by a block edge
    starts, stops = grid[rows - history + 1], grid[rows + ahead.max()]
    split = assign_spans(starts, stops, blocks)
    storm = _overlaps(starts, stops, onsets, ends).astype(np.uint8)

    dropped["outside_split_blocks"] = int((split == "").sum())
    rng = np.random.default_rng(seed)
    keep = []
    for name in SPLITS:
        here = np.flatnonzero(split == name)
        kp, kn = balanced_choice(here[storm[here] == 1], here[storm[here] == 0], quiet_ratio, rng)
        keep += [kp, kn]
    keep = np.sort(np.concatenate(keep))
    dropped["balance_quiet_or_storm"] = int((split != "").sum() - keep.size)
    if not (split[keep] == "train").any():
        raise InputError(url, "no storm window in the train split: nothing to train on")
    rows, split, storm = rows[keep], split[keep], storm[keep]

    edges = samples.chunk_edges(rows.size, chunk)
    make = functools.partial(_cut_windows, back=back, ahead=ahead)
    arrays = samples.lazy_arrays(make, [{"i": rows[a:b]} for a, b in edges], [b - a for a, b in edges],
                                 {"x": ((history, len(channels)), "float32"), "y": ((ahead.size,), "float32")},
                                 shared=values)
    units = str(ds[var].attrs.get("units", ""))
    out_ds = xr.Dataset(
        {"x": (("sample", "step", "channel"), arrays["x"], {"long_name": "history (raw values)"}),
         "y": (("sample", "lead"), arrays["y"], {"long_name": f"{var} at each lead", "units": units}),
         "time": ("sample", grid[rows], {"long_name": "issue time (last history step)"}),
         "split": samples.split_variable(split),
         "storm": ("sample", storm, {"flag_values": [0, 1], "flag_meanings": "quiet storm",
                                     "comment": "1: the window's history-to-last-lead span overlaps a storm"}),
         "event_onset": ("event", onsets), "event_end": ("event", ends),
         "event_split": samples.split_variable(event_split, "event")},
        coords={"step": ("step", (back * cad_min).astype("int64"), {"units": "minutes", "long_name": "minutes before issue"}),
                "lead": ("lead", lead_min.astype("int64") if np.allclose(lead_min, np.round(lead_min)) else lead_min,
                         {"units": "minutes", "long_name": "minutes after issue"}),
                "channel": ("channel", np.asarray(channels, dtype=object))})
    for name, v in stats_variables(arrays["x"], split == "train").items():
        out_ds[name] = v
    out_ds.attrs.update(
        title=f"Forecast windows of {var}", geopipe_dataset="windows", store=url, variable=var,
        extra=",".join(extra), drivers=json.dumps([[u, list(v or [])] for u, (_, v) in zip(driver_urls, drivers or [])]),
        index_channels=",".join([var, *extra]), driver_spec=json.dumps(spec) if spec else "",
        source_cadence_minutes=float(base / np.timedelta64(1, "m")), dropped=json.dumps(dropped),
        history_steps=int(history), horizon_steps=int(ahead.max()), stride_steps=int(stride), cadence_minutes=float(cad_min),
        seed=int(seed), quiet_ratio=float(quiet_ratio), gap=str(gap), split_spec=str(splits or ""),
        split_fractions=",".join(f"{f:g}" for f in fractions),
        split_blocks=json.dumps([str(b) for b in blocks]), storms=origin)
    written = samples.write(out_ds, out, chunk, "windows", sources=samples.merged_sources([url, *driver_urls], root),
                            summary=f"{rows.size} windows of {var}", root=root)
    counts = samples.class_counts(split, storm, names=("quiet", "storm"))
    return {"store": written, "samples": int(rows.size), "channels": channels, "storms": len(events),
            "storms_by_split": {s: int((event_split == s).sum()) for s in SPLITS},
            "by_split": counts, "empty_splits": samples.empty_splits(counts),
            "blocks": [str(b) for b in blocks], "dropped": dropped, "seconds": round(_time.perf_counter() - started, 3)}
