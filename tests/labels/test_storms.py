"""Geomagnetic storms from SYM-H: the real Kyoto month, planted storms, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.cli import main
from geopipe.labels.storms import StormParams, storm_classes, storm_events
from tests.labels.conftest import isgi_dataset

P = StormParams.load()


def test_real_month_has_the_8_september_2017_intense_storm(kyoto_month):
    sym = kyoto_month["SYM-H"]
    events = storm_events(sym)
    intense = events[events["storm_class"] >= 2]
    assert len(intense) == 1
    e = intense.iloc[0]
    assert e["peak_nt"] == -146.0 and e["peak_time"] == pd.Timestamp("2017-09-08 01:08")
    assert e["class_name"] == "intense" and e["recovered"]
    # onset: the last quiet minute before SYM-H first fell to storm level; quiet never since
    assert sym[e["onset"]] >= P.quiet_nt
    first_storm_minute = sym[e["onset"]:][sym[e["onset"]:] <= P.moderate_nt].index[0]
    assert (sym[e["onset"]:first_storm_minute].iloc[1:] < P.quiet_nt).all()
    assert pd.Timestamp("2017-09-07 18:00") < e["onset"] < e["peak_time"]
    # end: back at the recovery level, after the storm's last storm-level minute (the second dip of 8 Sept)
    assert sym[e["end"]] >= P.recovery_nt
    assert (sym[e["peak_time"]:e["end"]].iloc[:-1] < P.recovery_nt).all()
    assert e["end"] > pd.Timestamp("2017-09-08 12:00")
    # every storm-level minute lies in some event; the peaks are the window minima
    cls, phase = storm_classes(sym.index, events)
    assert (cls[(sym <= P.moderate_nt).to_numpy()] > 0).all()
    for ev in events.itertuples():
        assert sym[ev.onset:ev.end].min() == ev.peak_nt
    assert cls[sym.index.get_loc(pd.Timestamp("2017-09-08 01:08"))] == 2
    assert phase[sym.index.get_loc(pd.Timestamp("2017-09-08 00:30"))] == 1
    assert phase[sym.index.get_loc(pd.Timestamp("2017-09-08 06:00"))] == 2
    assert cls[sym.index.get_loc(pd.Timestamp("2017-09-03 12:00"))] == 0


def _planted(dips, n_days=12, seed=3):
    """A 1-min SYM-H series: quiet noise around -5 nT plus V-shaped dips (peak time, depth nT)."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2020-01-01", periods=n_days * 1440, freq="1min")
    x = -5 + rng.normal(0, 2, t.size)
    h = ((t - t[0]) / pd.Timedelta("1h")).to_numpy()
    for when, depth in dips:
        c = (pd.Timestamp(when) - t[0]) / pd.Timedelta("1h")
        # 3 h main phase, 30 h recovery
        shape = np.where(h < c, 1 - (c - h) / 3, 1 - (h - c) / 30)
        x = np.minimum(x, depth * np.clip(shape, 0, 1) - 5)
    return pd.Series(x, index=t)


def test_planted_storms_classes_merging_and_gaps():
    sym = _planted([("2020-01-02 06:00", -80), ("2020-01-02 20:00", -120),  # 14 h apart: one event
                    ("2020-01-06 12:00", -300), ("2020-01-10 00:00", -60)])
    sym["2020-01-06 12:30":"2020-01-06 13:30"] = np.nan  # a data gap in a recovery
    events = storm_events(sym)
    assert list(events["storm_class"]) == [2, 3, 1]
    assert list(events["peak_time"].dt.floor("h")) == [pd.Timestamp("2020-01-02 20:00"), pd.Timestamp("2020-01-06 12:00"),
                                                       pd.Timestamp("2020-01-10 00:00")]
    assert events["peak_nt"].iloc[1] == pytest.approx(-305, abs=8)
    # the merged event starts before the first dip and ends after the second's recovery
    assert events["onset"].iloc[0] < pd.Timestamp("2020-01-02 04:00")
    assert events["end"].iloc[0] > pd.Timestamp("2020-01-03 08:00")
    assert (events["onset"].iloc[1:].to_numpy() >= events["end"].iloc[:-1].to_numpy()).all()
    # merging is by the gap: a larger merge window joins the -300 and -60 storms, 3.5 days apart
    assert len(storm_events(sym, {"merge_hours": 24 * 5})) == 1


def test_quiet_record_has_no_events():
    events = storm_events(_planted([]))
    assert events.empty and list(events.columns)[:3] == ["onset", "peak_time", "peak_nt"]


def test_cli_writes_classes_on_the_store_time_axis_and_event_tables(root, kyoto_month, capsys):
    src = str(root / "isgi.zarr")
    store.append(isgi_dataset(kyoto_month), src)
    out = str(root / "labels" / "storms.zarr")
    assert main(["labels", "storms", "--store", src, "--out", out]) == 0
    text = capsys.readouterr().out
    assert "1 intense" in text and "-146 nT at 2017-09-08 01:08" in text
    ds = xr.open_zarr(out, consolidated=False)
    isgi = xr.open_zarr(src, consolidated=False)
    np.testing.assert_array_equal(ds["time"].values, isgi["time"].values)
    assert ds["storm_class"].dtype == np.uint8
    assert int(ds["storm_class"].sel(time="2017-09-08T01:08")) == 2
    assert ds.sizes["event"] == 3 and int(ds["event_class"].max()) == 2
    assert ds["event_peak_nt"].min() == -146
    table = pd.read_csv(root / "labels" / "storms_events.csv")
    assert table.loc[table["peak_nt"].idxmin(), "peak_time"] == "2017-09-08 01:08:00"
    events = json.loads((root / "labels" / "storms_events.json").read_text())
    assert [e["class_name"] for e in events].count("intense") == 1
    first = ds["storm_class"].values.copy()
    # a re-run gives the same store
    assert main(["labels", "storms", "--store", src, "--out", out]) == 0
    np.testing.assert_array_equal(xr.open_zarr(out, consolidated=False)["storm_class"].values, first)


def test_cli_store_without_sym_h_is_a_one_line_error(root, capsys):
    src = str(root / "other.zarr")
    store.append(xr.Dataset({"dst": ("time", np.zeros(3))}, coords={"time": pd.date_range("2020", periods=3, freq="h")}), src)
    assert main(["labels", "storms", "--store", src, "--out", str(root / "s.zarr")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other.zarr: has no sym_h variable" in err
    assert not (root / "s.zarr").exists()


def test_an_event_never_runs_across_a_data_gap():
    """Two real storm weeks three years apart (OMNI 1-min extracts, SYM-H = Kyoto's): the March
    2015 storm has not recovered when its file ends, and must end there, not in August 2018."""
    from geopipe.sample import REAL
    from geopipe.sources.omni import OMNIReader

    parts = [OMNIReader().open_dataset(str(REAL / "isgi" / "ml_omni1min_storms" / f))["sym_h"].to_series()
             for f in ("2015_out.csv", "2018_out.csv")]
    sym = pd.concat(parts)
    events = storm_events(sym)
    assert len(events) >= 2
    spring = events[events["peak_time"].dt.year == 2015]
    summer = events[events["peak_time"].dt.year == 2018]
    assert spring["peak_nt"].min() <= -220 and summer["peak_nt"].min() <= -200
    assert (events["end"].dt.year == events["onset"].dt.year).all()
    assert spring["end"].max() <= parts[0].index[-1] and summer["onset"].min() >= parts[1].index[0]
    assert not spring["recovered"].iloc[-1]  # still below the recovery threshold when the file ends
