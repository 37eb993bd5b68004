"""Each remote against a loopback server that behaves like the service (paths, tokens, zips, pages, 429)."""

from __future__ import annotations

import bz2
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from geopipe.cli import main
from geopipe.ingest import ingest, ingest_remote
from geopipe.sources import polite, tokens
from tests.support.services import ServiceServer, isgi_ws, kyoto_cgi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HRO_1MIN = FIXTURES / "omni" / "omni_min200311.asc"
HRO_5MIN = FIXTURES / "omni" / "omni_5min2003.asc"
KYOTO = FIXTURES / "kyoto"
#: SPDF's HRO record, as its format description writes it (hroformat.txt)
HRO_FORMAT = "(2I4,4I3,3I4,2I7,F6.2,I7,8F8.2,4F8.1,F7.2,F9.0,F6.2,2F7.2,F6.1,6F8.2,7I6,F7.2,F5.1)"


def fortran_widths(fmt: str) -> list[tuple[str, int, int]]:
    out = []
    for rep, kind, w, d in re.findall(r"(\d*)([IF])(\d+)(?:\.(\d+))?", fmt):
        out += [(kind, int(w), int(d or 0))] * int(rep or 1)
    return out


def direct_read(path: Path, fmt: str) -> pd.DataFrame:
    """The HRO file read straight by column widths (pandas read_fwf), fills replaced by NaN."""
    spec = fortran_widths(fmt)
    table = pd.read_fwf(path, widths=[w for _, w, _ in spec], header=None).astype("f8")
    for k, (kind, w, d) in enumerate(spec[4:], 4):
        nines = float("9" * (w - 1)) if kind == "I" else float("9" * (w - 2 - d) + "." + "9" * d)
        table[k] = table[k].mask(np.isclose(table[k], nines))
    times = (pd.to_datetime(table[0].astype(int).astype(str), format="%Y") + pd.to_timedelta(table[1] - 1, unit="D")
             + pd.to_timedelta(table[2], unit="h") + pd.to_timedelta(table[3], unit="min"))
    return table.set_index(pd.DatetimeIndex(times))


@pytest.fixture()
def catalog_at(tmp_path, monkeypatch):
    """A copy of the catalog whose remote hosts point at a loopback server."""

    def make(replacements: dict[str, str]):
        folder = tmp_path / "catalog"
        if not folder.exists():
            shutil.copytree(Path(__file__).resolve().parents[2] / "catalog", folder)
        text = (folder / "sources.yaml").read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)
        (folder / "sources.yaml").write_text(text)
        monkeypatch.setenv("GEOPIPE_CATALOG", str(folder))
        return folder

    return make


def test_spdf_hro_ascii_ingests_equal_to_a_direct_fixed_width_read_and_fills_are_nan(root, tmp_path):
    report = ingest("omni", [str(HRO_1MIN)], str(tmp_path / "omni.zarr"), strict=True)
    ds = xr.open_zarr(tmp_path / "omni.zarr", consolidated=False).load()
    direct = direct_read(HRO_1MIN, HRO_FORMAT)
    assert report.written == len(direct) == 90 and list(ds.time.values) == list(direct.index.values)
    # word number (1-based, hroformat.txt) of each store variable
    words = {"b_mag": 14, "bx_gse": 15, "by_gse": 16, "bz_gse": 17, "by_gsm": 18, "bz_gsm": 19, "speed": 22,
             "proton_density": 26, "temperature": 27, "pdyn": 28, "ae": 38, "sym_h": 42}
    for name, word in words.items():
        np.testing.assert_array_equal(ds[name].values, direct[word - 1].to_numpy(dtype="f4"), err_msg=name)
    raw = HRO_1MIN.read_text().splitlines()
    assert "99999.9" in raw[3] and np.isnan(ds.speed.values[3]) and np.isnan(ds.temperature.values[3])
    assert np.isnan(ds.bz_gsm.values[5]) and np.isnan(ds.sym_h.values[9]) and np.isfinite(ds.sym_h.values[8])
    assert int(np.isnan(ds.speed.values).sum()) == len(range(3, 90, 7))


def test_spdf_5min_records_carry_three_more_words_and_read_the_same(tmp_path):
    from geopipe.sources import omni_hro

    raw = HRO_5MIN.read_bytes()
    frame = omni_hro.read(str(HRO_5MIN), raw)
    direct = direct_read(HRO_5MIN, HRO_FORMAT[:-1] + ",3F9.2)")
    assert len(frame) == 36 and (np.diff(frame.index.asi8) == 300e9).all()
    np.testing.assert_array_equal(frame["proton_flux_60mev"].to_numpy(), direct[48].to_numpy())
    np.testing.assert_array_equal(frame["speed"].to_numpy(), direct[21].to_numpy())
    bad = raw.replace(b"\n", b"X\n", 1)
    with pytest.raises(Exception, match="record of 327 characters"):
        omni_hro.read("bad.asc", bad)


def test_spdf_monthly_path_and_swpc_json_fill_the_same_store(root, catalog_at, tmp_path):
    www = tmp_path / "www"
    (www / "pub/data/omni/high_res_omni/monthly_1min").mkdir(parents=True)
    shutil.copy(HRO_1MIN, www / "pub/data/omni/high_res_omni/monthly_1min/omni_min200311.asc")
    (www / "products/solar-wind").mkdir(parents=True)
    shutil.copy(KYOTO / "swpc_mag.json", www / "products/solar-wind/mag-2-hour.json")
    shutil.copy(KYOTO / "swpc_plasma.json", www / "products/solar-wind/plasma-2-hour.json")
    with ServiceServer(www) as srv:
        catalog_at({"https://spdf.gsfc.nasa.gov": srv.url, "https://services.swpc.noaa.gov": srv.url})
        store = str(tmp_path / "omni.zarr")
        first = ingest_remote("omni", "2003-11-20", "2003-11-20", store=store, remote="spdf")
        live = ingest_remote("omni", "2026-12-01T10:00", "2026-12-01T10:09", store=store, remote="swpc",
                             now="2026-12-01T11:00")
    assert first.written == 90 and live.files == 2 and live.written == 10
    ds = xr.open_zarr(store, consolidated=False).sel(time=slice("2026-12-01T10:00", None)).load()
    assert ds.sizes["time"] == 10
    np.testing.assert_allclose(ds.bz_gsm.values[:4], [-5.0, -5.5, -6.0, -6.5])
    assert np.isnan(ds.bz_gsm.values[4]) and np.isnan(ds.speed.values[6]) and ds.speed.values[0] == 450.0
    np.testing.assert_allclose(ds.b_mag.values[0], 6.0) and np.testing.assert_allclose(ds.proton_density.values[1], 4.2)


def test_kyoto_cgi_asysym_and_dst_pages_final_then_provisional_then_realtime(root, catalog_at, sample_dir, tmp_path):
    month = bz2.decompress((sample_dir / "isgi/kyoto_asysym_iaga2002/WWW_aeasy00025746.dat.txt.bz2").read_bytes())
    asked = []

    def body(q):
        asked.append(q)
        return month

    www = tmp_path / "www"
    (www / "dst_provisional/200311").mkdir(parents=True)
    shutil.copy(KYOTO / "dst_provisional_200311.html", www / "dst_provisional/200311/index.html")
    with ServiceServer(www, routes={"/cgi-bin/aeasy-cgi": kyoto_cgi(body)}) as srv:
        catalog_at({"https://wdc.kugi.kyoto-u.ac.jp": srv.url})
        store = str(tmp_path / "isgi.zarr")
        sym = ingest_remote("isgi", "2017-09", "2017-09", store=store, remote="kyoto")
        dst = ingest_remote("isgi", "2003-11", store=store, remote="kyoto_dst")
        paths = [r["path"] for r in srv.requests]
    assert asked[0]["Tens"] == "201" and asked[0]["Year"] == "7" and asked[0]["Dur_Day_Tens"] == "03"
    assert sym.written == 44640 and dst.files == 1
    # final is asked first and is missing (404); provisional exists, so realtime is never asked
    assert any(p.startswith("/dst_final/200311") for p in paths) and not any("dst_realtime" in p for p in paths)
    ds = xr.open_zarr(store, consolidated=False)
    assert float(ds.dst.min()) == -422 and pd.Timestamp(ds.dst.idxmin().values) == pd.Timestamp("2003-11-20T20:00")
    assert np.isnan(ds.dst.sel(time="2003-11-22T03:00").values) and float(ds.sym_h.min()) == -146


def test_isgi_ws_needs_the_token_sends_it_only_on_the_wire_and_unzips(root, catalog_at, sample_dir, tmp_path,
                                                                        monkeypatch):
    month = bz2.decompress((sample_dir / "isgi/kyoto_asysym_iaga2002/WWW_aeasy00025746.dat.txt.bz2").read_bytes())
    with ServiceServer(tmp_path, routes={"/ws": isgi_ws({"ASY": month}, token="s3cret")}) as srv:
        catalog_at({"https://isgi.unistra.fr": srv.url})
        store = str(tmp_path / "isgi.zarr")
        monkeypatch.delenv("GEOPIPE_ISGI_TOKEN", raising=False)
        monkeypatch.setattr(tokens, "_secret", lambda block: None)  # no Prefect Secret block either
        with pytest.raises(tokens.TokenError, match="set GEOPIPE_ISGI_TOKEN or create a Prefect Secret block"):
            ingest_remote("isgi", "2017-09-01", "2017-09-30", store=store, remote="isgi", index="ASY")
        monkeypatch.setenv("GEOPIPE_ISGI_TOKEN", "wrong")
        with pytest.raises(tokens.TokenError, match="refused the user token"):
            ingest_remote("isgi", "2017-09-01", "2017-09-30", store=store, remote="isgi", index="ASY")
        monkeypatch.setenv("GEOPIPE_ISGI_TOKEN", "s3cret")
        report = ingest_remote("isgi", "2017-09-01", "2017-09-30", store=store, remote="isgi", index="ASY")
        asked = [r["path"] for r in srv.requests]
    assert report.written == 44640
    assert "user=s3cret" in asked[-1] and "index=ASY&StartTime=2017-09-01&EndTime=2017-09-30" in asked[-1]
    from geopipe import store as _store

    assert all("s3cret" not in s["path"] for s in _store.sources_of(store))


def test_gfz_kp_json_lands_on_the_three_hour_stamps(root, tmp_path):
    report = ingest("isgi", [str(KYOTO / "gfz_kp_200310.json")], str(tmp_path / "kp.zarr"), strict=True)
    kp = xr.open_zarr(tmp_path / "kp.zarr", consolidated=False).kp.to_series()
    assert report.written == 24 and kp["2003-10-29T12:00"] == pytest.approx(8.667, abs=1e-3)
    assert np.isnan(kp["2003-10-31T06:00"]) and (kp.index.hour % 3 == 0).all()


def test_429_with_retry_after_is_waited_out_on_the_clock(tmp_path, monkeypatch):
    from geopipe.sources import remote

    (tmp_path / "f.txt").write_bytes(b"hello")
    clock = polite.SimulatedClock(1_000_000.0)
    monkeypatch.setattr(polite, "CLOCK", clock)
    with ServiceServer(tmp_path, throttle={"/f.txt": 2}, retry_after=45) as srv:
        assert remote.fetch_file(srv.url + "/f.txt") == b"hello"
        statuses = [r.get("status") for r in srv.requests]
    assert statuses[:2] == [429, 429] and clock.now() - 1_000_000.0 >= 90


def test_nomads_requests_are_spaced_to_the_catalogs_rate():
    clock = polite.SimulatedClock(0.0)
    old = polite.CLOCK
    polite.CLOCK = clock
    try:
        url = "https://nomads.ncep.noaa.gov/pub/data/nccf/com/gfs/prod/x"
        polite._next.clear()
        for _ in range(4):
            polite.throttle(url)
        polite.throttle("https://example.org/y")  # hosts without a rate are never delayed
    finally:
        polite.CLOCK = old
    assert clock.now() == pytest.approx(3 * 60.0 / 60)


def test_sources_check_reports_reachable_unreachable_and_token(catalog_at, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GEOPIPE_ISGI_TOKEN", raising=False)
    monkeypatch.setattr(tokens, "_secret", lambda block: None)
    (tmp_path / "www/products/solar-wind").mkdir(parents=True)
    shutil.copy(KYOTO / "swpc_mag.json", tmp_path / "www/products/solar-wind/mag-1-day.json")
    with ServiceServer(tmp_path / "www") as srv:
        # every host of the two sources on loopback; SPDF on a closed port
        catalog_at({"https://services.swpc.noaa.gov": srv.url, "https://isgi.unistra.fr": srv.url,
                    "https://wdc.kugi.kyoto-u.ac.jp": srv.url, "https://kp.gfz-potsdam.de": srv.url,
                    "https://spdf.gsfc.nasa.gov": "http://127.0.0.1:9"})
        assert main(["sources", "check", "omni", "isgi"]) == 1
    out = {tuple(line.split()[:2]): line for line in capsys.readouterr().out.splitlines()}
    assert " reachable" in out[("omni", "swpc")]
    assert "unreachable" in out[("omni", "spdf")]
    assert "needs a token" in out[("isgi", "isgi")]
    assert "this recent file is not there" in out[("isgi", "kyoto_dst")]  # the server answers 404


def test_cli_cycle_latest_probes_the_idx_and_ingests_the_newest_published_cycle(root, tmp_path, monkeypatch, capsys):
    from geopipe.sample.generate import generate

    generate(tmp_path / "archive", seed=2, days=1, res=4.0, n_tropical=1, n_extratropical=1, goes_times=0)
    # 08:00 UTC on the archive's day: 06Z is the newest cycle that can be out (12Z and 18Z are future)
    monkeypatch.setattr(polite, "CLOCK", polite.SimulatedClock(pd.Timestamp("2024-09-01T08:00").timestamp()))
    with ServiceServer(tmp_path / "archive") as srv:
        base = srv.url + "/gfs"
        assert main(["ingest", "gfs", "--cycle", "latest", "--remote", base, "--resolution", "4p00", "--dry-run"]) == 0
        assert capsys.readouterr().out.split() == [
            f"{base}/gfs.{t:%Y%m%d}/{t:%H}/atmos/gfs.t{t:%H}z.pgrb2.4p00.f000.idx"
            for t in pd.date_range(end="2024-09-01T06", periods=4, freq="6h")[::-1]]
        assert main(["ingest", "gfs", "--cycle", "latest", "--remote", base, "--resolution", "4p00", "--vars", "pwat",
                     "--store", "gfs.zarr", "--json"]) == 0
    ds = xr.open_zarr(root / "gfs.zarr", consolidated=False)
    assert list(ds.time.values) == [np.datetime64("2024-09-01T06:00", "ns")]


def test_gfz_nowcast_text_reads_kp_columns_and_unknown_values_are_nan():
    from geopipe.sources import gfz
    from geopipe.sources.isgi import read_frame

    # the layout GFZ documents in the file's own header (YYYY MM DD days days_m Bsr dB Kp1..8 ap1..8 Ap SN F10.7obs F10.7adj D)
    text = (b"# PURPOSE: This file distributes the geomagnetic planetary three-hour index Kp ...\n"
            b"# YYY MM DD  days  days_m  Bsr dB     Kp1    Kp2    Kp3    Kp4    Kp5    Kp6    Kp7    Kp8  "
            b"ap1  ap2  ap3  ap4  ap5  ap6  ap7  ap8    Ap  SN F10.7obs F10.7adj D\n"
            b"2026 11 29 34300 34300.5 2617 23  2.333  3.000  2.667  1.667  1.333  2.000  3.333  4.000"
            b"    9   15   12    6    5    7   18   27   12  87  142.1  145.3 0\n"
            b"2026 11 30 34301 34301.5 2617 24  4.667  5.333  4.000  3.667 -1.000 -1.000 -1.000 -1.000"
            b"   39   56   27   22   -1   -1   -1   -1   -1  -1   -1.0   -1.0 0\n")
    assert gfz.looks_like_text(text)
    frame, fmt = read_frame("Kp_ap_Ap_SN_F107_nowcast.txt", text)
    assert fmt == "gfz-kp-text" and len(frame) == 16
    assert frame.kp["2026-11-29T21:00"] == pytest.approx(4.0) and frame.kp["2026-11-30T03:00"] == pytest.approx(5.333)
    assert frame.kp["2026-11-30T12:00":].isna().all()
