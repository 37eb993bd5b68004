"""``remote_inputs`` of every source and ``geopipe ingest ... --dry-run``: the URLs the live services serve.

The expected URLs are those of the services' documented layouts: NOAA's open-data registry
and Herbie (GFS, ``atmos/`` from 2021-03-23), NOAA's GOES buckets (goes2go, satpy), SPDF's
``high_res_omni/monthly_1min/00readme.txt``, spacepy's ``pybats/kyoto.py`` (the aeasy CGI),
pyspedas' ``kyoto/load_dst.py`` (Dst pages), ISGI's ``ws_documentation.php``, GFZ's JSON API
and SWPC's ``products/solar-wind``.  No network: a dry run only formats.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geopipe.cli import main
from geopipe.errors import GeopipeError

KYOTO_CGI_2003_10 = ("https://wdc.kugi.kyoto-u.ac.jp/cgi-bin/aeasy-cgi?Tens=200&Year=3&Month=10&Day_Tens=0&Days=1"
                     "&Hour=00&min=00&Dur_Day_Tens=03&Dur_Day=1&Dur_Hour=00&Dur_Min=00&Image+Type=GIF&COLOR=COLOR"
                     "&AE+Sensitivity=0&ASY%2FSYM++Sensitivity=0&Output=ASY&Out+format=IAGA2002")

CASES = {
    "gfs-2026-aws": (["gfs", "--cycle", "2026-06-01T06", "--fhours", "0-6/6", "--remote", "aws"],
                     ["s3://noaa-gfs-bdp-pds/gfs.20260601/06/atmos/gfs.t06z.pgrb2.0p25.f000",
                      "s3://noaa-gfs-bdp-pds/gfs.20260601/06/atmos/gfs.t06z.pgrb2.0p25.f006"]),
    "gfs-2026-nomads": (["gfs", "--cycle", "2026-06-01T06", "--remote", "nomads"],
                        ["https://nomads.ncep.noaa.gov/pub/data/nccf/com/gfs/prod/gfs.20260601/06/atmos/"
                         "gfs.t06z.pgrb2.0p25.f000"]),
    "gfs-2021-02": (["gfs", "--cycle", "2021-02-15T12", "--fhours", "3", "--remote", "aws"],
                    ["s3://noaa-gfs-bdp-pds/gfs.20210215/12/gfs.t12z.pgrb2.0p25.f003"]),
    "goes-east-2022": (["goes", "--satellite", "east", "--start", "2022-09-26T18:00", "--end", "2022-09-26T20:00"],
                       ["s3://noaa-goes16/ABI-L2-CMIPF/2022/269/18/", "s3://noaa-goes16/ABI-L2-CMIPF/2022/269/19/"]),
    "goes-west-2022": (["goes", "--satellite", "west", "--start", "2022-09-26T18:00", "--end", "2022-09-26T19:00"],
                       ["s3://noaa-goes17/ABI-L2-CMIPF/2022/269/18/"]),
    "goes-east-2024": (["goes", "--satellite", "east", "--start", "2024-09-26T18:00", "--end", "2024-09-26T19:00"],
                       ["s3://noaa-goes16/ABI-L2-CMIPF/2024/270/18/"]),
    "goes-west-2024": (["goes", "--satellite", "west", "--start", "2024-09-26T18:00", "--end", "2024-09-26T19:00"],
                       ["s3://noaa-goes18/ABI-L2-CMIPF/2024/270/18/"]),
    "goes-east-2026": (["goes", "--satellite", "east", "--product", "ABI-L1b-RadC", "--start", "2026-09-26T18:00",
                        "--end", "2026-09-26T19:00"], ["s3://noaa-goes19/ABI-L1b-RadC/2026/269/18/"]),
    "goes-west-2026": (["goes", "--satellite", "west", "--start", "2026-09-26T18:00", "--end", "2026-09-26T19:00"],
                       ["s3://noaa-goes18/ABI-L2-CMIPF/2026/269/18/"]),
    "omni-spdf": (["omni", "--remote", "spdf", "--start", "2003-10", "--end", "2003-11"],
                  ["https://spdf.gsfc.nasa.gov/pub/data/omni/high_res_omni/monthly_1min/omni_min200310.asc",
                   "https://spdf.gsfc.nasa.gov/pub/data/omni/high_res_omni/monthly_1min/omni_min200311.asc"]),
    "omni-spdf-5min": (["omni", "--remote", "spdf_5min", "--start", "2003-10"],
                       ["https://spdf.gsfc.nasa.gov/pub/data/omni/high_res_omni/omni_5min2003.asc"]),
    "kyoto-asysym-2003": (["isgi", "--remote", "kyoto", "--start", "2003-10"], [KYOTO_CGI_2003_10]),
    "kyoto-dst-2003": (["isgi", "--remote", "kyoto_dst", "--start", "2003-11"],
                       ["https://wdc.kugi.kyoto-u.ac.jp/dst_final/200311/index.html",
                        "https://wdc.kugi.kyoto-u.ac.jp/dst_provisional/200311/index.html",
                        "https://wdc.kugi.kyoto-u.ac.jp/dst_realtime/200311/index.html"]),
    "isgi-ws": (["isgi", "--remote", "isgi", "--index", "Kp", "--start", "2003-10-01", "--end", "2003-10-31"],
                ["https://isgi.unistra.fr/ws?index=Kp&StartTime=2003-10-01&EndTime=2003-10-31&format=IAGA2002"]),
    "gfz-kp": (["isgi", "--remote", "gfz_kp", "--start", "2003-10"],
               ["https://kp.gfz-potsdam.de/app/json/?start=2003-10-01T00:00:00Z&end=2003-10-31T23:59:59Z&index=Kp"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dry_run_prints_the_urls_the_live_service_serves(case, capsys, monkeypatch):
    import fsspec

    argv, expected = CASES[case]
    monkeypatch.setattr(fsspec, "filesystem", lambda *a, **k: pytest.fail("a dry run touched the network"))
    assert main(["ingest", *argv, "--dry-run"]) == 0
    assert capsys.readouterr().out.split() == expected


def test_east_and_west_switch_at_noaa_operational_dates():
    from geopipe.sources.goes_remote import satellite_at

    assert satellite_at("east", "2025-04-06T23:59") == "goes16"
    assert satellite_at("east", "2025-04-07T00:00") == "goes19"
    assert satellite_at("west", "2023-01-03T23:59") == "goes17"
    assert satellite_at("west", "2023-01-04T00:00") == "goes18"
    assert satellite_at("goes17", "2026-01-01") == "goes17"
    with pytest.raises(GeopipeError, match="no GOES-West satellite with an ABI bucket"):
        satellite_at("west", "2018-06-01")


def test_a_range_over_the_switch_lists_each_hour_in_its_satellites_bucket():
    from geopipe.sources.goes import GOESReader

    plan = GOESReader.remote_inputs("2025-04-06T23:00", "2025-04-07T01:00", satellite="east", bands=[13])
    assert plan.lines() == ["s3://noaa-goes16/ABI-L2-CMIPF/2025/096/23/", "s3://noaa-goes19/ABI-L2-CMIPF/2025/097/00/"]
    keep = plan.listings[1].keep
    assert keep("noaa-goes19/ABI-L2-CMIPF/2025/097/00/OR_ABI-L2-CMIPF-M6C13_G19_s20250970000206_e1_c2.nc")
    assert not keep("noaa-goes19/ABI-L2-CMIPF/2025/097/00/OR_ABI-L2-CMIPF-M6C08_G19_s20250970000206_e1_c2.nc")


def test_gfs_auto_remote_takes_nomads_for_recent_cycles_and_no_atmos_before_march_2021():
    from geopipe.sources.gfs_remote import cycle_urls

    recent, _ = cycle_urls("2026-11-30T12", [0], "auto", now="2026-12-01T03:00")
    old, options = cycle_urls("2026-11-01T12", [0], "auto", now="2026-12-01T03:00")
    assert recent[0].startswith("https://nomads.ncep.noaa.gov/") and old[0].startswith("s3://noaa-gfs-bdp-pds/")
    assert options == {"anon": True}
    assert "/12/gfs.t12z" in cycle_urls("2021-03-22T12", [0], "aws")[0][0]
    assert "/00/atmos/gfs.t00z" in cycle_urls("2021-03-23T00", [0], "aws")[0][0]
    with pytest.raises(GeopipeError, match="not a cycle"):
        cycle_urls("2026-11-30T03", [0], "aws")


def test_swpc_window_is_the_shortest_product_reaching_back_to_the_start():
    from geopipe.sources.omni import OMNIReader

    now = pd.Timestamp("2026-12-01T12:00")
    plan = OMNIReader.remote_inputs("2026-12-01T07:00", "2026-12-01T12:00", remote="swpc", now=now)
    assert plan.lines() == ["https://services.swpc.noaa.gov/products/solar-wind/mag-6-hour.json",
                            "https://services.swpc.noaa.gov/products/solar-wind/plasma-6-hour.json"]
    with pytest.raises(GeopipeError, match="last 7 days only"):
        OMNIReader.remote_inputs("2026-11-20", remote="swpc", now=now)
