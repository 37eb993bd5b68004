"""Plausibility checks (geopipe/validate.py, catalog/valid_ranges.yaml) through the ingest driver, on real files."""

from __future__ import annotations

import json

import pytest
import xarray as xr

from geopipe import store, validate
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sample import REAL
from geopipe.sources.gribcheck import sections
from tests.reliability.fuzz import GFS_FIELDS, _gfs_messages


@pytest.fixture(scope="module")
def gfs_files(tmp_path_factory):
    """A small real GFS file (8 fields of the 2.5 degree sample) and a copy whose gh30 reads 87-90 km."""
    folder = tmp_path_factory.mktemp("gfs")
    msgs = _gfs_messages()
    k = GFS_FIELDS.index(("gh", "isobaricInhPa", 30))
    bad = bytearray(msgs[k])
    s5 = sections(msgs[k])[5][0]
    bad[s5 + 11] += 2  # the reference value's exponent byte: x2^16
    (folder / "clean.grib2").write_bytes(b"".join(msgs))
    (folder / "gh30.grib2").write_bytes(b"".join(msgs[:k] + [bytes(bad)] + msgs[k + 1:]))
    return folder


def test_the_ranges_cover_the_real_samples_and_gh_depends_on_level():
    rule = validate.rules("gfs")
    assert validate.valid_range(rule, "gh30", {"GRIB_shortName": "gh", "GRIB_typeOfLevel": "isobaricInhPa",
                                               "GRIB_level": 30}) == (19080.0, 28620.0)
    lo, hi = validate.valid_range(rule, "gh600", {"GRIB_shortName": "gh", "GRIB_typeOfLevel": "isobaricInhPa",
                                                  "GRIB_level": 600})
    assert 2000 < lo < 4206 < hi < 6000  # interpolated in log-pressure between the table's rows
    assert validate.valid_range(validate.rules("goes"), "CMI_C02", {}) == (0.0, 1.2)
    assert validate.valid_range(validate.rules("goes"), "CMI_C13", {}) == (150.0, 350.0)


def test_an_out_of_range_field_fails_the_file_naming_variable_range_and_index(gfs_files, tmp_path):
    with pytest.raises(InputError) as err:
        ingest("gfs", [str(gfs_files / "gh30.grib2")], str(tmp_path / "s.zarr"), strict=True)
    msg = str(err.value)
    assert msg.startswith(str(gfs_files / "gh30.grib2")) and "gh30:" in msg and "[19080, 28620] m" in msg
    assert "at (time=0, latitude=0, longitude=0)" in msg
    assert not (tmp_path / "s.zarr").exists() and not (tmp_path / ".s.zarr.lock").exists()


def test_allow_out_of_range_keeps_the_values_and_flags_them_in_the_provenance(gfs_files, tmp_path):
    url = str(tmp_path / "s.zarr")
    report = ingest("gfs", [str(gfs_files / "gh30.grib2")], url, strict=True, allow_out_of_range=True)
    assert report.written == 1
    ds = xr.open_zarr(url, consolidated=False)
    assert float(ds.gh30.min()) > 80000  # kept as decoded
    (source,) = store.sources_of(url)
    flag = source["out_of_range"][0]
    assert flag["variable"] == "gh30" and flag["valid_range"] == [19080.0, 28620.0] and flag["count"] == 10512
    # CF valid_min/valid_max on the stored variables
    assert (ds.pwat.attrs["valid_min"], ds.pwat.attrs["valid_max"]) == (0.0, 150.0)
    assert ds.gh500.attrs["valid_min"] == 4070.0


def test_a_clean_file_is_unchanged_by_the_checks(gfs_files, tmp_path):
    url = str(tmp_path / "s.zarr")
    ingest("gfs", [str(gfs_files / "clean.grib2")], url, strict=True)
    ds = xr.open_zarr(url, consolidated=False)
    assert sorted(ds.data_vars) == ["gh30", "gh500", "o3mr10", "prmsl", "pwat", "r700", "t850", "u250", "v250"]
    assert "out_of_range" not in json.dumps(store.sources_of(url))


def test_a_grid_mismatch_names_the_input_file(tmp_path):
    url = str(tmp_path / "goes.zarr")
    small = REAL / "goes" / "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc"
    other = REAL / "goes" / "OR_ABI-L2-CMIPM1-M3C01_G16_s20171931811268_e20171931811326_c20171931811382.nc"
    ingest("goes", [str(small)], url, strict=True)
    with pytest.raises(InputError) as err:
        ingest("goes", [str(other)], url, strict=True)
    assert str(err.value).startswith(f"{other}: does not fit {url}") and "grid" in str(err.value)
