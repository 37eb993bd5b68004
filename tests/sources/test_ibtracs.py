"""IBTrACS ingest: v04r00 and v04r01 CSV and the NetCDF against direct pandas / netCDF4 reads."""

from __future__ import annotations

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.cli import main
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sources import ibtracs, ibtracs_io

R00 = "ibtracs.SA.list.v04r00.csv"
R01 = "ibtracs.ACTIVE.list.v04r01.csv"
NC = "IBTrACS.SP.v04r00.nc"
NUMBERS = ["lat", "lon", "wmo_wind", "wmo_pres", "usa_wind", "usa_pres", "usa_sshs", "dist2land", "storm_speed", "storm_dir"]


def direct_csv(path) -> pd.DataFrame:
    """What pandas reads: units row skipped, blanks as NaN, 'NA' (North Atlantic) kept."""
    df = pd.read_csv(path, skiprows=[1], keep_default_na=False, na_values=[" "], low_memory=False)
    df.columns = [c.lower() for c in df.columns]
    df = pd.concat([df, pd.to_datetime(df["iso_time"]).rename("time")], axis=1)
    return df.sort_values(["sid", "time"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def nc_direct(sample_dir):
    """The NetCDF read with netCDF4: fixes where time is not fill, spur storms flagged."""
    with netCDF4.Dataset(sample_dir / "ibtracs" / NC) as nc:
        valid = ~np.ma.getmaskarray(nc["time"][:])
        storm, _ = np.nonzero(valid)
        sid = netCDF4.chartostring(nc["sid"][:])[storm]
        out = pd.DataFrame({"sid": sid, "track_type": netCDF4.chartostring(nc["track_type"][:])[storm],
                            "time": pd.to_datetime(netCDF4.chartostring(nc["iso_time"][:])[valid])})
        for name in NUMBERS:
            out[name] = np.ma.filled(nc[name][:].astype("f8"), np.nan)[valid]
    return out.sort_values(["sid", "time"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("name, rows, columns", [(R00, 119, 163), (R01, 197, 174)])
def test_csv_equals_a_direct_pandas_read(sample_dir, name, rows, columns):
    path = sample_dir / "ibtracs" / name
    expected = direct_csv(path)
    assert expected.shape == (rows, columns + 1)
    ds = ibtracs.IBTrACSReader().open_dataset(str(path))
    assert ds.sizes["obs"] == rows
    for var in ("sid", "basin", "subbasin", "name", "nature", "track_type"):
        assert ds[var].dtype.kind == "U"
        np.testing.assert_array_equal(ds[var].values, expected[var].astype(str).str.strip().to_numpy())
    for var in NUMBERS:
        assert ds[var].dtype == np.float32
        np.testing.assert_array_equal(ds[var].values, expected[var].to_numpy(np.float32))
    np.testing.assert_array_equal(ds["time"].values, expected["time"].to_numpy())
    np.testing.assert_array_equal(ds["season"].values, expected["season"].to_numpy())
    assert ds.wmo_wind.attrs["units"] == "knots" and ds.wmo_pres.attrs["units"] == "hPa"
    if name == R01:  # provisional rows: WMO blank, USA filled
        assert ds.wmo_wind.isnull().all() and ds.usa_wind.notnull().all()


def test_netcdf_equals_a_direct_netcdf4_read(sample_dir, nc_direct):
    path = str(sample_dir / "ibtracs" / NC)
    everything = ibtracs.IBTrACSReader(track_type="all").open_dataset(path)
    assert everything.sizes["obs"] == len(nc_direct) == 74941
    np.testing.assert_array_equal(everything.sid.values, nc_direct.sid.to_numpy())
    np.testing.assert_array_equal(everything.time.values, nc_direct.time.to_numpy())
    for var in NUMBERS:
        expected = nc_direct[var].to_numpy(np.float32)
        if var == "lon":  # the file runs to ~245 E
            assert expected.max() > 180
            expected = ((expected + 180) % 360 - 180).astype(np.float32)
        np.testing.assert_allclose(everything[var].values, expected, atol=1e-4, equal_nan=True)
    assert everything.lon.min() >= -180 and everything.lon.max() < 180
    default = ibtracs.IBTrACSReader().open_dataset(path)
    spur = nc_direct.track_type.str.startswith("spur")
    assert default.sizes["obs"] == int((~spur).sum()) and not np.char.startswith(default.track_type.values, "spur").any()
    main_only = ibtracs.IBTrACSReader(track_type="main").open_dataset(path)
    assert main_only.sizes["obs"] == int((nc_direct.track_type == "main").sum()) < default.sizes["obs"]


def test_both_csv_versions_and_the_netcdf_share_one_store(sample_dir, tmp_path, nc_direct):
    store = str(tmp_path / "tracks.zarr")
    paths = [str(sample_dir / "ibtracs" / n) for n in (R00, R01, NC)]
    report = ingest("ibtracs", paths, store, strict=True)
    ds = xr.open_zarr(store, consolidated=False)
    expected = 119 + 197 + int((~nc_direct.track_type.str.startswith("spur")).sum())
    assert report.written == expected == ds.sizes["obs"]
    frame = ds[["sid", "time"]].to_dataframe()
    assert not frame.duplicated().any()
    assert (frame.sort_values(["sid", "time"]).index == frame.index).all()
    assert set(ds.basin.values) >= {"SA", "EP", "WP", "SI", "SP"}
    assert ingest("ibtracs", paths, store, strict=True).written == 0  # unchanged files: nothing rewritten


def test_reingesting_a_revised_file_replaces_that_storms_rows(sample_dir, tmp_path):
    original = sample_dir / "ibtracs" / R01
    store = str(tmp_path / "tracks.zarr")
    ingest("ibtracs", [str(sample_dir / "ibtracs" / R00), str(original)], store, strict=True)
    lines = original.read_text().splitlines(keepends=True)
    kiko = [i for i, ln in enumerate(lines) if ln.startswith("2025240N11251")]
    revised_lines = [ln for i, ln in enumerate(lines) if i not in kiko[-3:]]  # KIKO loses its last 3 fixes
    first = kiko[0]
    revised_lines[first] = revised_lines[first].replace(",DB,20,1010,", ",DB,25,1010,")
    assert ",DB,25,1010," in revised_lines[first]
    revised = tmp_path / "ibtracs.ACTIVE.list.v04r01.csv"
    revised.write_text("".join(revised_lines))
    ingest("ibtracs", [str(revised)], store, strict=True)
    ds = xr.open_zarr(store, consolidated=False).load()
    assert ds.sizes["obs"] == 119 + 197 - 3
    kiko_rows = ds.where(ds.sid == "2025240N11251", drop=True)
    assert kiko_rows.sizes["obs"] == len(kiko) - 3
    assert float(kiko_rows.usa_wind[0]) == 25
    assert set(ds.basin.values) >= {"SA"}  # the other file's storms are untouched
    assert int((ds.sid == "2004086S29318").sum()) == int((direct_csv(sample_dir / "ibtracs" / R00).sid == "2004086S29318").sum())


def test_filters_from_the_command_line(sample_dir, tmp_path):
    store = tmp_path / "ep.zarr"
    assert main(["ingest", "ibtracs", str(sample_dir / "ibtracs" / R01), "--store", str(store), "--basin", "EP"]) == 0
    ds = xr.open_zarr(store, consolidated=False)
    assert set(ds.name.values) == {"KIKO", "LORENA"}
    store = tmp_path / "sp.zarr"
    assert main(["ingest", "ibtracs", str(sample_dir / "ibtracs" / NC), "--store", str(store),
                 "--seasons", "2000-2004", "--track-type", "all"]) == 0
    ds = xr.open_zarr(store, consolidated=False)
    assert set(np.unique(ds.season.values)) == set(range(2000, 2005))


def test_basin_na_is_the_north_atlantic_not_missing(sample_dir, tmp_path):
    text = (sample_dir / "ibtracs" / R00).read_text().replace(",SA,MM,", ",NA,MM,")
    path = tmp_path / "ibtracs.NA.list.v04r00.csv"
    path.write_text(text)
    ds = ibtracs.IBTrACSReader(basin=["NA"]).open_dataset(str(path))
    assert ds.sizes["obs"] == 119 and set(ds.basin.values) == {"NA"}


def _bad_copy(sample_dir, tmp_path, edit):
    lines = (sample_dir / "ibtracs" / R00).read_text().splitlines(keepends=True)
    path = tmp_path / "bad.csv"
    path.write_text("".join(edit(lines)))
    return path


@pytest.mark.parametrize("edit, line, message", [
    (lambda ls: ls[:10] + [ls[10].rstrip("\n") + ",extra\n"] + ls[11:], 11, "164 fields, the header has 163"),
    (lambda ls: ls[:10] + [ls[10].rsplit(",", 1)[0] + "\n"] + ls[11:], 11, "162 fields, the header has 163"),
    (lambda ls: [ls[0].replace("ISO_TIME", "WHEN")] + ls[1:], 1, "lacks ISO_TIME"),
    (lambda ls: ls[:7] + [ls[7].replace(",-28.7426,", ",-2x.7426,", 1)] + ls[8:], 8, "column LAT"),
    (lambda ls: ls[:7] + [ls[7].replace("2004-03-", "2004-13-", 1)] + ls[8:], 8, "bad ISO_TIME"),
])
def test_malformed_csv_names_file_and_line(sample_dir, tmp_path, edit, line, message):
    path = _bad_copy(sample_dir, tmp_path, edit)
    with pytest.raises(InputError, match=message) as err:
        ibtracs_io.read_csv(str(path), path.read_bytes())
    assert err.value.path == str(path) and err.value.line == line
