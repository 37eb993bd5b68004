"""GOES ABI reader on the real bundled samples: values, conversions, geolocation, errors, remote."""

from __future__ import annotations

import hashlib
import json
import shutil

import netCDF4
import numpy as np
import pandas as pd
import pyproj
import pytest

from geopipe import store
from geopipe.cli import main
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sources.goes import GOESReader, list_remote, parse_name
from tests.support.netcdf import copy_netcdf_without

C01 = "OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc"
C03 = "OR_ABI-L2-CMIPM1-M3C03_G16_s20171931811268_e20171931811326_c20171931811389.nc"
C08 = "OR_ABI-L1b-RadC-M3C08_G16_s20171921817189_e20171921819562_c20171921820002.nc"
C13 = "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc"
C13_NOAA = "OR_ABI-L2-CMIPM1-M6C13_G16_s20230011800281_e20230011800350_c20230011800425.nc"


@pytest.fixture(scope="module")
def goes(sample_dir):
    return sample_dir / "goes"


def _manual_decode(var) -> np.ndarray:
    """Independent of netCDF4's decoding: raw ints, _Unsigned, fill, valid_range, scale/offset by hand (float64)."""
    var.set_auto_maskandscale(False)
    raw = np.asarray(var[:])
    valid = np.asarray(getattr(var, "valid_range", [raw.min(), raw.max()]), dtype=raw.dtype)
    fill = np.asarray(var._FillValue, dtype=raw.dtype)
    if str(getattr(var, "_Unsigned", "false")).lower() == "true":
        unsigned = raw.dtype.str.replace("i", "u")
        raw, valid, fill = raw.view(unsigned), valid.view(unsigned), fill.view(unsigned)
    out = raw.astype("f8") * float(getattr(var, "scale_factor", 1.0)) + float(getattr(var, "add_offset", 0.0))
    out[(raw == fill) | (raw < valid[0]) | (raw > valid[1])] = np.nan
    return out


def test_parse_name_reads_noaa_file_names():
    info = parse_name("s3://noaa-goes16/ABI-L2-CMIPF/2023/001/18/OR_ABI-L2-CMIPF-M6C13_G16_s20230011800205_e2_c3.nc")
    assert info == {"product": "ABI-L2-CMIPF", "mode": 6, "band": 13, "satellite": "goes16",
                    "start": pd.Timestamp("2023-01-01T18:00:20.5")}
    assert parse_name(C08)["start"] == pd.Timestamp("2017-07-11T18:17:18.9")
    assert parse_name("OR_ABI-L2-AODC-M6_G16_s20192491826095_e1_c2.nc")["band"] is None
    assert parse_name("notes.txt") is None


def test_two_bands_of_one_meso_scene_share_a_store(goes, root):
    for name in (C01, C03):
        report = ingest("goes", [str(goes / name)], "meso.zarr", strict=True)
        assert report.files == 1
    ds = store.open_store("meso.zarr")
    assert ds.sizes == {"time": 1, "y": 1000, "x": 1000}
    assert ds.time.values[0] == np.datetime64("2017-07-12T18:11:26.800")
    for name, band in ((C01, 1), (C03, 3)):
        with netCDF4.Dataset(goes / name) as nc:
            decoded = np.ma.filled(nc["CMI"][:].astype("f4"), np.nan)
            manual = _manual_decode(nc["CMI"])
            dqf = np.ma.filled(nc["DQF"][:].astype("f4"), np.nan)
            x, y = nc["x"][:], nc["y"][:]
        cmi = ds[f"CMI_C{band:02d}"]
        assert cmi.dims == ("time", "y", "x")
        np.testing.assert_array_equal(cmi.values[0], decoded)
        np.testing.assert_allclose(cmi.values[0], manual, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(ds[f"DQF_C{band:02d}"].values[0], dqf)
        np.testing.assert_allclose(ds.x.values, x, atol=1e-8)
        np.testing.assert_allclose(ds.y.values, y, atol=1e-8)
        assert cmi.attrs["units"] == "1" and cmi.attrs["grid_mapping"] == "goes_imager_projection"
        assert cmi.attrs["band_id"] == band and cmi.attrs["ancillary_variables"] == f"DQF_C{band:02d}"
    proj = ds.goes_imager_projection.attrs
    assert proj["grid_mapping_name"] == "geostationary" and proj["longitude_of_projection_origin"] == -89.5
    # a re-run of both files writes nothing and leaves the values alone
    again = [ingest("goes", [str(goes / n)], "meso.zarr", strict=True) for n in (C01, C03)]
    assert [(r.written, r.skipped) for r in again] == [(0, 1), (0, 1)]
    np.testing.assert_array_equal(store.open_store("meso.zarr").CMI_C03.values, ds.CMI_C03.values)


def test_l1b_radiance_becomes_brightness_temperature_with_geolocation(goes, root):
    ingest("goes", [str(goes / C08)], "c08.zarr", strict=True)
    ds = store.open_store("c08.zarr")
    with netCDF4.Dataset(goes / C08) as nc:
        rad = _manual_decode(nc["Rad"])
        fk1, fk2, bc1, bc2 = (float(nc[f"planck_{k}"][...]) for k in ("fk1", "fk2", "bc1", "bc2"))
        x, y = nc["x"][:].astype("f8"), nc["y"][:].astype("f8")
        p = nc["goes_imager_projection"]
        h, lon0 = p.perspective_point_height, p.longitude_of_projection_origin
        geos = pyproj.Proj(proj="geos", h=h, lon_0=lon0, a=p.semi_major_axis, b=p.semi_minor_axis,
                           sweep=p.sweep_angle_axis)
    bt = (fk2 / np.log(fk1 / rad + 1) - bc1) / bc2
    assert "Rad" not in ds and "CMI_C08" not in ds
    out = ds.BT_C08.values[0]
    np.testing.assert_allclose(out, bt, rtol=2e-6)
    assert 190 < np.nanmin(out) < np.nanmax(out) < 260  # 6.2 um water vapour: cold upper troposphere
    assert ds.BT_C08.attrs["standard_name"] == "toa_brightness_temperature" and ds.BT_C08.attrs["units"] == "K"
    assert float(ds.satellite_longitude[0]) == -89.5
    # every 7th row, 11th column against pyproj's Proj API
    xx, yy = np.meshgrid(x[::11] * h, y[::7] * h)
    lon, lat = geos(xx, yy, inverse=True)
    np.testing.assert_allclose(ds.longitude.values[::7, ::11], lon, atol=1e-4)
    np.testing.assert_allclose(ds.latitude.values[::7, ::11], lat, atol=1e-4)
    assert 14 < float(ds.latitude.min()) and float(ds.latitude.max()) < 53  # the CONUS sector


def test_l1b_reflective_band_becomes_reflectance_factor(goes, tmp_path):
    path = tmp_path / C08.replace("C08", "C01")
    shutil.copy(goes / C08, path)
    with netCDF4.Dataset(path, "a") as nc:  # the same radiances as if band 1, with a real kappa0
        nc["band_id"][:] = 1
        nc["kappa0"][...] = 0.0033911
        rad = _manual_decode(nc["Rad"])
    ds = GOESReader().open_dataset(str(path))
    assert set(ds.data_vars) == {"RF_C01", "DQF_C01", "goes_imager_projection"}
    np.testing.assert_allclose(ds.RF_C01.values[0], np.float32(0.0033911) * rad, rtol=2e-6)
    assert ds.RF_C01.attrs["standard_name"] == "toa_bidirectional_reflectance"


def test_subset_c13_ingests_with_band_from_dataset_name(goes, root):
    ingest("goes", [str(goes / C13)], "c13.zarr", strict=True)
    ds = store.open_store("c13.zarr")
    with netCDF4.Dataset(goes / C13) as nc:
        manual = _manual_decode(nc["CMI"])
    assert ds.sizes == {"time": 1, "y": 24, "x": 24}
    np.testing.assert_allclose(ds.CMI_C13.values[0], manual, rtol=1e-6)
    assert 277 < float(ds.CMI_C13.min()) < float(ds.CMI_C13.max()) < 290
    assert ds.CMI_C13.attrs["standard_name"] == "toa_brightness_temperature"
    assert ds.time.values[0] == np.datetime64("2023-01-01T18:00:28.100")
    assert float(ds.satellite_longitude[0]) == -75.0


def test_missing_projection_and_corrupt_header_are_input_errors(goes, tmp_path, root):
    no_proj = tmp_path / "no_projection.nc"
    copy_netcdf_without(goes / C13, no_proj, "goes_imager_projection")
    corrupt = tmp_path / "corrupt.nc"
    data = bytearray((goes / C13).read_bytes())
    data[:16] = b"\x00" * 16
    corrupt.write_bytes(bytes(data))
    for path, problem in ((no_proj, "no goes_imager_projection variable"), (corrupt, "not a readable NetCDF-4 file")):
        with pytest.raises(InputError) as err:
            ingest("goes", [str(path)], "bad.zarr", strict=True)
        assert err.value.path == str(path) and problem in err.value.problem
        assert "\n" not in str(err.value)
    report = ingest("goes", [str(no_proj), str(corrupt)], "bad.zarr")
    assert len(report.quarantined) == 2 and report.files == 0
    assert not store.exists("bad.zarr")


def _moved_scene(goes, tmp_path, minutes: int):
    """The C13 subset as if the mesoscale sector moved 10 pixels east ``minutes`` later."""
    path = tmp_path / f"moved{minutes}.nc"
    shutil.copy(goes / C13, path)
    with netCDF4.Dataset(path, "a") as nc:
        nc["x"].add_offset = np.float32(nc["x"].add_offset + 10 * nc["x"].scale_factor)
        nc.time_coverage_start = f"2023-01-01T18:{minutes:02d}:28.1Z"
    return path


def test_moving_sectors_stack_on_a_catalog_grid_through_the_cli(goes, tmp_path, root, capsys):
    moved = _moved_scene(goes, tmp_path, 1)
    ingest("goes", [str(goes / C13)], "native.zarr", strict=True)
    with pytest.raises(InputError, match="different grid") as err:  # names the input, not only the store
        ingest("goes", [str(moved)], "native.zarr", strict=True)
    assert str(moved) in str(err.value)
    for path in (goes / C13, moved):
        assert main(["ingest", "goes", str(path), "--store", "grid.zarr", "--grid", "conus_0p1", "--method", "nearest"]) == 0
    assert main(["ingest", "goes", str(moved), "--store", "grid.zarr", "--grid", "no_such_grid"]) == 2
    assert "no grid named 'no_such_grid'" in capsys.readouterr().err
    ds = store.open_store("grid.zarr")
    assert dict(ds.sizes) == {"time": 2, "latitude": 301, "longitude": 601}
    assert ds.CMI_C13.dims == ("time", "latitude", "longitude") and "x" not in ds.dims
    valid = ds.CMI_C13.notnull().values
    assert valid[0].any() and valid[1].any() and (valid[0] != valid[1]).any()  # the sector moved
    native = store.open_store("native.zarr")
    # nearest neighbour: every gridded value is one of the scene's pixel values
    assert np.isin(ds.CMI_C13.values[0][valid[0]], native.CMI_C13.values[0]).all()


@pytest.fixture(scope="module")
def noaa_s3(goes):
    """A moto S3 server on loopback with the real samples in NOAA's goes16 bucket layout."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="noaa-goes16")
    keys = {C01: "ABI-L2-CMIPM/2017/193/18/" + C01, C03: "ABI-L2-CMIPM/2017/193/18/" + C03,
            C08: "ABI-L1b-RadC/2017/192/18/" + C08, C13: "ABI-L2-CMIPM/2023/001/18/" + C13_NOAA}
    for name, key in keys.items():  # public-read, as NOAA's open-data buckets are
        s3.put_object(Bucket="noaa-goes16", Key=key, Body=(goes / name).read_bytes(), ACL="public-read")
    # the same C13 bytes as a Meso-2 file, and one an hour later: for the sector and time filters
    for key in ("ABI-L2-CMIPM/2023/001/18/" + C13_NOAA.replace("CMIPM1", "CMIPM2"),
                "ABI-L2-CMIPM/2023/001/19/" + C13_NOAA.replace("s2023001180", "s2023001190")):
        s3.put_object(Bucket="noaa-goes16", Key=key, Body=(goes / C13).read_bytes(), ACL="public-read")
    yield {"anon": True, "client_kwargs": {"endpoint_url": endpoint}}
    server.stop()


def test_list_remote_filters_by_product_band_and_time(noaa_s3):
    def ls(product, start, end, bands=None):
        return [u.rsplit("/", 1)[1] for u in list_remote("goes16", product, start, end, bands, noaa_s3)]

    m2 = C13_NOAA.replace("CMIPM1", "CMIPM2")
    later = C13_NOAA.replace("s2023001180", "s2023001190")
    assert ls("ABI-L2-CMIPM", "2017-07-12T18:00", "2017-07-12T19:00") == [C01, C03]
    assert ls("ABI-L2-CMIPM1", "2017-07-12T18:00Z", "2017-07-12T19:00Z", bands=[3]) == [C03]
    assert ls("ABI-L2-CMIPM", "2017-07-12T18:11:27", "2017-07-12T19:00") == []  # they start at 18:11:26.8
    assert ls("ABI-L2-CMIPM1", "2023-01-01T17:30", "2023-01-01T19:30") == [C13_NOAA, later]
    assert ls("ABI-L2-CMIPM1", "2023-01-01T17:30", "2023-01-01T19:00:28.1") == [C13_NOAA]  # the end is exclusive
    assert ls("ABI-L2-CMIPM", "2023-01-01T18:00", "2023-01-01T19:00") == [C13_NOAA, m2]
    assert ls("ABI-L2-CMIPM2", "2023-01-01T18:00", "2023-01-01T19:00") == [m2]
    assert ls("ABI-L1b-RadC", "2017-07-11T18:00", "2017-07-11T18:30", bands=[8, 13]) == [C08]
    assert ls("ABI-L1b-RadC", "2017-07-11T18:00", "2017-07-11T18:30", bands=[13]) == []
    assert ls("ABI-L2-CMIPF", "2017-07-11T18:00", "2017-07-11T20:00") == []


def test_remote_files_are_fetched_and_ingested(noaa_s3, goes, root, capsys):
    endpoint = noaa_s3["client_kwargs"]["endpoint_url"]
    argv = ["ingest", "goes", "--store", "remote.zarr", "--satellite", "goes16", "--product", "ABI-L2-CMIPM1",
            "--bands", "1,3", "--start", "2017-07-12T18:00", "--end", "2017-07-12T19:00", "--endpoint-url", endpoint, "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 2 and report["written"] == 1 and not report["quarantined"]
    ds = store.open_store("remote.zarr")
    local = GOESReader().open_dataset(str(goes / C03))
    np.testing.assert_array_equal(ds.CMI_C03.values, local.CMI_C03.values)
    sources = {s["path"].rsplit("/", 1)[1]: s["sha256"] for s in store.sources_of("remote.zarr")}
    assert sources[C03] == hashlib.sha256((goes / C03).read_bytes()).hexdigest()
    assert main(argv[:-1]) == 0  # a re-run writes nothing
    assert "0 new steps, 2 already present" in capsys.readouterr().out
    missing = "s3://noaa-goes16/ABI-L2-CMIPM/2017/193/18/OR_ABI-L2-CMIPM1-M3C02_G16_s20171931811268_e1_c2.nc"
    with pytest.raises(InputError, match="no such remote file"):
        ingest("goes", [missing], "remote.zarr", strict=True, remote_options=noaa_s3)
