"""The scheduled ingest flows against loopback services: GFS hours appearing over a simulated
hour, the GOES hourly flow red on an empty hour and green on GOES-19 names."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import xarray as xr

from geopipe.sources import polite

FHOURS = [0, 3, 6, 9, 12]
CYCLE = pd.Timestamp("2024-09-01T00")
#: NOMADS-like publication: f000 at init+3h30m, then one hour every 12 minutes (f012 at +4h18m)
PUBLISHED = {h: CYCLE + pd.Timedelta(minutes=210 + 4 * h) for h in FHOURS}


def test_gfs_flow_ingests_a_cycle_whose_hours_appear_one_by_one(prefect_harness, tmp_path, monkeypatch):
    from flows.ingest import ingest_gfs
    from geopipe.sample.generate import generate
    from tests.support.services import ServiceServer

    generate(tmp_path / "archive", seed=5, days=1, res=4.0, n_tropical=1, n_extratropical=1, goes_times=0,
             fhours=FHOURS)
    clock = polite.SimulatedClock(PUBLISHED[0].timestamp())  # the run starts as f000 comes out
    monkeypatch.setattr(polite, "CLOCK", clock)

    def published(path: str) -> bool:
        m = re.search(r"gfs\.(\d{8})/(\d\d)/.*\.f(\d{3})", path)
        if not m:
            return True
        init = pd.Timestamp(f"{m[1]}T{m[2]}")
        return init != CYCLE or pd.Timestamp(clock.now(), unit="s") >= PUBLISHED[int(m[3])]

    store = str(tmp_path / "gfs.zarr")
    with ServiceServer(tmp_path / "archive", published=published) as srv:
        report = ingest_gfs(cycle=f"{CYCLE:%Y-%m-%dT%H}", fhours="0-12/3", remote=srv.url + "/gfs",
                            resolution="4p00", store=store, vars=["pwat"], poll_minutes=70, poll_interval=5)
        requests = srv.requests
    assert report["ingested"] == FHOURS and report["missing"] == [] and report["written"] == len(FHOURS)
    assert report["rounds"] >= 9  # it looked again every 5 simulated minutes until f012 came out
    assert clock.now() - PUBLISHED[0].timestamp() >= 48 * 60
    ds = xr.open_zarr(store, consolidated=False)
    assert list(ds.time.values) == [(CYCLE + pd.Timedelta(hours=h)).to_datetime64() for h in FHOURS]
    assert ds.indexes["time"].is_unique
    # every GRIB file was read (by byte range) once: nothing fetched or written twice
    grib_gets = [r["path"] for r in requests if r["range"] and not r["path"].endswith(".idx")]
    assert sorted(grib_gets) == sorted(set(grib_gets)) and len(set(grib_gets)) == len(FHOURS)
    # before its publication time each file answered 404
    assert any(r.get("status") == 404 and r["path"].endswith("f012.idx") for r in requests)


def test_gfs_cycle_still_incomplete_after_its_window_fails_naming_the_hours(prefect_harness, tmp_path, monkeypatch):
    from flows.ingest import ingest_gfs
    from geopipe.errors import RemoteError
    from tests.support.services import ServiceServer

    # nothing published at all, and the run starts 8 h after the cycle: its window (7 h) is over
    clock = polite.SimulatedClock((CYCLE + pd.Timedelta(hours=8)).timestamp())
    monkeypatch.setattr(polite, "CLOCK", clock)
    with ServiceServer(tmp_path) as srv:
        state = ingest_gfs(cycle=f"{CYCLE:%Y-%m-%dT%H}", fhours="0,6", remote=srv.url + "/gfs", resolution="4p00",
                           store=str(tmp_path / "g.zarr"), poll_minutes=10, poll_interval=5, return_state=True)
    assert state.is_failed()
    with pytest.raises(RemoteError, match=r"still incomplete 7 h after its start: f000, f006 missing"):
        state.result()


@pytest.fixture(scope="module")
def goes19_s3():
    """A moto S3 server on loopback with a GOES-19 bucket: one hour of scans, the next hour empty."""
    from geopipe.sample import REAL
    from tests.support.s3 import loopback_s3

    with loopback_s3("noaa-goes19") as server:
        body = (REAL / "goes" / "goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc").read_bytes()
        for minute in ("00", "01"):  # GOES-19 names, as NOAA writes them since April 2025
            key = f"ABI-L2-CMIPM/2026/152/18/OR_ABI-L2-CMIPM1-M6C13_G19_s202615218{minute}281_e1_c2.nc"
            server.client.put_object(Bucket="noaa-goes19", Key=key, Body=body, ACL="public-read")
        server.client.put_object(Bucket="noaa-goes19", Key="ABI-L2-CMIPM/2026/152/19/.keep", Body=b"",
                                 ACL="public-read")
        yield {"client_kwargs": {"endpoint_url": server.endpoint}}


def test_goes_hourly_flow_succeeds_on_goes19_names_and_fails_red_on_an_empty_hour(prefect_harness, goes19_s3,
                                                                                   tmp_path):
    from flows.ingest import ingest_goes_recent

    store = str(tmp_path / "goes.zarr")
    green = ingest_goes_recent(satellite="east", product="ABI-L2-CMIPM1", bands=[13], hours=1,
                               end="2026-06-01T19:00", store=store, storage_options=goes19_s3, list_retries=0)
    assert green["files"] == 2 and not green["quarantined"]
    assert xr.open_zarr(store, consolidated=False).sizes["time"] >= 1
    red = ingest_goes_recent(satellite="east", product="ABI-L2-CMIPM1", bands=[13], hours=1,
                             end="2026-06-01T20:00", store=store, storage_options=goes19_s3, list_retries=0,
                             return_state=True)
    assert red.is_failed()
    with pytest.raises(Exception, match=r"s3://noaa-goes19/ABI-L2-CMIPM/2026/152/19/ lists no file"):
        red.result()
