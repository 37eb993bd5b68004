"""GFSReader on the bundled GRIB2 samples and on GRIB2 edited from them with eccodes.

Every value check compares the store with eccodes' own decoding of the same message, at
every grid point (tests/sources/gribdata.py reads with eccodes alone).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import store
from geopipe.errors import InputError
from geopipe.ingest import ingest
from tests.sources import gribdata
from tests.sources.gribdata import GDAS, SAMPLE, edit, pick


@pytest.fixture(scope="module")
def sample():
    return gribdata.fields(SAMPLE)


def _open(path) -> xr.Dataset:
    return xr.open_zarr(path, consolidated=False)


def test_selected_fields_equal_eccodes_everywhere_and_reingest_is_idempotent(tmp_path, sample):
    src = tmp_path / "in" / SAMPLE.name
    src.parent.mkdir()
    shutil.copy(SAMPLE, src)
    out = tmp_path / "gfs.zarr"
    argv = ["ingest", "gfs", str(src), "--store", str(out), "--vars", "pwat,prmsl,u10,v10,absv:850"]
    assert gribdata.ingest_cli(argv) == 0
    ds = _open(out).load()
    assert dict(ds.sizes) == {"time": 1, "latitude": 73, "longitude": 144}
    assert ds.pwat.dims == ("time", "latitude", "longitude") and ds.pwat.dtype == np.float32
    np.testing.assert_array_equal(ds.latitude, pick(sample, "pwat")["latitudes"])  # 90 -> -90, as in the file
    np.testing.assert_array_equal(ds.longitude, pick(sample, "pwat")["longitudes"])
    assert ds.time.values[0] == np.datetime64("2011-01-15T12") and ds.init_time.values[0] == np.datetime64("2011-01-10T12")
    assert ds.step.values[0] == np.timedelta64(120, "h")
    specs = {"pwat": ("pwat",), "prmsl": ("prmsl",), "u10": ("10u",), "v10": ("10v",),
             "absv850": ("absv", "isobaricInhPa", 850)}
    for name, spec in specs.items():
        np.testing.assert_array_equal(ds[name].values[0], pick(sample, *spec)["values"], err_msg=name)
    assert ds.pwat.attrs["units"] == "kg m-2" and ds.pwat.attrs["standard_name"] == "atmosphere_mass_content_of_water_vapor"
    assert ds.u10.attrs["standard_name"] == "eastward_wind" and ds.u10.attrs["GRIB_shortName"] == "10u"
    assert ds.absv850.attrs["GRIB_level"] == 850 and ds.absv850.attrs["GRIB_level_units"] == "hPa"
    assert ds.prmsl.attrs["GRIB_stepType"] == "instant" and ds.prmsl.attrs["units"] == "Pa"
    assert ds.step.attrs["standard_name"] == "forecast_period"
    assert sorted(p.name for p in src.parent.iterdir()) == [SAMPLE.name]  # no cfgrib .idx left beside the input

    again = ingest("gfs", [str(src)], str(out), vars=["pwat", "prmsl", "u10", "v10", "absv:850"])
    assert (again.written, again.skipped) == (0, 1)
    xr.testing.assert_identical(_open(out).load(), ds)
    assert len(store.sources_of(str(out))) == 1


def test_every_field_without_vars(tmp_path, sample):
    report = ingest("gfs", [str(SAMPLE)], str(tmp_path / "all.zarr"), strict=True)
    ds = _open(tmp_path / "all.zarr")
    assert report.written == 1 and len(ds.data_vars) == len(sample) == 343
    # 10 m wind and the wind at 10 hPa are different variables
    assert ds.u10.attrs["GRIB_typeOfLevel"] == "heightAboveGround" and ds.u10hPa.attrs["GRIB_level"] == 10
    np.testing.assert_array_equal(ds.u10hPa.values[0], pick(sample, "u", "isobaricInhPa", 10)["values"])
    # NCEP's -2 PVU surface is written sign-magnitude (level 2147485648 to eccodes)
    assert ds.u_potentialVorticitym2.attrs["GRIB_level"] == -2 and ds.u_potentialVorticity2.attrs["GRIB_level"] == 2
    np.testing.assert_array_equal(ds.u_potentialVorticitym2.values[0],
                                  pick(sample, "u", "potentialVorticity", 2147485648)["values"])
    # layers keep both surfaces; soil has a bitmap (NaN over the sea)
    soil = ds.soilw_depthBelowLandLayer0p1_0p4
    assert (soil.attrs["GRIB_level"], soil.attrs["GRIB_level2"]) == (0.1, 0.4)
    assert np.isnan(soil.values).any() and not np.isnan(soil.values).all()
    assert ds.tcc.attrs["GRIB_stepType"] == "avg"  # only the 114-120 h average exists


def test_gdas_quarter_degree_message_without_vars(tmp_path):
    [field] = gribdata.fields(GDAS)
    ingest("gfs", [str(GDAS)], str(tmp_path / "gdas.zarr"), strict=True)
    ds = _open(tmp_path / "gdas.zarr")
    assert list(ds.data_vars) == ["VRATE_planetaryBoundaryLayer"]
    assert dict(ds.sizes) == {"time": 1, "latitude": 721, "longitude": 1440}
    assert ds.latitude.values[0] == 90 and ds.longitude.values[-1] == 359.75
    np.testing.assert_array_equal(ds.VRATE_planetaryBoundaryLayer.values[0], field["values"])
    assert ds.time.values[0] == np.datetime64("2023-01-11T12") and ds.step.values[0] == np.timedelta64(0)


def test_instant_preferred_never_mixed_and_shortest_accumulation(tmp_path, sample):
    tcc, tp = pick(sample, "tcc", "atmosphereSingleLayer"), pick(sample, "tp")
    instant = edit(tcc["message"], productDefinitionTemplateNumber=0, forecastTime=120, values=tcc["values"] * 0.5)
    total = edit(tp["message"], forecastTime=0, lengthOfTimeRange=120, values=tp["values"] * 3)  # 0-120 h
    both = tmp_path / "both.grib2"
    both.write_bytes(tcc["message"] + instant + total + tp["message"])
    out = tmp_path / "s.zarr"
    ingest("gfs", [str(both)], str(out), strict=True)
    ds = _open(out)
    assert sorted(ds.data_vars) == ["tcc", "tp"]
    assert ds.tcc.attrs["GRIB_stepType"] == "instant"
    np.testing.assert_array_equal(ds.tcc.values[0], pick(gribdata.fields(both), "tcc", step_type="instant")["values"])
    np.testing.assert_array_equal(ds.tp.values[0], tp["values"])  # the 6-hour bucket, not 0-120 h
    only_avg = tmp_path / "avg.grib2"
    only_avg.write_bytes(tcc["message"])
    with pytest.raises(InputError, match=r"avg.grib2: tcc is avg here but instant in .*never mixes"):
        ingest("gfs", [str(only_avg)], str(out), strict=True)


def test_levels_in_pa_next_to_hpa(tmp_path, sample):
    t850 = pick(sample, "t", "isobaricInhPa", 850)["message"]
    pa40 = edit(t850, typeOfLevel="isobaricInPa", level=40)  # 0.4 hPa, written in Pa
    hpa700 = edit(t850, scaleFactorOfFirstFixedSurface=-4, scaledValueOfFirstFixedSurface=7)  # 7e4 Pa
    path = tmp_path / "levels.grib2"
    path.write_bytes(t850 + pa40 + hpa700)
    ingest("gfs", [str(path)], str(tmp_path / "a.zarr"), strict=True)
    ds = _open(tmp_path / "a.zarr")
    assert sorted(ds.data_vars) == ["t0p4", "t700", "t850"]
    assert ds.t0p4.attrs["GRIB_typeOfLevel"] == "isobaricInPa" and ds.t0p4.attrs["GRIB_level"] == 0.4
    assert ds.t0p4.attrs["GRIB_level_units"] == "hPa"
    ingest("gfs", [str(path)], str(tmp_path / "b.zarr"), strict=True, vars=["t:0.4", "t:700"])
    sel = _open(tmp_path / "b.zarr")
    assert sorted(sel.data_vars) == ["t0p4", "t700"]
    fields = gribdata.fields(path)
    np.testing.assert_array_equal(sel.t0p4.values[0], pick(fields, "t", "isobaricInPa", 40)["values"])
    np.testing.assert_array_equal(sel.t700.values[0], pick(fields, "t", "isobaricInhPa", 700)["values"])


def test_gaussian_grid_kept_as_it_is(tmp_path, sample):
    path = tmp_path / "gg.grib2"
    path.write_bytes(gribdata.gaussian(pick(sample, "prmsl")["message"]))
    [field] = gribdata.fields(path)
    ingest("gfs", [str(path)], str(tmp_path / "gg.zarr"), strict=True)
    ds = _open(tmp_path / "gg.zarr")
    assert ds.prmsl.attrs["GRIB_gridType"] == "regular_gg" and dict(ds.sizes) == {"time": 1, "latitude": 72, "longitude": 144}
    np.testing.assert_array_equal(ds.latitude, field["latitudes"])
    assert np.ptp(np.diff(ds.latitude.values)) > 1e-3  # uneven Gaussian latitudes, not regridded
    np.testing.assert_array_equal(ds.prmsl.values[0], field["values"])
    mixed = tmp_path / "mixed.grib2"
    mixed.write_bytes(path.read_bytes() + pick(sample, "pwat")["message"])
    with pytest.raises(InputError, match=r"mixed.grib2: .* are on different grids"):
        ingest("gfs", [str(mixed)], str(tmp_path / "m.zarr"), strict=True)


def test_reduced_gaussian_grid_refused(tmp_path):
    path = tmp_path / "reduced.grib2"
    path.write_bytes(gribdata.reduced_gaussian())
    with pytest.raises(InputError, match=r"reduced.grib2: .* is on a reduced_gg grid; only regular_ll and regular_gg"):
        ingest("gfs", [str(path)], str(tmp_path / "r.zarr"), strict=True)
    assert not (tmp_path / "r.zarr").exists()


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "cut.grib2"
    path.write_bytes(SAMPLE.read_bytes()[:2_000_000])  # mid-message
    with pytest.raises(InputError, match=rf"{path}: truncated: the GRIB message at byte \d+ needs"):
        gribdata.ingest_cli(["ingest", "gfs", str(path), "--store", str(tmp_path / "t.zarr")])
    assert not (tmp_path / "t.zarr").exists()
    report = ingest("gfs", [str(path), str(GDAS)], str(tmp_path / "t.zarr"))  # a batch: quarantined, rest ingested
    assert report.files == 1 and "truncated" in report.quarantined[0]["reason"]


def test_selections_name_fields_and_missing_ones(tmp_path, sample):
    with pytest.raises(InputError, match=r"no field 'absv:123' in the file"):
        ingest("gfs", [str(SAMPLE)], str(tmp_path / "x.zarr"), strict=True, vars=["pwat", "absv:123"])
    # "u:10" is u at 10 hPa, not the catalog's u10 (10 m); "t:tropopause" takes a typeOfLevel
    ingest("gfs", [str(SAMPLE)], str(tmp_path / "s.zarr"), strict=True, vars=["u:10", "u10", "t:tropopause"])
    ds = _open(tmp_path / "s.zarr")
    assert sorted(ds.data_vars) == ["t_tropopause", "u10", "u10hPa"]
    np.testing.assert_array_equal(ds.u10hPa.values[0], pick(sample, "u", "isobaricInhPa", 10)["values"])
    np.testing.assert_array_equal(ds.u10.values[0], pick(sample, "10u")["values"])
    np.testing.assert_array_equal(ds.t_tropopause.values[0], pick(sample, "t", "tropopause")["values"])


def test_latest_cycle_is_the_newest_whose_idx_is_published_and_resolution_names_the_product(tmp_path):
    from geopipe.sources.gfs import remote_urls
    from geopipe.sources.gfs_remote import latest_cycle
    from tests.support.services import ServiceServer

    # 06Z has f000 out but not f006 yet; 00Z is complete
    for init, hours in (("20240926/00", (0, 6)), ("20240926/06", (0,))):
        folder = tmp_path / f"gfs.{init}" / "atmos"
        folder.mkdir(parents=True)
        for h in hours:
            (folder / f"gfs.t{init[-2:]}z.pgrb2.0p25.f{h:03d}.idx").write_text("1:0:d=2024092600:PWAT:x:anl:\n")
    with ServiceServer(tmp_path) as srv:
        assert latest_cycle([0, 6], srv.url, now="2024-09-26T08:00") == pd.Timestamp("2024-09-26T00")
        assert latest_cycle([0, 6], srv.url, now="2024-09-26T08:00", complete=False) == pd.Timestamp("2024-09-26T06")
    urls, opts = remote_urls("2024-09-26T06", [0, 6], "aws", "0p50")
    assert urls[1] == "s3://noaa-gfs-bdp-pds/gfs.20240926/06/atmos/gfs.t06z.pgrb2.0p50.f006"
    assert opts == {"anon": True}
