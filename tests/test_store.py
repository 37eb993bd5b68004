"""The store layer: idempotent appends, publish-last, killed and concurrent writers, providers."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from geopipe import store
from geopipe.errors import StoreError
from tests.support.writer import field

ROOT = Path(__file__).resolve().parents[1]


def _open(path):
    return xr.open_zarr(path, consolidated=False)


def _writer(path, start="2024-01-01", n=24, batch=4, extra=()):
    return [sys.executable, "-m", "tests.support.writer", str(path), start, str(n), str(batch), *extra]


def test_append_is_idempotent_and_opens_with_plain_xarray(tmp_path):
    path = tmp_path / "gfs.zarr"
    times = pd.date_range("2024-01-01", periods=8, freq="6h")
    first = store.append(field(times[:5]), str(path), chunks={"time": 2})
    second = store.append(field(times[3:]), str(path))
    again = store.append(field(times), str(path))
    assert (first.written, second.written, second.skipped) == (5, 3, 2)
    assert again.written == 0 and again.skipped == 8
    ds = _open(path)
    assert list(ds.time.values) == list(times.values)
    assert not pd.Index(ds.time.values).has_duplicates
    np.testing.assert_array_equal(ds.pwat.values, field(times).pwat.values)
    assert ds.pwat.attrs["units"] == "kg m-2"
    assert ds.attrs["Conventions"].startswith("CF-")
    # Zstd by default, chunked one-or-two steps along time
    arr = zarr.open_group(str(path), mode="r")["pwat"]
    assert type(arr.compressors[0]).__name__ == "ZstdCodec"
    assert arr.chunks[0] == 2


def test_history_and_provenance(tmp_path):
    path = tmp_path / "s.zarr"
    src = {"path": "/x/a.grib2", "size": 10, "sha256": "ab" * 32}
    store.append(field(pd.date_range("2024-01-01", periods=2, freq="6h")), str(path), sources=[src])
    store.append(field(pd.date_range("2024-01-01", periods=2, freq="6h")), str(path), sources=[src])
    assert store.sources_of(str(path)) == [src]
    ds = _open(path)
    assert "appended 2 time steps" in ds.attrs["history"]
    assert ds.attrs["geopipe_version"]


def test_grid_mismatch_is_refused(tmp_path):
    path = tmp_path / "s.zarr"
    times = pd.date_range("2024-01-01", periods=2, freq="6h")
    store.append(field(times), str(path))
    other = field(times + pd.Timedelta("1D")).assign_coords(latitude=np.linspace(-90, 90, 91))
    with pytest.raises(StoreError, match="latitude"):
        store.append(other, str(path))
    assert _open(path).sizes["time"] == 2


def test_duplicate_times_in_input_are_refused(tmp_path):
    ds = field(pd.DatetimeIndex(["2024-01-01", "2024-01-01"]))
    with pytest.raises(StoreError, match="repeats time"):
        store.append(ds, str(tmp_path / "s.zarr"))
    assert not (tmp_path / "s.zarr").exists()


def test_new_variable_and_gap_filling(tmp_path):
    path = tmp_path / "isgi.zarr"
    t = pd.date_range("2024-01-01", periods=10, freq="1min")
    sym = xr.Dataset({"sym_h": ("time", np.arange(10.0), {"units": "nT"})}, coords={"time": t})
    store.append(sym, str(path))
    t2 = pd.date_range("2024-01-01", periods=12, freq="1min")
    dst = xr.Dataset({"dst": ("time", np.where(np.arange(12) % 5 == 0, -5.0, np.nan), {"units": "nT"})}, coords={"time": t2})
    r = store.append(dst, str(path))
    assert r.new_variables == ["dst"] and r.written == 2
    more_sym = xr.Dataset({"sym_h": ("time", np.arange(12.0), {"units": "nT"})}, coords={"time": t2})
    r2 = store.append(more_sym, str(path))
    assert r2.written == 0  # times present: the sym_h gaps at 00:10, 00:11 are filled instead
    ds = _open(path)
    np.testing.assert_array_equal(ds.sym_h.values, np.arange(12.0))
    np.testing.assert_array_equal(ds.dst.values[[0, 5, 10]], [-5, -5, -5])
    assert np.isnan(ds.dst.values[[1, 11]]).all()
    assert store.append(more_sym, str(path)).written == 0


def test_memory_store_url():
    url = f"memory://geopipe-test-{random.randrange(1 << 30)}.zarr"
    times = pd.date_range("2024-01-01", periods=3, freq="6h")
    store.append(field(times), url)
    assert store.append(field(times), url).written == 0
    ds = store.open_store(url)
    assert ds.sizes["time"] == 3


def test_store_names_cannot_escape_the_root(root):
    from geopipe.config import resolve_store, safe_child

    assert resolve_store("gfs.zarr") == str(root / "gfs.zarr")
    with pytest.raises(StoreError):
        resolve_store("..")
    with pytest.raises(StoreError):
        safe_child(str(root), "../outside.zarr")
    with pytest.raises(StoreError):
        safe_child(str(root), "/etc/passwd")


def test_replace_swaps_whole_store(tmp_path):
    path = tmp_path / "tracks.zarr"
    a = xr.Dataset({"lat": ("obs", np.arange(3.0))})
    b = xr.Dataset({"lat": ("obs", np.arange(5.0))})
    store.replace(a, str(path), dim="obs", sources=[{"path": "a", "size": 1, "sha256": "0"}])
    store.replace(b, str(path), dim="obs", sources=[{"path": "b", "size": 1, "sha256": "1"}])
    ds = _open(path)
    assert ds.sizes["obs"] == 5
    assert [s["path"] for s in store.sources_of(str(path))] == ["a", "b"]
    assert not list(tmp_path.glob(".tracks.zarr.*-*"))


def _reference(tmp_path, n=24):
    ref = tmp_path / "ref.zarr"
    subprocess.run(_writer(ref, n=n), check=True, cwd=ROOT)
    return _open(ref).load()


def _assert_consistent_prefix(ds, ref):
    """Every published step is complete and equal to the uninterrupted run's step."""
    n = ds.sizes["time"]
    assert n <= ref.sizes["time"]
    np.testing.assert_array_equal(ds.time.values, ref.time.values[:n])
    np.testing.assert_array_equal(ds.pwat.values, ref.pwat.values[:n])
    np.testing.assert_array_equal(ds.prmsl.values, ref.prmsl.values[:n])


def test_writer_killed_at_random_points_then_rerun_matches(tmp_path):
    ref = _reference(tmp_path)
    rng = random.Random(7)
    path = tmp_path / "killed.zarr"
    # how long a full run takes here, to spread the kills over it
    t0 = time.monotonic()
    subprocess.run(_writer(tmp_path / "timing.zarr"), check=True, cwd=ROOT)
    duration = time.monotonic() - t0
    kills = 0
    for _ in range(8):
        proc = subprocess.Popen(_writer(path), cwd=ROOT)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if store.exists(str(path)):
            # plain xarray opens unless the kill hit the metadata window, which leaves a journal
            try:
                _assert_consistent_prefix(_open(path).load(), ref)
            except ValueError:
                assert store.PENDING in zarr.open_group(str(path), mode="r").attrs
            _assert_consistent_prefix(store.open_store(str(path)).load(), ref)
    assert kills >= 3
    subprocess.run(_writer(path), check=True, cwd=ROOT)
    final = _open(path).load()
    xr.testing.assert_identical(final.drop_attrs(), ref.drop_attrs())


@pytest.mark.parametrize("die_after", [1, 2, 3])
def test_writer_killed_inside_publish_window_is_rolled_forward(tmp_path, die_after):
    ref = _reference(tmp_path, n=8)
    path = tmp_path / "w.zarr"
    subprocess.run(_writer(path, n=4, batch=4), check=True, cwd=ROOT)
    proc = subprocess.run(_writer(path, n=8, batch=8, extra=("--die-after-resizes", str(die_after))), cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL
    group = zarr.open_group(str(path), mode="r")
    assert store.PENDING in group.attrs  # the journal says what to finish
    assert store.repair(str(path)) is True
    ds = _open(path).load()  # plain xarray after the repair
    _assert_consistent_prefix(ds, ref)
    assert ds.sizes["time"] == 8  # the journal was rolled forward: the append is complete
    subprocess.run(_writer(path, n=8, batch=8), check=True, cwd=ROOT)
    xr.testing.assert_identical(_open(path).load().drop_attrs(), ref.drop_attrs())


def test_concurrent_writers_overlapping_times(tmp_path):
    path = tmp_path / "c.zarr"
    procs = [subprocess.Popen(_writer(path, start="2024-01-01", n=16, batch=2), cwd=ROOT),
             subprocess.Popen(_writer(path, start="2024-01-02", n=16, batch=3), cwd=ROOT)]
    assert [p.wait() for p in procs] == [0, 0]
    ds = _open(path).load()
    expected = pd.date_range("2024-01-01", periods=20, freq="6h")
    assert sorted(ds.time.values) == list(expected.values)
    assert not pd.Index(ds.time.values).has_duplicates
    ref = field(pd.DatetimeIndex(ds.time.values))
    np.testing.assert_array_equal(ds.pwat.values, ref.pwat.values)


def test_adding_a_variable_keeps_provenance_and_history(tmp_path):
    path = tmp_path / "s.zarr"
    t = pd.date_range("2024-01-01", periods=3, freq="1min")
    a = xr.Dataset({"sym_h": ("time", np.arange(3.0))}, coords={"time": t}, attrs={"title": "indices"})
    b = xr.Dataset({"asy_h": ("time", np.arange(3.0))}, coords={"time": t})
    store.append(a, str(path), sources=[{"path": "a", "size": 1, "sha256": "0"}])
    store.append(b, str(path), sources=[{"path": "b", "size": 1, "sha256": "1"}])
    ds = _open(path)
    assert [s["path"] for s in store.sources_of(str(path))] == ["a", "b"]
    assert ds.attrs["title"] == "indices"
    assert len(ds.attrs["history"].splitlines()) == 2


def test_an_ordered_append_refuses_earlier_steps_and_turns_keep_the_order(tmp_path):
    import threading

    url = str(tmp_path / "o.zarr")
    day = lambda t, n: field(pd.date_range(t, periods=n, freq="6h"))  # noqa: E731
    store.append(day("2024-01-02", 4), url)
    with pytest.raises(store.OrderError, match=r"o\.zarr: the data to write starts at time=2024-01-01"):
        store.append(day("2024-01-01", 4), url, ordered=True)
    assert _open(url).sizes["time"] == 4  # nothing written
    # writers finishing in any order reach the store in turn order
    order, written = store.WriteOrder(), []
    parts = [day(t, 2) for t in ("2024-01-03", "2024-01-04", "2024-01-05")]

    def write(i):
        with order.turn(i):
            written.append(store.append(parts[i], url, ordered=True).times[0][:10])
        order.finish(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in (2, 1, 0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert written == ["2024-01-03", "2024-01-04", "2024-01-05"]


def test_merge_by_key_replaces_that_keys_rows_and_keeps_the_others(tmp_path):
    url = str(tmp_path / "m.zarr")

    def rows(sids, value):
        return xr.Dataset({"sid": ("obs", np.array(sids)), "v": ("obs", np.full(len(sids), value, "f4"))})

    assert store.merge(rows(["a", "a", "b"], 1.0), url, key="sid", dim="obs").written == 3
    assert store.merge(rows(["a", "a", "b"], 1.0), url, key="sid", dim="obs").written == 0  # the same again
    store.merge(rows(["b", "c"], 2.0), url, key="sid", dim="obs")
    ds = _open(url)
    assert ds["sid"].values.astype(str).tolist() == ["a", "a", "b", "c"]
    assert ds["v"].values.tolist() == [1.0, 1.0, 2.0, 2.0]
