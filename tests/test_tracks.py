"""Storm positions from the best-track store, on the real IBTrACS samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe import tracks
from geopipe.catalog import load as load_catalog
from geopipe.ingest import ingest
from geopipe.sources.ibtracs import IBTrACSReader


@pytest.fixture(scope="module")
def sp(sample_dir) -> xr.Dataset:
    """The South Pacific NetCDF as the reader gives it (main + provisional tracks)."""
    return IBTrACSReader().open_dataset(str(sample_dir / "ibtracs" / "IBTrACS.SP.v04r00.nc")).load()


@pytest.fixture(scope="module")
def table(sp) -> tracks.TrackTable:
    return tracks.load(sp)


def storm(ds: xr.Dataset, sid: str) -> pd.DataFrame:
    return ds.to_dataframe().query("sid == @sid").sort_values("time").reset_index(drop=True)


def test_at_a_fix_time_gives_the_fix(sample_dir):
    ds = IBTrACSReader().open_dataset(str(sample_dir / "ibtracs" / "ibtracs.SA.list.v04r00.csv"))
    fixes = storm(ds, "2004086S29318")  # Catarina
    fix = fixes.iloc[10]
    got = tracks.at(fix.time, tracks=ds)
    assert list(got.columns) == tracks.COLUMNS and len(got) == 1
    row = got.iloc[0]
    assert (row.sid, row.basin, row.nature) == ("2004086S29318", fix.basin, fix.nature)
    assert row.lat == pytest.approx(fix.lat) and row.lon == pytest.approx(fix.lon)
    assert row.wind == pytest.approx(fix.wmo_wind if np.isfinite(fix.wmo_wind) else fix.usa_wind)


def test_between_fixes_is_linear_in_time(sample_dir):
    ds = IBTrACSReader().open_dataset(str(sample_dir / "ibtracs" / "ibtracs.ACTIVE.list.v04r01.csv"))
    fixes = storm(ds, "2025240N11251")  # KIKO, provisional: no WMO wind, the USA wind is used
    a, b = fixes.iloc[4], fixes.iloc[5]
    when = a.time + (b.time - a.time) / 3
    got = tracks.at(when, tracks=ds).set_index("sid").loc["2025240N11251"]
    assert got.lat == pytest.approx(a.lat + (b.lat - a.lat) / 3, abs=1e-5)
    assert got.lon == pytest.approx(a.lon + (b.lon - a.lon) / 3, abs=1e-5)
    assert got.wind == pytest.approx(a.usa_wind + (b.usa_wind - a.usa_wind) / 3)
    assert got.pres == pytest.approx(a.usa_pres + (b.usa_pres - a.usa_pres) / 3)


def test_across_the_dateline_the_short_way(sp, table):
    fixes = storm(sp, "1919135S21155")
    i = int(np.flatnonzero(np.abs(np.diff(fixes.lon.to_numpy())) > 300)[0])
    a, b = fixes.iloc[i], fixes.iloc[i + 1]
    assert a.lon > 170 and b.lon < -170  # 179.47 E -> 179.60 W in the file
    for frac in (0.25, 0.5, 0.75):
        got = tracks.at(a.time + (b.time - a.time) * frac, tracks=table).set_index("sid").loc["1919135S21155"]
        expected = (a.lon + frac * (b.lon + 360 - a.lon) + 180) % 360 - 180
        assert got.lon == pytest.approx(expected, abs=1e-4) and -180 <= got.lon < 180
        assert abs(got.lon) > 179  # never near 0
        assert got.lat == pytest.approx(a.lat + frac * (b.lat - a.lat), abs=1e-5)


def test_window_holds_the_end_fixes_and_no_further(sp, table):
    fixes = storm(sp, "1919135S21155")
    first, last = fixes.iloc[0], fixes.iloc[-1]
    before = tracks.at(first.time - pd.Timedelta("2h"), tracks=table).set_index("sid")
    assert before.loc["1919135S21155"].lat == pytest.approx(first.lat)
    assert "1919135S21155" not in tracks.at(first.time - pd.Timedelta("4h"), tracks=table).sid.values
    assert "1919135S21155" not in tracks.at(first.time - pd.Timedelta("1h"), window="0h", tracks=table).sid.values
    after = tracks.at(last.time + pd.Timedelta("6h"), window="6h", tracks=table).set_index("sid")
    assert after.loc["1919135S21155"].lon == pytest.approx(last.lon)
    assert "1919135S21155" in tracks.at(last.time, window="0h", tracks=table).sid.values


def test_positions_equals_at_for_every_time(table):
    times = pd.date_range("2018-01-01", "2018-03-31", freq="6h")
    many = tracks.positions(times, table)
    assert len(many) > 50 and not many.duplicated(["time", "sid"]).any()
    one_by_one = pd.concat([tracks.at(t, tracks=table).assign(time=t) for t in times], ignore_index=True)
    pd.testing.assert_frame_equal(many.reset_index(drop=True), one_by_one[many.columns].reset_index(drop=True),
                                  check_dtype=False)


def test_tracks_from_a_store_path_and_from_the_catalog(sample_dir, root):
    path = load_catalog().store_path("ibtracs")
    ingest("ibtracs", [str(sample_dir / "ibtracs" / "ibtracs.SA.list.v04r00.csv")], path, strict=True)
    when = pd.Timestamp("2004-03-27 06:00")
    from_catalog = tracks.at(when)
    assert list(from_catalog.sid) == ["2004086S29318"]
    pd.testing.assert_frame_equal(from_catalog, tracks.at(when, tracks=path))
    assert tracks.at("1990-01-01").empty


def test_one_best_track_table_drops_spurs_unless_asked(sp):
    # IBTrACS marks alternative branches "spur-..."; make one real storm's fixes a spur
    sid = sp["sid"].values.astype(str)
    one = sid[0]
    kinds = np.where(sid == one, "spur-main", sp["track_type"].values.astype(str))
    spurred = sp.assign(track_type=("obs", kinds))
    plain, with_spurs = tracks.load(spurred), tracks.load(spurred, spurs=True)
    assert one not in set(plain.sid) and one in set(with_spurs.sid)
    assert len(with_spurs) - len(plain) == len(tracks.load(sp.isel(obs=np.flatnonzero(sid == one))))
    # the positions the labels, maps and skill use come from that one table: no spur positions
    t = pd.Timestamp(with_spurs.time[with_spurs.sid == one][0])
    assert one not in set(tracks.positions([t], plain)["sid"]) and one in set(tracks.positions([t], with_spurs)["sid"])
    # a minimal DataFrame (sid, time, lat, lon) loads into the same table type
    frame = pd.DataFrame({"sid": ["A", "A", "A"], "time": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-02"]),
                          "lat": [10.0, 10.0, np.nan], "lon": [170.0, 170.0, 171.0]})
    small = tracks.load(frame)
    assert len(small) == 1 and small.sid[0] == "A" and np.isnan(small.wind[0])
    with pytest.raises(KeyError, match="lat"):
        tracks.load(frame.drop(columns="lat"))
