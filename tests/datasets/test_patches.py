"""Balanced patch datasets: the patches are the store's values, split by time blocks with a
gap, balanced as asked, normalised with train-only statistics, reproducible, memory-bounded."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import flags
from geopipe.cli import main
from geopipe.datasets import gridread
from geopipe.datasets.patches import box_fractions, build_patches
from tests.datasets.conftest import SPLIT, write_grid

SIZE, STRIDE = 16, 8


def build(grid_stores, out, **kw):
    g, lab = grid_stores
    args = {"size": SIZE, "stride": STRIDE, "splits": SPLIT, "seed": 0}
    args.update(kw)
    return build_patches([(g, ["pwat", "prmsl"])], lab, str(out), **args)


def opened(path):
    return xr.open_zarr(path, consolidated=False).load()


def strs(var) -> np.ndarray:
    """A split (CF flag variable) or string variable as a plain str array."""
    return flags.decode(var)


@pytest.fixture(scope="module")
def built(grid_stores, tmp_path_factory):
    out = tmp_path_factory.mktemp("patches") / "p.zarr"
    summary = build(grid_stores, out)
    return summary, opened(out)


def test_patches_are_the_store_values_with_longitude_wrapping(grid_stores, built):
    _, ds = built
    grid = xr.open_zarr(grid_stores[0], consolidated=False)
    labels = xr.open_zarr(grid_stores[1], consolidated=False)
    nx = grid.sizes["longitude"]
    assert ds["x"].dims == ("sample", "iy", "ix", "channel") and ds["x"].dtype == np.float32
    assert ds["y"].dims == ("sample", "iy", "ix") and ds["y"].dtype == np.uint8
    assert list(strs(ds["channel"])) == ["pwat", "prmsl"]
    assert ds["x"].encoding["chunks"][0] == 64
    wrapped = np.flatnonzero(ds["ix0"].values + SIZE > nx)
    assert wrapped.size  # some patches cross the dateline
    assert (ds["iy0"].values + SIZE <= grid.sizes["latitude"]).all()  # none beyond the poles
    for i in [0, len(ds.sample) // 2, len(ds.sample) - 1, *wrapped[:3]]:
        t, iy0, ix0 = ds["time"].values[i], int(ds["iy0"][i]), int(ds["ix0"][i])
        cols = (ix0 + np.arange(SIZE)) % nx
        window = grid.sel(time=t).isel(latitude=slice(iy0, iy0 + SIZE), longitude=cols)
        np.testing.assert_array_equal(ds["x"].values[i, ..., 0], window["pwat"].values)
        np.testing.assert_array_equal(ds["x"].values[i, ..., 1], window["prmsl"].values)
        mask = labels["mask"].sel(time=t).isel(latitude=slice(iy0, iy0 + SIZE), longitude=cols).values
        np.testing.assert_array_equal(ds["y"].values[i], mask)
        assert ds["lat"].values[i] == grid["latitude"].values[iy0 + SIZE // 2]
        assert ds["lon"].values[i] == grid["longitude"].values[(ix0 + SIZE // 2) % nx]
    assert ds.attrs["size"] == SIZE and ds.attrs["seed"] == 0 and ds.attrs["split_spec"] == SPLIT
    assert json.loads(ds.attrs["inputs"])[0][1] == ["pwat", "prmsl"]


@pytest.mark.parametrize("ratio", [1.0, 2.5])
def test_class_balance_as_asked_within_two_percent(grid_stores, built, tmp_path, ratio):
    if ratio == 1.0:
        summary, ds = built
    else:
        summary = build(grid_stores, tmp_path / "p.zarr", neg_ratio=ratio)
        ds = opened(tmp_path / "p.zarr")
    frac = (ds["y"].values > 0).mean(axis=(1, 2))
    positive = frac >= 0.05
    np.testing.assert_array_equal(positive, ds["positive"].values == 1)
    assert (frac[~positive] == 0).all()  # negatives hold no labelled pixel at all
    split = strs(ds["split"])
    for name in ("train", "val", "test"):
        n_pos, n_neg = positive[split == name].sum(), (~positive[split == name]).sum()
        assert n_pos > 20
        assert abs(n_neg / n_pos - ratio) <= 0.02 * ratio
        assert summary["by_split"][name] == {"positive": int(n_pos), "negative": int(n_neg),
                                             "ratio": round(n_neg / n_pos, 4)}


def test_no_time_in_two_splits_and_the_gap_is_kept(built):
    _, ds = built
    t = pd.DatetimeIndex(ds["time"].values)
    split = strs(ds["split"])
    times = {s: set(t[split == s]) for s in ("train", "val", "test")}
    assert not (times["train"] & times["val"]) and not (times["val"] & times["test"])
    assert not (times["train"] & times["test"])
    assert max(times["train"]) < pd.Timestamp("2017-03-01")
    assert min(times["val"]) >= pd.Timestamp("2017-03-04")  # the 3-day gap, cut from val's start
    assert min(times["test"]) - max(times["val"]) >= pd.Timedelta("3D")
    assert np.all(np.diff(t.asi8) >= 0)  # samples in time order: reads stay sequential


def test_statistics_come_from_the_train_split_only(built):
    _, ds = built
    x = ds["x"].values.astype("f8")
    train = strs(ds["split"]) == "train"
    xt = x[train].reshape(-1, x.shape[-1])
    np.testing.assert_allclose(ds["mean"].values, xt.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(ds["std"].values, xt.std(axis=0), rtol=1e-7)
    np.testing.assert_array_equal(ds["min"].values, xt.min(axis=0))
    np.testing.assert_array_equal(ds["max"].values, xt.max(axis=0))
    every = x.reshape(-1, x.shape[-1])
    assert not np.allclose(ds["mean"].values, every.mean(axis=0), rtol=1e-6)
    assert not np.allclose(ds["std"].values, every.std(axis=0), rtol=1e-6)
    assert ds["mean"].dims == ("channel",)


def test_same_seed_same_bytes_other_seed_differs(grid_stores, built, tmp_path):
    _, first = built
    build(grid_stores, tmp_path / "again.zarr")
    again = opened(tmp_path / "again.zarr")
    for v in ("x", "y", "time", "split", "iy0", "ix0", "mean", "std"):
        assert first[v].values.tobytes() == again[v].values.tobytes(), v
    build(grid_stores, tmp_path / "other.zarr", seed=1)
    other = opened(tmp_path / "other.zarr")
    neg = first["positive"].values == 0
    assert not np.array_equal(np.c_[first["iy0"].values, first["ix0"].values, first["time"].values.astype("i8")][neg],
                              np.c_[other["iy0"].values, other["ix0"].values, other["time"].values.astype("i8")][neg])
    # the positives are all kept whatever the seed
    pos = first["positive"].values == 1
    assert np.array_equal(first["x"].values[pos], other["x"].values[other["positive"].values == 1])


def test_reads_one_time_chunk_at_a_time_in_bounded_memory(tmp_path, monkeypatch):
    times = pd.date_range("2017-01-01", periods=96, freq="1D")
    ny, nx = 181, 360
    g, lab = write_grid(tmp_path, times, ny=ny, nx=nx, seed=3, chunk=2)
    store_bytes = len(times) * ny * nx * 4 * 2
    reads = []
    real = gridread.read_block

    def counting(url, variables, start, stop, token=""):
        reads.append((url, start, stop))
        return real(url, variables, start, stop, token)

    monkeypatch.setattr(gridread, "read_block", counting)
    split = "2017-01-01/2017-02-20:train,2017-02-24/2017-04-06:val"
    build_patches([(g, ["pwat"])], lab, str(tmp_path / "warm.zarr"), size=32, stride=16, splits=split)
    reads.clear()
    tracemalloc.start()
    try:
        s = build_patches([(g, ["pwat", "prmsl"])], lab, str(tmp_path / "p.zarr"), size=32, stride=16, seed=0,
                          splits=split, gap="3D")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grid_reads = [(a, b) for url, a, b in reads if url.endswith("grid.zarr")]
    assert s["samples"] > 1000 and s["samples"] * 32 * 32 * 2 * 4 > store_bytes / 4
    assert grid_reads and all(b - a <= 2 and a % 2 == 0 for a, b in grid_reads)  # whole chunks of 2 steps
    assert len(grid_reads) == len(set(grid_reads))  # each chunk decoded once
    label_reads = [(a, b) for url, a, b in reads if url.endswith("labels.zarr")]
    assert max(label_reads.count(r) for r in set(label_reads)) <= 2  # index pass + cut pass
    # the store (and the patches cut from it) are several times what the builder ever holds
    assert peak < store_bytes / 4, (peak, store_bytes)


def test_box_fractions_match_a_direct_count():
    rng = np.random.default_rng(5)
    mask = rng.random((2, 20, 30)) < 0.2
    iy0, ix0 = np.array([0, 7, 12]), np.array([0, 11, 25, 29])
    f = box_fractions(mask, iy0, ix0, 8, wrap=True)
    for t in range(2):
        for a, i in enumerate(iy0):
            for b, j in enumerate(ix0):
                cols = (j + np.arange(8)) % 30
                assert f[t, a, b] == mask[t, i:i + 8][:, cols].mean()


def test_cli_builds_and_refuses_overlapping_blocks(grid_stores, tmp_path, capsys):
    g, lab = grid_stores
    rc = main(["patches", "--inputs", f"{g}:pwat", "--labels", lab, "--out", str(tmp_path / "c.zarr"),
               "--size", "16", "--stride", "8", "--neg-ratio", "1.5", "--split", SPLIT, "--label-class", "2",
               "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ds = opened(tmp_path / "c.zarr")
    assert s["channels"] == ["pwat"] and ds["x"].shape[-1] == 1 and s["empty_splits"] == []
    assert set(np.unique(ds["y"].values)) == {0, 1}  # only class 2 of the mask, as 1
    for name in ("train", "val", "test"):
        assert abs(s["by_split"][name]["ratio"] - 1.5) <= 0.03
    bad = SPLIT.replace("2017-03-01/", "2017-02-20/")
    rc = main(["patches", "--inputs", f"{g}:pwat", "--labels", lab, "--out", str(tmp_path / "bad.zarr"),
               "--size", "16", "--split", bad])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "overlap" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "bad.zarr").exists()
    rc = main(["patches", "--inputs", f"{g}:nope", "--labels", lab, "--out", str(tmp_path / "bad.zarr"),
               "--size", "16", "--split", SPLIT])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "grid.zarr" in err and "'nope'" in err
