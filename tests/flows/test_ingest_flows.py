"""Ingest flows: tasks per file, caching, and Dask distributed producing the same store."""

from __future__ import annotations

import shutil

import numpy as np
import xarray as xr

GOES = ["OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc",
        "OR_ABI-L2-CMIPM1-M3C03_G16_s20171931811268_e20171931811326_c20171931811389.nc"]


def _inputs(sample_dir, tmp_path):
    folder = tmp_path / "goes-in"
    folder.mkdir()
    for name in GOES:
        shutil.copy(sample_dir / "goes" / name, folder / name)
    return [str(folder)]


def test_ingest_flow_local_and_on_dask_cluster_give_the_same_store(prefect_harness, sample_dir, tmp_path):
    from flows.ingest import ingest_goes

    inputs = _inputs(sample_dir, tmp_path)
    local = ingest_goes(inputs=inputs, store=str(tmp_path / "local.zarr"))
    dask = ingest_goes(inputs=inputs, store=str(tmp_path / "dask.zarr"), dask_address="local")
    assert local["files"] == dask["files"] == 2 and not local["quarantined"]
    a = xr.open_zarr(tmp_path / "local.zarr", consolidated=False).load()
    b = xr.open_zarr(tmp_path / "dask.zarr", consolidated=False).load()
    # the two bands' tasks finish in either order: the same variables, the same values
    assert sorted(a.variables) == sorted(b.variables)
    for name in a.variables:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_ingest_flow_rerun_is_cached_and_writes_nothing(prefect_harness, sample_dir, tmp_path):
    from flows.ingest import ingest_goes

    inputs = _inputs(sample_dir, tmp_path)
    store = str(tmp_path / "s.zarr")
    first = ingest_goes(inputs=inputs, store=store)
    state = ingest_goes(inputs=inputs, store=store, return_state=True)
    second = state.result()
    assert first["written"] >= 1 and second["written"] == 0
    assert xr.open_zarr(store, consolidated=False).sizes["time"] == 1


def test_gfs_cycles_over_http_land_in_time_order(prefect_harness, tmp_path):
    """Parallel downloads (.idx byte ranges over HTTP), appends in time order."""
    import pandas as pd

    from flows.ingest import ingest_gfs
    from geopipe.sample.generate import generate
    from geopipe.sample.server import FileServer

    generate(tmp_path / "archive", seed=3, days=2, res=4.0, n_tropical=2, n_extratropical=2, goes_times=0)
    cycles = [f"{t:%Y-%m-%dT%H}" for t in pd.date_range("2024-09-01", periods=8, freq="6h")]
    store = str(tmp_path / "gfs.zarr")
    with FileServer(tmp_path / "archive") as server:
        report = ingest_gfs(cycles=cycles[::-1], remote=server.url + "/gfs", resolution="4p00", store=store,
                            vars=["pwat", "prmsl"])
        ranged = [r for r in server.requests if r["range"]]
    assert report["files"] == 8 and report["written"] == 8
    assert ranged and all(r["path"].endswith((".f000", ".idx")) for r in server.requests)
    ds = xr.open_zarr(store, consolidated=False)
    assert list(ds.time.values) == list(pd.to_datetime(cycles).values)  # sorted, whatever the finishing order
    assert set(ds.data_vars) == {"pwat", "prmsl"}
