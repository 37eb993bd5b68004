"""Real-format stores for the model tests, built once per session.

* ``patch_store``: 64 x 64 patches of two fields, ``pwat`` (kg m-2) and ``prmsl`` (hPa), where
  a vortex-shaped moist anomaly (with spiral arms) sits on a sloping, noisy background and
  the mask is the disc of the vortex.  One field thresholded alone cannot find the disc
  well; the shape is learnable.
* ``symh_windows``: REAL 1-minute SYM-H and ASY-H of 2015 (WDC Kyoto, bundled sample),
  averaged to 5 minutes, cut into 2-hour history windows with targets 30, 60 and 120 min
  ahead, around every storm with SYM-H <= -100 nT; train/val/test split by whole storms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store

SYM_2015 = "isgi/kyoto_asysym_iaga2002/SYM-2015.dat.txt.bz2"
TEST_STORMS = ("2015-03-17", "2015-12-20")  # St Patrick's Day storm and December storm
VAL_STORMS = ("2015-06-23",)


def vortex_patches(n: int = 240, size: int = 64, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype("f4")
    x = np.empty((n, size, size, 2), "f4")
    y = np.zeros((n, size, size), "u1")
    for i in range(n):
        slope = rng.normal(0, 0.15, 2)
        pwat = 30 + rng.normal(0, 6) + slope[0] * (xx - size / 2) + slope[1] * (yy - size / 2)
        pwat = pwat + rng.normal(0, 2.5, (size, size))
        prmsl = 1012 + rng.normal(0, 3) + rng.normal(0, 1.0, (size, size))
        if rng.random() < 0.75:
            cy, cx = rng.uniform(12, size - 12, 2)
            radius = rng.uniform(5, 10)
            r = np.hypot(yy - cy, xx - cx) / radius
            theta = np.arctan2(yy - cy, xx - cx)
            core = np.exp(-(r**2))
            pwat = pwat + 18 * core * (1 + 0.4 * np.cos(2 * theta - 2 * r))
            prmsl = prmsl - 12 * core
            y[i] = r < 1
        x[i, ..., 0], x[i, ..., 1] = pwat, prmsl
    x[::17, :5, :7, 0] = np.nan  # a gap in some fields, as real fields have
    split = rng.permutation(np.array(["train"] * (n * 2 // 3) + ["val"] * (n // 6) + ["test"] * (n - n * 2 // 3 - n // 6)))
    train = split == "train"
    ds = xr.Dataset(
        {"x": (("sample", "iy", "ix", "channel"), x, {"long_name": "input fields (raw units)"}),
         "y": (("sample", "iy", "ix"), y, {"long_name": "tropical cyclone mask", "flag_values": [0, 1]}),
         "split": ("sample", split.astype(object)),
         "mean": ("channel", np.nanmean(x[train], axis=(0, 1, 2))),
         "std": ("channel", np.nanstd(x[train], axis=(0, 1, 2)))},
        coords={"sample": np.arange(n), "channel": np.array(["pwat", "prmsl"], dtype=object),
                "time": ("sample", pd.Timestamp("2020-08-01") + pd.to_timedelta(np.arange(n) * 6, "h")),
                "lat": ("sample", rng.uniform(5, 35, n)), "lon": ("sample", rng.uniform(-100, -20, n))})
    ds.attrs["title"] = "synthetic vortex patches (test fixture)"
    return ds


def read_symh(path) -> pd.DataFrame:
    """Kyoto ASY/SYM IAGA-2002 file -> 1-min DataFrame (sym_h, asy_h) in nT, fill as NaN."""
    df = pd.read_csv(path, skiprows=14, sep=r"\s+", header=0, usecols=[0, 1, 4, 6],
                     names=["date", "time", "asy_h", "sym_h"])
    df.index = pd.to_datetime(df["date"] + " " + df["time"])
    df = df[~df.index.duplicated()][["sym_h", "asy_h"]].astype("f8")  # the file repeats next 1 January
    return df.where(df < 99999.0)


def cut_windows(frame: pd.DataFrame, split: str, history: int, leads, cadence: int, stride: int) -> pd.DataFrame:
    """Windows of one period: ``frame`` at ``cadence`` minutes, the target variable first."""
    steps = np.asarray(leads) // cadence
    v = frame.to_numpy("f4")
    issue = np.arange(history - 1, len(v) - steps.max(), stride)
    x = np.stack([v[i - history + 1:i + 1] for i in issue])
    y = np.stack([v[issue + s, 0] for s in steps], axis=1)
    low = np.fmin(np.nanmin(x[:, :, 0], axis=1), np.nanmin(y, axis=1))
    return pd.DataFrame({"time": frame.index[issue], "split": split, "storm": low <= -50, "x": list(x), "y": list(y)})


def windows_dataset(parts: list[pd.DataFrame], channels, leads, history: int, cadence: int, title: str) -> xr.Dataset:
    """The window-store layout geopipe.datasets writes, with train-split statistics."""
    df = pd.concat(parts, ignore_index=True)
    x, y = np.stack(df["x"]), np.stack(df["y"])
    train = (df["split"] == "train").to_numpy()
    return xr.Dataset(
        {"x": (("sample", "step", "channel"), x), "y": (("sample", "lead"), y, {"units": "nT"}),
         "split": ("sample", df["split"].to_numpy().astype(object)), "storm": ("sample", df["storm"].to_numpy()),
         "mean": ("channel", np.nanmean(x[train], axis=(0, 1))), "std": ("channel", np.nanstd(x[train], axis=(0, 1)))},
        coords={"sample": np.arange(len(df)), "time": ("sample", df["time"].to_numpy()),
                "channel": np.array(list(channels), dtype=object),
                "lead": ("lead", np.asarray(leads), {"units": "minutes"}),
                "step": ("step", np.arange(-history + 1, 1) * cadence, {"units": "minutes"})},
        attrs={"cadence_minutes": cadence, "title": title})


def storm_windows(minutes: pd.DataFrame, history: int = 24, leads=(30, 60, 120), cadence: int = 5) -> xr.Dataset:
    """5-min windows around each SYM-H <= -100 nT storm (3 days before to 4 after its minimum)."""
    m = minutes.resample(f"{cadence}min").mean()
    sym = m["sym_h"]
    events = []  # [last time <= -100 nT, time of the minimum]; lows less than 2 days apart are one storm
    for t, v in sym[sym <= -100].items():
        if events and t - events[-1][0] < pd.Timedelta("2D"):
            if v < sym[events[-1][1]]:
                events[-1][1] = t
            events[-1][0] = t
        else:
            events.append([t, t])
    parts = []
    for _, peak in events:
        day = str(peak.date())
        split = "test" if day in TEST_STORMS else "val" if day in VAL_STORMS else "train"
        seg = m.loc[peak - pd.Timedelta("3D"): peak + pd.Timedelta("4D")]
        parts.append(cut_windows(seg, split, history, leads, cadence, {"train": 2, "val": 3, "test": 1}[split]))
    return windows_dataset(parts, ["sym_h", "asy_h"], leads, history, cadence,
                           "SYM-H storm windows, WDC Kyoto 2015 (test fixture)")


@pytest.fixture(scope="session")
def patch_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("patches") / "patches.zarr"
    store.replace(vortex_patches(), str(path), dim="sample", chunks={"sample": 32},
                  sources=[{"path": "synthetic:vortex_patches(seed=0)", "size": 0, "sha256": ""}])
    return str(path)


@pytest.fixture(scope="session")
def symh_minutes(sample_dir):
    return read_symh(sample_dir / SYM_2015)


@pytest.fixture(scope="session")
def symh_windows(tmp_path_factory, symh_minutes, sample_dir):
    path = tmp_path_factory.mktemp("windows") / "symh_windows.zarr"
    store.replace(storm_windows(symh_minutes), str(path), dim="sample",
                  sources=[{"path": str(sample_dir / SYM_2015), "size": (sample_dir / SYM_2015).stat().st_size,
                            "sha256": ""}])
    return str(path)
