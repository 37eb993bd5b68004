"""Geomagnetic storms from SYM-H (nT): an event table and a class per time step.

An *event* gathers the stretches where SYM-H <= ``moderate_nt`` that lie less than
``merge_hours`` apart (a two-step storm is one event).  For each event:

``onset``     the start of the main phase: the last time before SYM-H first fell to
              ``moderate_nt`` at which it was at or above ``quiet_nt`` (else the record's
              start, or the previous event's end);
``peak_time`` / ``peak_nt``  the minimum SYM-H;
``end``       the end of the recovery: the first time after the event's last storm-level
              minute at which SYM-H is back at or above ``recovery_nt`` (a fixed level, not
              a fraction of the peak: the same quiet level for every storm, as the onset);
              capped at the next event's onset; ``recovered`` is False when the record ends first;
``storm_class`` 1 moderate (peak <= moderate_nt), 2 intense (<= intense_nt), 3 super (<= super_nt).

Per time step, ``storm_class`` is the class of the event in progress (0 quiet) and
``storm_phase`` 1 in the main phase (onset to peak), 2 in the recovery (after the peak to end).
Gaps (NaN) are neither quiet nor storm: they never start, end or split an event.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.errors import InputError
from geopipe.labels.outputs import beside, write_csv, write_json
from geopipe.labels.settings import Settings

CLASSES = {0: "quiet", 1: "moderate", 2: "intense", 3: "super"}
PHASES = {0: "none", 1: "main", 2: "recovery"}
EVENT_COLUMNS = ["onset", "peak_time", "peak_nt", "end", "storm_class", "class_name", "main_phase_h",
                 "duration_h", "recovered"]


@dataclasses.dataclass(frozen=True)
class StormParams(Settings):
    section = "storms"
    moderate_nt: float
    intense_nt: float
    super_nt: float
    quiet_nt: float
    recovery_nt: float
    merge_hours: float


def _runs(flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run of True in ``flag``."""
    d = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def _last_at_or_before(hit: np.ndarray) -> np.ndarray:
    """For each i, the largest j <= i with hit[j] (or -1)."""
    return np.maximum.accumulate(np.where(hit, np.arange(hit.size), -1))


def _first_at_or_after(hit: np.ndarray) -> np.ndarray:
    """For each i, the smallest j >= i with hit[j] (or len)."""
    n = hit.size
    return np.minimum.accumulate(np.where(hit, np.arange(n), n)[::-1])[::-1]


def _stretches(t: pd.DatetimeIndex, x: np.ndarray, gap_hours: float) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the first and last index of its stretch of data: stretches are separated by
    more than ``gap_hours`` without a finite value (e.g. two storm files years apart)."""
    ok = np.flatnonzero(np.isfinite(x))
    first = np.zeros(x.size, np.int64)
    last = np.full(x.size, x.size - 1, np.int64)
    if ok.size < 2:
        return first, last
    breaks = np.flatnonzero(np.diff(t[ok]) > pd.Timedelta(hours=float(gap_hours)))
    starts = np.concatenate([[ok[0]], ok[breaks + 1]])
    stops = np.concatenate([ok[breaks], [ok[-1]]])
    seg = np.clip(np.searchsorted(starts, np.arange(x.size), side="right") - 1, 0, None)
    return starts[seg], stops[seg]


def storm_events(sym_h: pd.Series, params: StormParams | dict | None = None) -> pd.DataFrame:
    """Events of ``sym_h`` (nT, indexed by time, sorted) as a DataFrame of :data:`EVENT_COLUMNS`."""
    p = StormParams.load(params)
    t = pd.DatetimeIndex(sym_h.index)
    x = sym_h.to_numpy(dtype="f8")
    starts, ends = _runs(np.nan_to_num(x, nan=np.inf) <= p.moderate_nt)
    if starts.size:
        # merge stretches closer than merge_hours: a new group starts where the gap is larger
        gap = (t[starts[1:]] - t[ends[:-1]]) / pd.Timedelta("1h")
        new = np.concatenate([[True], np.asarray(gap) >= p.merge_hours])
        g_start = starts[new]
        g_end = np.maximum.reduceat(ends, np.flatnonzero(new))
    else:
        g_start = g_end = np.array([], int)
    quiet = _last_at_or_before(x >= p.quiet_nt)
    recovered = _first_at_or_after(x >= p.recovery_nt)
    first, last = _stretches(t, x, p.merge_hours)
    rows = []
    prev_end = 0
    for k, (a, b) in enumerate(zip(g_start, g_end)):
        peak = a + int(np.nanargmin(x[a:b + 1]))
        onset = max(int(quiet[a]), prev_end, first[a]) if quiet[a] >= 0 else max(prev_end, first[a])
        # an event never runs across a data gap: it ends, unrecovered, at the gap's edge
        done = recovered[b] <= last[b]
        end = int(recovered[b]) if done else int(last[b])
        if k + 1 < len(g_start):
            nxt = g_start[k + 1]
            next_onset = max(int(quiet[nxt]), 0) if quiet[nxt] >= 0 else end
            if next_onset <= end:
                end, done = max(next_onset, peak), True
        prev_end = end
        value = x[peak]
        cls = 3 if value <= p.super_nt else 2 if value <= p.intense_nt else 1
        rows.append({"onset": t[onset], "peak_time": t[peak], "peak_nt": value, "end": t[end],
                     "storm_class": cls, "class_name": CLASSES[cls],
                     "main_phase_h": (t[peak] - t[onset]) / pd.Timedelta("1h"),
                     "duration_h": (t[end] - t[onset]) / pd.Timedelta("1h"), "recovered": bool(done)})
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(
            EVENT_COLUMNS, ["datetime64[ns]", "datetime64[ns]", "f8", "datetime64[ns]", "uint8", "str", "f8", "f8", "bool"])})
    events = pd.DataFrame(rows)[EVENT_COLUMNS]
    events["storm_class"] = events["storm_class"].astype("uint8")
    return events


def storm_classes(times, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(class, phase), each uint8 of len(times): the event in progress at each time."""
    t = pd.DatetimeIndex(times).as_unit("ns").asi8
    cls = np.zeros(t.size, np.uint8)
    phase = np.zeros(t.size, np.uint8)
    for e in events.itertuples():
        a, m, b = (np.searchsorted(t, pd.Timestamp(v).as_unit("ns").value, side) for v, side in
                   ((e.onset, "left"), (e.peak_time, "right"), (e.end, "right")))
        cls[a:b] = e.storm_class
        phase[a:m] = 1
        phase[m:b] = 2
    return cls, phase


def storms_dataset(times, events: pd.DataFrame, params: StormParams) -> xr.Dataset:
    """Per-time classes (dim ``time``) and the event table (dim ``event``) as one Dataset."""
    cls, phase = storm_classes(times, events)
    ds = xr.Dataset(coords={"time": ("time", pd.DatetimeIndex(times).to_numpy("datetime64[ns]"))})
    ds["storm_class"] = xr.Variable("time", cls, {
        "long_name": "geomagnetic storm class of the event in progress", "flag_values": list(CLASSES),
        "flag_meanings": " ".join(CLASSES.values())})
    ds["storm_phase"] = xr.Variable("time", phase, {
        "long_name": "geomagnetic storm phase", "flag_values": list(PHASES), "flag_meanings": " ".join(PHASES.values())})
    ds = ds.assign_coords(event=("event", np.arange(len(events), dtype="int32")))
    for c, attrs in (("onset", {}), ("peak_time", {}), ("end", {}), ("peak_nt", {"units": "nT"}),
                     ("main_phase_h", {"units": "h"}), ("duration_h", {"units": "h"})):
        values = events[c].to_numpy()
        values = values.astype("datetime64[ns]") if values.dtype.kind == "M" else values.astype("f8")
        ds[f"event_{c}"] = xr.Variable("event", values, attrs)
    ds["event_class"] = xr.Variable("event", events["storm_class"].to_numpy().astype("uint8"),
                                    ds["storm_class"].attrs | {"long_name": "storm class by peak SYM-H"})
    ds["event_recovered"] = xr.Variable("event", events["recovered"].to_numpy().astype("uint8"),
                                        {"long_name": "1: SYM-H came back to recovery_nt before the record ended"})
    ds.attrs.update(title="Geomagnetic storms from SYM-H", storm_settings=json.dumps(params.to_dict()))
    return ds


def label_storms(store: str, out: str, variable: str = "sym_h", params=None, root=None) -> dict:
    """Storm events of the ``variable`` (SYM-H, nT) of ``store``, written to ``out`` (replaced
    whole, since events near the record's end change as data arrive) and beside it as
    ``<out>_events.csv`` and ``<out>_events.json``.  Returns a small summary."""
    p = StormParams.load(params)
    ds = _store.open_store(store, root)
    if variable not in ds:
        raise InputError(store, f"has no {variable} variable (have: {', '.join(ds.data_vars)})")
    if ds[variable].dims != ("time",):
        raise InputError(store, f"{variable} has dims {ds[variable].dims}, expected (time,)")
    series = ds[variable].load().to_series().sort_index()
    series = series[~series.index.duplicated()]
    events = storm_events(series, p)
    out_ds = storms_dataset(series.index, events, p)
    url = _store.replace(out_ds, out, product="storms", root=root, sources=_store.sources_of(store, root),
                         summary=f"{len(events)} storms from {variable} of {store}")
    table = events.assign(onset=events["onset"].astype(str), peak_time=events["peak_time"].astype(str),
                          end=events["end"].astype(str))
    csv = write_csv(beside(out, "events.csv", root), table)
    js = write_json(beside(out, "events.json", root), table.to_dict(orient="records"))
    counts = {CLASSES[k]: int((events["storm_class"] == k).sum()) for k in (1, 2, 3)}
    return {"store": url, "events": len(events), "by_class": counts, "csv": csv, "json": js,
            "minutes": int(series.size),
            "deepest": None if not len(events) else {
                "peak_time": str(events.loc[events["peak_nt"].idxmin(), "peak_time"]),
                "peak_nt": float(events["peak_nt"].min())}}
