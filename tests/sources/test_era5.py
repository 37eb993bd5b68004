"""The ERA5 source on the bundled real CDS NetCDF files, the older CDS layout, ARCO-ERA5 served on
loopback, and the detector/labels run unchanged on the ERA5 store (real ERA5, 2.5 deg, Dec 2025 - Jan 2026)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.cli import main
from geopipe.labels import tefiles
from geopipe.sample.server import FileServer
from geopipe.sources import get_reader

MONTHS = ("202512", "202601")


def era5_file(sample_dir, var, month):
    return str(sample_dir / "era5" / f"era5_{var}_{month}_2.5deg.nc")


def test_ingest_merges_single_and_pressure_level_files_into_one_store(sample_dir, root, capsys):
    files = [era5_file(sample_dir, v, m) for v in ("msl", "vo850") for m in MONTHS]
    assert main(["ingest", "era5", *files, "--store", "era5.zarr", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 4
    ds = xr.open_zarr(root / "era5.zarr", consolidated=False)
    assert set(ds.data_vars) == {"msl", "vo850"} and dict(ds.sizes) == {"time": 248, "latitude": 73, "longitude": 144}
    assert ds["msl"].attrs["standard_name"] == "air_pressure_at_mean_sea_level"
    raw = xr.open_dataset(files[3])  # vo, January, on pressure_level 850
    np.testing.assert_array_equal(ds["vo850"].sel(time=raw["valid_time"]).values, raw["vo"].isel(pressure_level=0).values)
    assert ds["vo850"].attrs["level"] == 850.0
    # a re-run writes nothing
    assert main(["ingest", "era5", *files, "--store", "era5.zarr", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 0


def test_the_older_cds_layout_reads_the_same(sample_dir, tmp_path):
    new = xr.open_dataset(era5_file(sample_dir, "vo850", "202512"))
    # before 2024 the CDS wrote time/level and, across the ERA5T boundary, an expver dimension
    old = new.rename(valid_time="time", pressure_level="level").drop_vars(["expver", "number"])
    half = old["vo"].where(old["time"] < np.datetime64("2025-12-20"))
    rest = old["vo"].where(old["time"] >= np.datetime64("2025-12-20"))
    old = xr.Dataset({"vo": xr.concat([half, rest], pd.Index(["0001", "0005"], name="expver"))})
    old.to_netcdf(tmp_path / "old.nc")
    a = get_reader("era5").open_dataset(era5_file(sample_dir, "vo850", "202512"))
    b = get_reader("era5").open_dataset(str(tmp_path / "old.nc"))
    np.testing.assert_array_equal(a["vo850"].values, b["vo850"].values)


def test_a_bad_file_is_one_clear_line(tmp_path, root, capsys):
    bad = tmp_path / "broken.nc"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert main(["ingest", "era5", str(bad), "--store", "e.zarr"]) != 0
    err = capsys.readouterr().err.strip()
    assert "broken.nc" in err and "\n" not in err and not (root / "e.zarr").exists()


def test_grib_is_read_through_the_grib_module(sample_dir, tmp_path):
    import eccodes  # after geopipe (import order)

    src = sample_dir / "era5" / "era5-single-level-scalar-time.grib"  # real ERA5, GRIB edition 1
    with open(src, "rb") as fh:
        h = eccodes.codes_grib_new_from_file(fh)
    values = eccodes.codes_get_values(h).reshape(eccodes.codes_get(h, "Nj"), eccodes.codes_get(h, "Ni"))
    eccodes.codes_set(h, "edition", 2)  # the same message as GRIB2
    with open(tmp_path / "t2m.grib2", "wb") as out:
        eccodes.codes_write(h, out)
    eccodes.codes_release(h)
    ds = get_reader("era5").open_dataset(str(tmp_path / "t2m.grib2"))
    assert list(ds.data_vars) == ["t2m"] and pd.Timestamp(ds["time"].values[0]) == pd.Timestamp("2017-01-01T12")
    np.testing.assert_allclose(ds["t2m"].values[0], values, rtol=1e-6)
    # edition 1 itself: decoded the same once the grib module reads GRIB1, else one clear line naming the file
    from geopipe.errors import InputError

    try:
        one = get_reader("era5").open_dataset(str(src))
    except InputError as exc:
        assert str(src) in str(exc) and "edition 1" in str(exc) and "\n" not in str(exc)
    else:
        np.testing.assert_allclose(one["t2m"].values[0], values, rtol=1e-6)


def arco_layout(sample_dir, days=2) -> xr.Dataset:
    """A small Zarr in ARCO-ERA5's layout (long names, a level dimension) from the real fields."""
    msl = get_reader("era5").open_dataset(era5_file(sample_dir, "msl", "202512"))["msl"]
    vo = get_reader("era5").open_dataset(era5_file(sample_dir, "vo850", "202512"))["vo850"]
    n = 4 * days + 4
    vort = xr.concat([vo.isel(time=slice(0, n)) * 0.5, vo.isel(time=slice(0, n))], pd.Index([500, 850], name="level"))
    return xr.Dataset({"mean_sea_level_pressure": msl.isel(time=slice(0, n)).drop_attrs(),
                       "vorticity": vort.transpose("time", "level", "latitude", "longitude").drop_attrs()})


def test_arco_era5_by_time_range_and_variables_over_loopback(sample_dir, tmp_path, root, capsys):
    bucket = tmp_path / "gcs" / "gcp-public-data-arco-era5" / "ar"
    bucket.mkdir(parents=True)
    arco_layout(sample_dir).chunk({"time": 1, "level": 1}).to_zarr(bucket / "mini.zarr-v3", zarr_format=2, consolidated=True)
    with FileServer(tmp_path / "gcs") as server:
        args = ["ingest", "era5", "gs://gcp-public-data-arco-era5/ar/mini.zarr-v3", "--store", "arco.zarr",
                "--start", "2025-12-01T06", "--end", "2025-12-02T00", "--variables", "msl,vorticity@850",
                "--gcs-endpoint", server.url, "--json"]
        assert main(args) == 0
        paths = [r["path"] for r in server._httpd.requests]
    capsys.readouterr()
    ds = xr.open_zarr(root / "arco.zarr", consolidated=False)
    assert set(ds.data_vars) == {"msl", "vo850"} and ds.sizes["time"] == 4
    assert pd.Timestamp(ds["time"].values[0]) == pd.Timestamp("2025-12-01T06")
    real = get_reader("era5").open_dataset(era5_file(sample_dir, "vo850", "202512"))
    np.testing.assert_array_equal(ds["vo850"].values, real["vo850"].isel(time=slice(1, 5)).values)
    # only the chunks asked for: vorticity chunks are time.level.lat.lon; no 500 hPa (level 0), no time 0 or 5+
    got = {p.rsplit("/", 1)[1] for p in paths if "/vorticity/" in p and p[-1].isdigit()}
    assert got == {f"{t}.1.0.0" for t in range(1, 5)}


@pytest.fixture()
def week_store(sample_dir, root):
    r = get_reader("era5")
    ds = xr.merge([r.open_dataset(era5_file(sample_dir, v, "202512")).isel(time=slice(0, 28)) for v in ("msl", "vo850")])
    store.append(ds, str(root / "era5w.zarr"), chunks={"time": 8})
    return root / "era5w.zarr"


def test_heuristic_labels_run_unchanged_on_era5_and_write_te_files(sample_dir, week_store, root, tmp_path, capsys):
    nodes_out, tracks_out = tmp_path / "nodes.txt", tmp_path / "tracks.txt"
    assert main(["labels", "heuristic", "--store", str(week_store), "--out", str(root / "h.zarr"), "--mask", "radius",
                 "--nodes-out", str(nodes_out), "--tracks-out", str(tracks_out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # no thickness in the store: the lows are "cyclone", none tropical
    assert summary["tracks_by_kind"]["tropical"] == 0 and summary["tracks_by_kind"]["cyclone"] > 20
    ours, times = tefiles.read_nodes(nodes_out, ["MSL", "VOS850"])
    ref, _ = tefiles.read_nodes(sample_dir / "era5" / "tempestextremes" / "te_nodes_202512_202601.txt.gz", ["MSL", "VOS850"])
    ref = ref[ref["time"].isin(times)]
    assert len(times) == 28 and len(ours) == len(ref)
    pd.testing.assert_frame_equal(ours[["time", "i", "j"]].reset_index(drop=True), ref[["time", "i", "j"]].reset_index(drop=True))
    np.testing.assert_allclose(ours["MSL"], ref["MSL"], rtol=1e-6)
    tracks = tefiles.read_tracks(tracks_out, ["MSL", "VOS850"])
    assert tracks["track"].nunique() == summary["tracks"]


def test_labels_from_tempestextremes_track_file(sample_dir, week_store, root, capsys):
    te_tracks = sample_dir / "era5" / "tempestextremes" / "te_tracks_202512_202601.txt.gz"
    out = root / "labels" / "te.zarr"
    assert main(["labels", "tracks", "--tracks", str(te_tracks), "--grid-store", str(week_store), "--out", str(out),
                 "--radius-km", "400", "--columns", "MSL,VOS850", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["written"] == 28 and s["kind"] == "tracks" and s["nodes"] > 100
    mask = xr.open_zarr(out, consolidated=False)["mask"]
    tracks = tefiles.read_tracks(te_tracks, ["MSL", "VOS850"])
    first = tracks[tracks["time"] == pd.Timestamp("2025-12-01")]
    m0 = mask.sel(time="2025-12-01T00").values
    assert all(m0[j, i] == 1 for i, j in zip(first["i"], first["j"]))
    assert 0 < m0.mean() < 0.5
