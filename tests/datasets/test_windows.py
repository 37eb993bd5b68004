"""Forecast windows on real Kyoto SYM-H/ASY-H: split by whole storms, no minute in two splits,
storm/quiet balance, NaN windows dropped, train-only statistics, drivers as extra channels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import flags, store
from geopipe.cli import main
from geopipe.datasets.windows import build_windows, issue_rows, regular_series
from geopipe.errors import InputError, ParameterError

KYOTO = ("isgi", "kyoto_asysym_iaga2002")
MINUTE = np.timedelta64(1, "m")


def kyoto_frame(path) -> pd.DataFrame:
    """A Kyoto ASY/SYM IAGA-2002 file: 14 header/comment lines, then whitespace columns."""
    df = pd.read_csv(path, skiprows=14, sep=r"\s+", usecols=["DATE", "TIME", "ASY-H", "SYM-H"])
    t = pd.to_datetime(df["DATE"] + "T" + df["TIME"])
    out = pd.DataFrame({"sym_h": df["SYM-H"].to_numpy("f4"), "asy_h": df["ASY-H"].to_numpy("f4")}, index=t)
    return out.where(out != 99999.0)


def write_series(frame: pd.DataFrame, path) -> str:
    ds = xr.Dataset({c: ("time", frame[c].to_numpy("f4"), {"units": "nT"}) for c in frame.columns},
                    coords={"time": frame.index.to_numpy("datetime64[ns]")})
    store.append(ds, str(path))
    return str(path)


def strs(var) -> np.ndarray:
    """A split (CF flag variable) or string variable as a plain str array."""
    return flags.decode(var)


def spans(ds):
    t = ds["time"].values
    return t + ds["step"].values[0] * MINUTE, t + ds["lead"].values[-1] * MINUTE


@pytest.fixture(scope="module")
def month(sample_dir, tmp_path_factory):
    frame = kyoto_frame(sample_dir.joinpath(*KYOTO, "WWW_aeasy00025746.dat.txt.bz2"))
    return frame, write_series(frame, tmp_path_factory.mktemp("isgi") / "isgi.zarr")


@pytest.fixture(scope="module")
def built(month, tmp_path_factory):
    out = tmp_path_factory.mktemp("windows") / "w.zarr"
    summary = build_windows(month[1], str(out), extra=["asy_h"], history=120, horizon=60, stride=10, seed=0)
    return summary, xr.open_zarr(out, consolidated=False).load()


def test_windows_hold_the_series_at_the_right_offsets(month, built):
    frame, _ = month
    _, ds = built
    assert ds["x"].dims == ("sample", "step", "channel") and ds["y"].dims == ("sample", "lead")
    assert list(strs(ds["channel"])) == ["sym_h", "asy_h"]
    assert list(ds["step"].values) == list(range(-119, 1)) and list(ds["lead"].values) == list(range(1, 61))
    assert ds.attrs["cadence_minutes"] == 1.0 and ds.attrs["history_steps"] == 120 and ds.attrs["stride_steps"] == 10
    t = pd.DatetimeIndex(ds["time"].values)
    assert (t.minute % 10 == 0).all() and (t.second == 0).all()
    for i in [0, 17, len(t) // 2, len(t) - 1]:
        hist = frame.loc[t[i] - pd.Timedelta(minutes=119):t[i]]
        np.testing.assert_array_equal(ds["x"].values[i, :, 0], hist["sym_h"].to_numpy())
        np.testing.assert_array_equal(ds["x"].values[i, :, 1], hist["asy_h"].to_numpy())
        future = frame["sym_h"].reindex(t[i] + pd.to_timedelta(np.arange(1, 61), "min")).to_numpy()
        np.testing.assert_array_equal(ds["y"].values[i], future)


def test_storms_stay_whole_and_no_minute_is_in_two_splits(month, built):
    summary, ds = built
    # the real month has three storms (SYM-H <= -50 nT): one per split, in time order
    assert summary["storms"] == 3 and summary["storms_by_split"] == {"train": 1, "val": 1, "test": 1}
    assert list(strs(ds["event_split"])) == ["train", "val", "test"]
    assert pd.Timestamp(ds["event_onset"].values[0]) < pd.Timestamp("2017-09-08T01:08") < pd.Timestamp(ds["event_end"].values[0])
    start, end = spans(ds)
    split = strs(ds["split"])
    for k in range(ds.sizes["event"]):
        on, off = ds["event_onset"].values[k], ds["event_end"].values[k]
        touching = (start <= off) & (end >= on)
        assert touching.any() and set(split[touching]) == {strs(ds["event_split"])[k]}
    # spans of one split end a full day (the gap) before the next split's first span starts
    for a, b in (("train", "val"), ("val", "test")):
        assert start[split == b].min() - end[split == a].max() >= np.timedelta64(1, "D")
    minutes = {s: set(np.concatenate([np.arange(a, e + MINUTE, MINUTE) for a, e in zip(start[split == s], end[split == s])]))
               for s in ("train", "val", "test")}
    assert not (minutes["train"] & minutes["val"]) and not (minutes["val"] & minutes["test"])


def test_storm_and_quiet_windows_are_balanced(month, built, tmp_path):
    _, ds = built
    start, end = spans(ds)
    on, off = ds["event_onset"].values, ds["event_end"].values
    storm = ((start[:, None] <= off[None]) & (end[:, None] >= on[None])).any(axis=1)
    np.testing.assert_array_equal(storm, ds["storm"].values == 1)
    split = strs(ds["split"])
    for s in ("train", "val", "test"):
        n_storm, n_quiet = storm[split == s].sum(), (~storm[split == s]).sum()
        assert n_storm > 10 and abs(n_quiet / n_storm - 1.0) <= 0.02
    s2 = build_windows(month[1], str(tmp_path / "w2.zarr"), history=60, horizon=30, stride=5, quiet_ratio=2.0)
    for s in ("train", "val", "test"):
        assert abs(s2["by_split"][s]["ratio"] - 2.0) <= 0.04


def test_windows_with_gaps_are_dropped(month, tmp_path):
    frame = month[0].copy()
    frame.loc["2017-09-15T10:00":"2017-09-15T10:59", "sym_h"] = np.nan
    frame.loc[pd.Timestamp("2017-09-24T06:30"), "asy_h"] = np.nan
    frame = frame.drop(frame.loc["2017-09-25T00:00":"2017-09-25T00:04"].index)  # missing rows, not NaN
    path = write_series(frame, tmp_path / "holes.zarr")
    build_windows(path, str(tmp_path / "w.zarr"), extra=["asy_h"], quiet_ratio=5.0)
    ds = xr.open_zarr(tmp_path / "w.zarr", consolidated=False).load()
    start, end = spans(ds)
    t = ds["time"].values
    assert np.isfinite(ds["x"].values).all() and np.isfinite(ds["y"].values).all()
    assert len(t) > 500
    assert not ((start <= np.datetime64("2017-09-15T10:59")) & (end >= np.datetime64("2017-09-15T10:00"))).any()
    assert not ((start <= np.datetime64("2017-09-24T06:30")) & (t >= np.datetime64("2017-09-24T06:30"))).any()
    assert not ((start <= np.datetime64("2017-09-25T00:04")) & (end >= np.datetime64("2017-09-25T00:00"))).any()
    # asy_h is history only: windows issued before its gap (forecasting across it) stay valid
    grid, values, cadence = regular_series(path, store.open_store(path), ["sym_h", "asy_h"])
    issued = grid[issue_rows(grid, values, cadence, 120, np.arange(1, 61), 10)]
    before = pd.date_range("2017-09-24T05:40", "2017-09-24T06:20", freq="10min").to_numpy("datetime64[ns]")
    assert np.isin(before, issued).all()
    assert not np.isin(before + np.timedelta64(60, "m"), issued).any()
    assert np.datetime64("2017-09-25T00:00") not in grid[np.isfinite(values[:, 0])]


def test_statistics_from_train_only_and_same_seed_same_bytes(month, built, tmp_path):
    _, ds = built
    x = ds["x"].values.astype("f8")
    train = strs(ds["split"]) == "train"
    np.testing.assert_allclose(ds["mean"].values, x[train].reshape(-1, 2).mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(ds["std"].values, x[train].reshape(-1, 2).std(axis=0), rtol=1e-7)
    assert not np.allclose(ds["mean"].values, x.reshape(-1, 2).mean(axis=0), rtol=1e-4)
    build_windows(month[1], str(tmp_path / "again.zarr"), extra=["asy_h"], seed=0)
    again = xr.open_zarr(tmp_path / "again.zarr", consolidated=False).load()
    for v in ("x", "y", "time", "storm", "mean"):
        assert ds[v].values.tobytes() == again[v].values.tobytes(), v
    build_windows(month[1], str(tmp_path / "other.zarr"), extra=["asy_h"], seed=7)
    other = xr.open_zarr(tmp_path / "other.zarr", consolidated=False)
    assert not np.array_equal(ds["time"].values, other["time"].values)


def test_drivers_become_extra_channels(month, tmp_path):
    frame = month[0]
    rng = np.random.default_rng(2)
    omni = pd.DataFrame({"bz_gsm": rng.normal(0, 4, len(frame)).astype("f4"),
                         "speed": rng.normal(420, 60, len(frame)).astype("f4")}, index=frame.index)
    omni.iloc[5000:5100] = np.nan
    path = write_series(omni, tmp_path / "omni.zarr")
    s = build_windows(month[1], str(tmp_path / "w.zarr"), drivers=[(path, ["bz_gsm", "speed", "vbs"])], leads=[10, 30, 60])
    ds = xr.open_zarr(tmp_path / "w.zarr", consolidated=False).load()
    # named drivers, the named coupling V Bs and one gap mask per instrument (issue 17)
    assert s["channels"] == ["sym_h", "bz_gsm", "speed", "vbs", "imf_missing", "plasma_missing"]
    assert list(ds["lead"].values) == [10, 30, 60]
    t = pd.DatetimeIndex(ds["time"].values)
    i = len(t) // 3
    np.testing.assert_array_equal(ds["x"].values[i, :, 2], omni["speed"].loc[t[i] - pd.Timedelta("119min"):t[i]].to_numpy())
    np.testing.assert_array_equal(ds["y"].values[i], frame["sym_h"].reindex(t[i] + pd.to_timedelta([10, 30, 60], "min")))
    assert np.isfinite(ds["x"].values).all()  # the 100-min driver gap is filled (60 min forward, then the median) ...
    gap = omni.index[5000:5100]
    over = (t >= gap[0]) & (t - pd.Timedelta("119min") <= gap[-1])
    assert over.any() and (ds["x"].values[over, :, 4:6].max(axis=(1, 2)) == 1).all()  # ... and masked, not dropped
    assert s["dropped"]["gap_in_history"] == 0
    # without pdyn the default coupling (Hill-Siscoe potential) cannot be made: none is added ...
    s = build_windows(month[1], str(tmp_path / "w2.zarr"), drivers=[(path, ["bz_gsm", "speed"])], leads=[10])
    assert s["channels"] == ["sym_h", "bz_gsm", "speed", "imf_missing", "plasma_missing"]
    # ... and naming it says which input is missing, for that store
    with pytest.raises(InputError, match=r"omni.zarr.*phi_pc needs driver channel\(s\) pdyn"):
        build_windows(month[1], str(tmp_path / "w3.zarr"), drivers=[(path, ["bz_gsm", "speed", "phi_pc"])])


def test_explicit_blocks_cutting_a_storm_are_refused(month, tmp_path, capsys):
    with pytest.raises(ParameterError, match="straddles"):
        build_windows(month[1], str(tmp_path / "w.zarr"), splits="2017-09-01/2017-09-08:train,2017-09-09/2017-10-01:test")
    rc = main(["windows", "--store", month[1], "--out", str(tmp_path / "c.zarr"), "--extra", "asy_h",
               "--split", "2017-09-01/2017-09-20:train,2017-09-22/2017-10-01:test", "--gap", "1D", "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert s["storms_by_split"] == {"train": 2, "val": 0, "test": 1} and s["empty_splits"] == ["val"]


def test_one_real_year_and_two_years(sample_dir, tmp_path):
    y2015 = kyoto_frame(sample_dir.joinpath(*KYOTO, "SYM-2015.dat.txt.bz2"))
    y2017 = kyoto_frame(sample_dir.joinpath(*KYOTO, "SYM-2017.dat.txt.bz2"))
    one = write_series(y2015, tmp_path / "y2015.zarr")
    s = build_windows(one, str(tmp_path / "w2015.zarr"), history=120, horizon=60, stride=30)
    # 2015 (St Patrick's Day, -234 nT): every split holds storms, in time order
    assert s["storms"] >= 10 and all(n > 0 for n in s["storms_by_split"].values())
    assert s["storms_by_split"]["train"] > s["storms_by_split"]["val"]
    ds = xr.open_zarr(tmp_path / "w2015.zarr", consolidated=False)
    assert ds["y"].values.min() < -200  # the big storm is in the dataset
    both = pd.concat([y2015, y2017])
    both = both[~both.index.duplicated()]
    two = write_series(both, tmp_path / "two.zarr")
    s2 = build_windows(two, str(tmp_path / "w2.zarr"), history=120, horizon=60, stride=30)
    ds2 = xr.open_zarr(tmp_path / "w2.zarr", consolidated=False)
    split = strs(ds2["split"])
    t = pd.DatetimeIndex(ds2["time"].values)
    assert s2["storms"] > s["storms"] and (t[split == "test"].year >= 2017).all()
    for name in ("train", "val", "test"):
        b = s2["by_split"][name]
        assert b["storm"] > 0 and abs(b["ratio"] - 1.0) <= 0.02


def test_storms_from_a_storm_store_or_table(month, built, tmp_path):
    from geopipe.labels.storms import label_storms

    _, ds = built
    label_storms(month[1], str(tmp_path / "storms.zarr"))
    s = build_windows(month[1], str(tmp_path / "w.zarr"), extra=["asy_h"], storms=str(tmp_path / "storms.zarr"))
    from_store = xr.open_zarr(tmp_path / "w.zarr", consolidated=False)
    np.testing.assert_array_equal(from_store["event_onset"].values, ds["event_onset"].values)
    assert s["storms"] == 3 and from_store["x"].values.tobytes() == ds["x"].values.tobytes()
    # a hand-made table: one long storm only in September's first half -> too few to split by storms
    (tmp_path / "events.csv").write_text("onset,end\n2017-09-07T20:00,2017-09-10T06:00\n")
    with pytest.raises(ParameterError, match="needs at least 3"):
        build_windows(month[1], str(tmp_path / "w2.zarr"), storms=str(tmp_path / "events.csv"))
