"""ISGI / WDC Kyoto / GFZ index ingest: every bundled real sample against a direct pandas read.

The WDC 400-byte ASY/SYM fixture (tests/fixtures/isgi/asysym170908.wdc) was written by us from
the Kyoto format definition, with the real values of 2017-09-08 (see its README); no real file
in that format could be found.
"""

from __future__ import annotations

import bz2
import gzip
import io
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.cli import main
from geopipe.errors import InputError
from geopipe.ingest import ingest
from geopipe.sources import iaga2002, isgi, wdc
from geopipe.sources.timeseries import read_bytes
from tests.support.httpserver import FileServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "isgi"
MONTH = "kyoto_asysym_iaga2002/WWW_aeasy00025746.dat.txt.bz2"
NAMES = {"ASY-D": "asy_d", "ASY-H": "asy_h", "SYM-D": "sym_d", "SYM-H": "sym_h"}


def pandas_iaga(path: Path) -> pd.DataFrame:
    """A direct pandas read of an IAGA-2002 file: the rows after the DATE line, fills as NaN."""
    text = (bz2.open(path, "rt") if path.suffix == ".bz2" else open(path)).read()
    lines = text.splitlines(keepends=True)
    n = next(i for i, ln in enumerate(lines) if ln.startswith("DATE"))
    names = lines[n].replace("|", " ").split()
    df = pd.read_csv(io.StringIO("".join(lines[n + 1:])), sep=r"\s+", header=None)
    index = pd.to_datetime(df[0] + " " + df[1])
    values = df.iloc[:, 3:].astype(float).where(lambda v: ~v.isin([99999.0, 88888.0]))
    values.columns, values.index = names[3:], index
    return values


def pandas_dst(path: Path) -> pd.Series:
    widths = [(16, 20)] + [(20 + 4 * i, 24 + 4 * i) for i in range(24)]
    df = pd.read_fwf(path, colspecs=[(3, 5), (5, 7), (8, 10)] + widths, header=None)
    days = pd.to_datetime(dict(year=2000 + df[0], month=df[1], day=df[2]))
    values = df.iloc[:, 4:].to_numpy(float) + 100 * df[3].to_numpy(float)[:, None]
    index = (days.to_numpy()[:, None] + pd.to_timedelta(np.arange(24), "h").to_numpy()[None, :]).ravel()
    return pd.Series(np.where(values == 9999, np.nan, values).ravel(), index=index)


@pytest.fixture()
def month_store(sample_dir, tmp_path):
    store = str(tmp_path / "isgi.zarr")
    ingest("isgi", [str(sample_dir / "isgi" / MONTH)], store, strict=True)
    return store


@pytest.mark.parametrize("name", [MONTH, "BOU202005vmin.min", "bou20141101vmin.min"])
def test_iaga2002_equals_a_direct_pandas_read(sample_dir, name):
    path = sample_dir / "isgi" / name
    raw, _ = read_bytes(str(path))
    parsed = iaga2002.read(str(path), raw)
    expected = pandas_iaga(path)
    assert len(parsed.data) == len(expected)
    np.testing.assert_array_equal(parsed.data.to_numpy(), expected.to_numpy())
    assert (parsed.data.index == expected.index).all()
    if name == "BOU202005vmin.min":  # repeated column names, all fill
        assert list(parsed.data.columns) == ["BOUH", "BOUE", "BOUNUL", "BOUNUL_2"]
        assert parsed.data[["BOUNUL", "BOUNUL_2"]].isna().all().all()
        assert parsed.header["IAGA CODE"] == "BOU"


def test_month_store_equals_the_file_and_reingest_writes_nothing(sample_dir, month_store):
    expected = pandas_iaga(sample_dir / "isgi" / MONTH).rename(columns=NAMES)
    ds = xr.open_zarr(month_store, consolidated=False)
    assert ds.sizes["time"] == len(expected) == 44640
    for name in NAMES.values():
        assert ds[name].dtype == np.float32 and ds[name].attrs["units"] == "nT"
        np.testing.assert_array_equal(ds[name].values, expected[name].to_numpy(np.float32))
    assert float(ds.sym_h.sel(time="2017-09-08T01:08")) == -146 == float(ds.sym_h.min())
    assert ds.dst.isnull().all() and ds.kp.isnull().all()
    again = ingest("isgi", [str(sample_dir / "isgi" / MONTH)], month_store, strict=True)
    assert (again.written, again.skipped) == (0, 44640)


def test_dst_wdc_equals_a_direct_fixed_width_read(sample_dir):
    path = sample_dir / "isgi" / "dst2000_kyoto_wdc_hourly.txt"
    got = wdc.read_dst(str(path), path.read_bytes())["dst"]
    expected = pandas_dst(path)
    assert len(got) == len(expected) == 366 * 24
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert got.idxmin() == pd.Timestamp("2000-07-16 00:00") and got.min() == -301  # Bastille Day, 00-01 UT


def test_kp_wdc_equals_a_direct_fixed_width_read(sample_dir):
    path = sample_dir / "isgi" / "Kp_def2009.wdc"
    got = wdc.read_kp(str(path), path.read_bytes())["kp"]
    df = pd.read_fwf(path, colspecs=[(0, 2), (2, 4), (4, 6)] + [(12 + 2 * i, 14 + 2 * i) for i in range(8)],
                     header=None, comment="#")
    assert len(got) == 8 * len(df) == 8 * 365
    code = df.iloc[:, 3:].to_numpy(float).ravel()
    np.testing.assert_allclose(got.to_numpy(), np.floor(code / 10) + np.select([code % 10 == 3, code % 10 == 7], [1 / 3, 2 / 3], 0))
    assert got.index[1] == pd.Timestamp("2009-01-01 03:00") and got.iloc[0] == pytest.approx(5 / 3)  # "17" = 2-


def test_wdc_asysym_records_equal_the_same_day_in_iaga2002(sample_dir, tmp_path):
    fixture = FIXTURES / "asysym170908.wdc"
    got = wdc.read_asysym(str(fixture), fixture.read_bytes())
    day = pandas_iaga(sample_dir / "isgi" / MONTH).rename(columns=NAMES).loc["2017-09-08"]
    assert len(got) == 1440
    pd.testing.assert_frame_equal(got, day[list(got.columns)], check_names=False, check_freq=False)
    # the same records back to back, without newlines, read the same
    joined = fixture.read_bytes().replace(b"\n", b"")
    pd.testing.assert_frame_equal(wdc.read_asysym("x", joined), got)
    # 99999 is missing
    lines = fixture.read_bytes().split(b"\n")
    lines[5] = lines[5][:40] + b" 99999" + lines[5][46:]
    missing = wdc.read_asysym("x", b"\n".join(lines))
    assert np.isnan(missing.loc["2017-09-08 01:01", "asy_h"]) and missing.isna().sum().sum() == 1
    lines[7] = b"ASYSYM N6E02" + lines[7][12:]
    with pytest.raises(InputError, match=r"x:8: not a WDC ASY/SYM record"):
        wdc.read_asysym("x", b"\n".join(lines))


def test_dst_fills_existing_minutes_without_new_times(sample_dir, tmp_path, month_store):
    """A Dst file for days already holding SYM-H: dst lands on hh:00, no time is added."""
    hourly = pandas_iaga(sample_dir / "isgi" / MONTH)["SYM-H"].loc["2017-09-07":"2017-09-08"].resample("1h").mean()
    # real-format WDC Dst records (the values are SYM-H hourly means, not Kyoto's Dst)
    rows = [f"DST1709*{d:02d}  X220 000" + "".join(f"{int(round(v)):4d}" for v in hourly.loc[f"2017-09-{d:02d}"])
            + f"{int(round(hourly.loc[f'2017-09-{d:02d}'].mean())):4d}" for d in (7, 8)]
    dst = tmp_path / "dst1709.for.request"
    dst.write_text("\n".join(rows) + "\n")
    ingest("isgi", [str(dst)], month_store, strict=True)
    ds = xr.open_zarr(month_store, consolidated=False)
    assert ds.sizes["time"] == 44640 and ds.indexes["time"].is_unique
    got = ds.dst.dropna("time").to_series()
    assert len(got) == 48 and (got.index.minute == 0).all()
    np.testing.assert_array_equal(got.to_numpy(), np.round(hourly.to_numpy()).astype(np.float32))
    expected = pandas_iaga(sample_dir / "isgi" / MONTH)["SYM-H"].to_numpy(np.float32)
    np.testing.assert_array_equal(ds.sym_h.values, expected)


def test_kp_and_dst_alone_keep_their_own_timestamps(sample_dir, tmp_path):
    store = str(tmp_path / "k.zarr")
    report = ingest("isgi", [str(sample_dir / "isgi" / "Kp_def2009.wdc"),
                             str(sample_dir / "isgi" / "dst2000_kyoto_wdc_hourly.txt")], store, strict=True)
    assert report.written == 365 * 8 + 366 * 24
    ds = xr.open_zarr(store, consolidated=False)
    assert ds.indexes["time"].is_monotonic_increasing and ds.indexes["time"].is_unique
    assert int(ds.kp.count()) == 2920 and int(ds.dst.count()) == 8784 and ds.sym_h.isnull().all()
    assert ds.kp.attrs["units"] == "1" and "3 hours" in ds.kp.attrs["cell_methods"]


def _bou_copy(sample_dir, tmp_path, edit) -> Path:
    lines = (sample_dir / "isgi" / "BOU202005vmin.min").read_text().splitlines(keepends=True)
    path = tmp_path / "bad.min"
    path.write_text("".join(edit(lines)))
    return path


@pytest.mark.parametrize("edit, line, message", [
    (lambda ls: ls[:3] + [ls[3].replace("|", " ")] + ls[4:], 4, "does not end in '|'"),
    (lambda ls: [ln for ln in ls if not ln.startswith("DATE")], 22, "no column line"),
    (lambda ls: ls[:30] + [ls[29]] + ls[30:], 31, "repeats the time"),
    (lambda ls: ls[:25] + [ls[25].replace("20799.", "2O799.")] + ls[26:], 26, "is not a number"),
    (lambda ls: ls[:27] + [ls[27].rstrip("\n") + "  12.00\n"] + ls[28:], 28, "more fields"),
    (lambda ls: ls[:27] + [ls[27][:50] + "\n"] + ls[28:], 28, "fewer than"),
])
def test_malformed_iaga2002_names_file_and_line(sample_dir, tmp_path, edit, line, message):
    path = _bou_copy(sample_dir, tmp_path, edit)
    with pytest.raises(InputError, match=message) as err:
        iaga2002.read(str(path), path.read_bytes())
    assert err.value.path == str(path) and err.value.line == line


def test_cli_reports_a_bad_file_in_one_line(sample_dir, tmp_path, capsys, root):
    path = _bou_copy(sample_dir, tmp_path, lambda ls: ls[:30] + [ls[29]] + ls[30:])
    assert main(["ingest", "isgi", str(path), "--store", str(tmp_path / "s.zarr")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path}:31:" in err
    assert not (tmp_path / "s.zarr").exists()
    # an observatory file is valid IAGA-2002 but not an index
    good = sample_dir / "isgi" / "bou20141101vmin.min"
    assert main(["ingest", "isgi", str(good), "--store", str(tmp_path / "s.zarr")]) == 2
    assert "no ASY/SYM/Dst/Kp index column" in capsys.readouterr().err


def test_gzip_and_remote_inputs_read_as_they_are(sample_dir, tmp_path):
    serve = tmp_path / "www"
    (serve / "2017").mkdir(parents=True)
    (serve / "2017" / "asy1709.for.request.gz").write_bytes(gzip.compress((FIXTURES / "asysym170908.wdc").read_bytes()))
    shutil.copy(sample_dir / "isgi" / MONTH, serve / "month.dat.bz2")
    local = isgi.ISGIReader().open_dataset(str(FIXTURES / "asysym170908.wdc"))
    with FileServer(serve, faults={"503": 0.3}, seed=1) as srv:
        remote = isgi.ISGIReader().open_dataset(srv.url + "/2017/asy1709.for.request.gz")
        store = str(tmp_path / "r.zarr")
        ingest("isgi", [srv.url + "/month.dat.bz2"], store, strict=True)
    xr.testing.assert_equal(remote.drop_attrs(), local.drop_attrs())
    assert xr.open_zarr(store, consolidated=False).sizes["time"] == 44640
    assert srv.injected["503"] >= 1  # the retries were exercised


def test_catalog_remote_template_builds_the_kyoto_cgi_request(sample_dir, tmp_path, monkeypatch):
    from tests.support.services import ServiceServer, kyoto_cgi

    catalog = tmp_path / "catalog"
    shutil.copytree(Path(isgi.__file__).resolve().parents[2] / "catalog", catalog)
    month = (FIXTURES / "asysym170908.wdc").read_bytes()
    with ServiceServer(tmp_path, routes={"/cgi-bin/aeasy-cgi": kyoto_cgi(lambda q: month)}) as srv:
        text = (catalog / "sources.yaml").read_text().replace("https://wdc.kugi.kyoto-u.ac.jp", srv.url)
        (catalog / "sources.yaml").write_text(text)
        monkeypatch.setenv("GEOPIPE_CATALOG", str(catalog))
        store = tmp_path / "c.zarr"
        assert main(["ingest", "isgi", "--remote", "kyoto", "--start", "2017-09", "--end", "2017-09",
                     "--store", str(store)]) == 0
    ds = xr.open_zarr(store, consolidated=False)
    assert ds.sizes["time"] == 1440 and float(ds.sym_h.min()) == -146


def test_two_whole_years_meet_without_duplicates_and_fills_become_nan(sample_dir, tmp_path):
    """SYM-2017 (runs on to 2018-01-01) then SYM-2018 (99999 from October on): the one test that
    ingests whole years."""
    folder = sample_dir / "isgi" / "kyoto_asysym_iaga2002"
    store = str(tmp_path / "years.zarr")
    start = time.perf_counter()
    first = ingest("isgi", [str(folder / "SYM-2017.dat.txt.bz2")], store, strict=True)
    seconds = time.perf_counter() - start
    second = ingest("isgi", [str(folder / "SYM-2018.dat.txt.bz2")], store, strict=True)
    assert (first.written, second.written, second.skipped) == (527040, 525600, 1440)
    ds = xr.open_zarr(store, consolidated=False)
    index = ds.indexes["time"]
    assert index.is_unique and index.is_monotonic_increasing and len(index) == 365 * 1440 + 366 * 1440
    assert index[0] == pd.Timestamp("2017-01-01") and index[-1] == pd.Timestamp("2019-01-01 23:59")
    y2018 = pandas_iaga(folder / "SYM-2018.dat.txt.bz2").rename(columns=NAMES)
    got = ds.sel(time=slice("2018-01-01", None))
    for name in NAMES.values():
        np.testing.assert_array_equal(got[name].values, y2018[name].to_numpy(np.float32))
        assert int(got[name].sel(time=slice("2018-10-01", None)).isnull().sum()) == 133920
    assert float(ds.sym_h.sel(time="2018-08-26T07:11")) == -206
    assert seconds < 30, f"a whole year took {seconds:.1f} s to ingest"
