"""geopipe.sources.remote and the GFS remote path: real .idx parsing, range plans, fetches under faults.

The remote files are real-format GRIB2 (messages of the bundled GFS sample, re-dated) laid
out like NOAA's bucket and served by the loopback FileServer, with a wgrib2 .idx written
from the message offsets (tests/sources/gribdata.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from geopipe import store
from geopipe.errors import InputError, RemoteError
from geopipe.ingest import ingest
from geopipe.sources import get_reader, remote
from tests.sources import gribdata
from tests.support.httpserver import FileServer

RAP_IDX = Path(__file__).resolve().parents[1] / "fixtures" / "idx" / "rap.t00z.awp130pgrbf00.grib2.idx"
INIT = dt.datetime(2024, 9, 26, 0)
# FileServer's "reset" fault stalls the connection rather than resetting it: the timeout ends those reads
FAST = remote.Retry(attempts=8, base_delay=0.01, timeout=1)


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    root = tmp_path_factory.mktemp("bucket")
    return root, gribdata.bucket(root, INIT, [0, 6])


def _url(server, root, path) -> str:
    return f"{server.url}/{path.relative_to(root)}"


# ----------------------------------------------------------------------------- .idx


def test_parse_real_rap_idx_with_sub_messages():
    entries = remote.parse_idx(RAP_IDX.read_text(), str(RAP_IDX))
    assert len(entries) == 355
    u, v = (e for e in entries if e.number in ("12.1", "12.2"))
    assert (u.var, v.var, u.level) == ("UGRD", "VGRD", "100 mb")
    assert u.offset == v.offset == 734576 and (u.message, u.sub, v.sub) == (12, 0, 1)
    spans = remote.message_spans(entries)
    assert spans[734576] == 802204  # the next *distinct* offset, message 13
    assert spans[max(spans)] is None  # the last message runs to the end of the file
    pwat = remote.find_entry(entries, "PWAT:entire atmosphere (considered as a single layer)", "x")
    assert (pwat.date, pwat.forecast) == ("2023120100", "anl")
    # UGRD+VGRD 100 mb share one message; HGT 125 mb follows it: one merged range
    wanted = [u, v, remote.find_entry(entries, "HGT:125 mb", "x")]
    assert remote.plan_ranges(entries, wanted) == [(734576, 858444)]
    last = entries[-1]
    assert remote.plan_ranges(entries, [pwat, last]) == [(pwat.offset, spans[pwat.offset]), (last.offset, None)]


def test_idx_errors_name_the_field_and_the_line():
    entries = remote.parse_idx(RAP_IDX.read_text(), "rap.idx")
    with pytest.raises(InputError, match=r"rap.idx: field 'ABSV:850 mb' is not in the inventory"):
        remote.find_entry(entries, "ABSV:850 mb", "rap.idx")
    text = RAP_IDX.read_text().splitlines()
    text[4] = "garbage line"
    with pytest.raises(InputError, match=r"rap.idx:5: not a wgrib2 inventory line"):
        remote.parse_idx("\n".join(text), "rap.idx")


def test_plan_merges_neighbours_and_prefers_instant_lines():
    text = ("1:0:d=2024092600:HGT:500 mb:6 hour fcst:\n2:100:d=2024092600:PRATE:surface:0-6 hour ave fcst:\n"
            "3:250:d=2024092600:PRATE:surface:6 hour fcst:\n4:400:d=2024092600:TMP:850 mb:6 hour fcst:\n")
    entries = remote.parse_idx(text, "t.idx")
    prate = remote.find_entry(entries, "PRATE:surface", "t.idx")
    assert prate.number == "3" and prate.instant
    assert remote.find_entry(entries, "PRATE:surface:0-6 hour ave fcst", "t.idx").number == "2"
    first, tmp = entries[0], entries[3]
    assert remote.plan_ranges(entries, [first, tmp]) == [(0, 100), (400, None)]
    assert remote.plan_ranges(entries, [first, prate]) == [(0, 100), (250, 400)]
    assert remote.plan_ranges(entries, [first, prate], max_gap=150, max_waste=1.0) == [(0, 400)]
    assert remote.plan_ranges(entries, [first, prate], max_gap=150) == [(0, 100), (250, 400)]  # 60 % waste


def _wanted(entries, *keys):
    return [remote.find_entry(entries, k, "rap.idx") for k in keys]


def test_plan_coalesces_real_rap_inventory_within_five_percent():
    entries = remote.parse_idx(RAP_IDX.read_text(), str(RAP_IDX))
    size = 2 * entries[-1].offset  # past the last message: only matters if it were asked for
    spans = remote.message_spans(entries)
    # a level's HGT, TMP, RH (messages 8-10) and its UGRD/VGRD pair (12.1/12.2, one message):
    # neighbours in one range, the two-field message read once
    keys = ["HGT:100 mb", "TMP:100 mb", "RH:100 mb", "UGRD:100 mb", "VGRD:100 mb"]
    wanted = _wanted(entries, *keys)
    plan = remote.plan_ranges(entries, wanted, max_gap=0)
    assert plan == [(607994, 716770), (734576, 802204)]
    # VVEL:100 mb (17 806 bytes) between them is 10.1 % of the 176 404 asked for: too much waste
    assert remote.plan_ranges(entries, wanted) == plan
    assert remote.plan_ranges(entries, wanted, max_waste=0.11) == [(607994, 802204)]
    # GFS-like surface set: TMP:2 m, the 10 m wind pair, PWAT, MSLMA spread over 1.5 MB
    wanted = _wanted(entries, "TMP:2 m above ground", "UGRD:10 m above ground", "VGRD:10 m above ground",
                     "PWAT:entire atmosphere (considered as a single layer)", "MSLMA:mean sea level")
    needed = sum(spans[o] - o for o in {e.offset for e in wanted})
    for max_waste in (0.0, 0.05, 0.2, 1.0):
        plan = remote.plan_ranges(entries, wanted, max_waste=max_waste)
        fetched = remote.range_bytes(plan, size)
        assert needed <= fetched <= (1 + max_waste) * needed
        assert all(any(a <= e.offset and spans[e.offset] <= b for a, b in plan) for e in wanted)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(plan, plan[1:]))  # sorted, no byte twice
    assert len(remote.plan_ranges(entries, wanted, max_waste=0.0)) == 4  # UGRD/VGRD: one message
    assert len(remote.plan_ranges(entries, wanted, max_waste=1.0)) == 3  # the 280 kB gap read through
    # the last message runs to the end of the file
    assert remote.plan_ranges(entries, [entries[-1]]) == [(entries[-1].offset, None)]


# ----------------------------------------------------------------------------- fetching


def test_fetch_ranges_exact_bytes_under_faults(bucket):
    root, paths = bucket
    data = paths[0].read_bytes()
    ranges = [(0, 1000), (5000, 9000), (len(data) - 500, None)]
    with FileServer(root, faults={"503": 0.3, "reset": 0.1, "truncate": 0.1}, seed=3) as srv:
        got = remote.fetch_ranges(_url(srv, root, paths[0]), ranges, retry=FAST)
        assert sum(srv.injected.values()) > 0
    assert got == [data[0:1000], data[5000:9000], data[-500:]]


class _IgnoresRange(BaseHTTPRequestHandler):
    """A server that answers every GET with the whole file (200), as some mirrors do."""

    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_server_ignoring_range_is_refused():
    _IgnoresRange.body = bytes(range(256)) * 40
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _IgnoresRange)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/file.grib2"
        with pytest.raises(RemoteError, match=r"file.grib2: asked for bytes 100-199 .* ignored the Range"):
            remote.fetch_ranges(url, [(100, 200)], retry=FAST)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_persistent_failure_raises_remote_error_naming_the_url(bucket):
    root, paths = bucket
    with FileServer(root, faults={"503": 1.0}) as srv:
        url = _url(srv, root, paths[0])
        with pytest.raises(RemoteError, match=rf"{url}: bytes 0-99 failed after 3 attempts: HTTP 503"):
            remote.fetch_ranges(url, [(0, 100)], retry=remote.Retry(attempts=3, base_delay=0.01))
        assert len(srv.requests) == 3
        with pytest.raises(RemoteError, match=r"\.idx: download failed after 3 attempts"):
            get_reader("gfs", retry=remote.Retry(attempts=3, base_delay=0.01)).open_dataset(url)
    with FileServer(root) as srv:  # a 404 is not retried
        with pytest.raises(RemoteError, match="FileNotFoundError"):
            remote.fetch_file(f"{srv.url}/gfs.20240926/00/atmos/missing.idx", retry=FAST)
        assert len(srv.requests) == 1


# ----------------------------------------------------------------------------- GFS over HTTP


def test_slow_link_paces_answers_and_ingest_prefetches_in_order(bucket, tmp_path):
    """The FileServer's latency and shared bandwidth (benchmarks/gfs_cycle.py's far server)."""
    root, paths = bucket
    n = min(paths[0].stat().st_size, 100_000)
    with FileServer(root, latency=0.05, bandwidth=1e6) as srv:
        url = _url(srv, root, paths[0])
        start = time.perf_counter()
        got = remote.fetch_ranges(url, [(0, n // 2), (n // 2, n)], retry=FAST)
        took = time.perf_counter() - start
        assert b"".join(got) == paths[0].read_bytes()[:n]
        assert took >= 0.05 + 0.9 * n / 1e6  # the two ranges went out together but share one link
        report = ingest("gfs", [_url(srv, root, p) for p in paths], str(tmp_path / "slow.zarr"), strict=True,
                        retry=FAST)
    assert (report.files, report.written) == (2, 2)
    ds = xr.open_zarr(tmp_path / "slow.zarr", consolidated=False)
    assert list(ds.step.values.astype("timedelta64[h]").astype(int)) == [0, 6]



def test_remote_ingest_fetches_only_the_asked_ranges(bucket, tmp_path):
    root, paths = bucket
    out = tmp_path / "gfs.zarr"
    with FileServer(root) as srv:
        urls = [_url(srv, root, p) for p in paths]
        report = ingest("gfs", urls, str(out), strict=True, retry=FAST)
        requests = srv.requests
    assert (report.files, report.written) == (2, 2)
    for path in paths:
        entries = remote.parse_idx(Path(str(path) + ".idx").read_text(), "idx")
        offsets = sorted({e.offset for e in entries})  # distinct: 5.1 and 5.2 share one
        # pwat alone; prmsl + the UGRD/VGRD message + ABSV 850 adjacent: one range; gh/t/rh never
        expected = {f"bytes={offsets[1]}-{offsets[2] - 1}", f"bytes={offsets[3]}-{offsets[6] - 1}"}
        asked = {r["range"] for r in requests if r["path"] == f"/{path.relative_to(root)}"}
        assert asked == expected
        assert {r["range"] for r in requests if r["path"].endswith(".idx") and path.name in r["path"]} == {None}
    ds = xr.open_zarr(out, consolidated=False)
    assert list(ds.time.values) == [np.datetime64("2024-09-26T00"), np.datetime64("2024-09-26T06")]
    assert list(ds.step.values.astype("timedelta64[h]").astype(int)) == [0, 6]
    assert (ds.init_time.values == np.datetime64("2024-09-26T00")).all()
    sample = gribdata.fields(paths[1])
    for name, spec in {"pwat": ("pwat",), "prmsl": ("prmsl",), "u10": ("10u",), "v10": ("10v",),
                       "absv850": ("absv", "isobaricInhPa", 850)}.items():
        np.testing.assert_array_equal(ds[name].isel(time=1).values, gribdata.pick(sample, *spec)["values"])
    data = paths[1].read_bytes()
    fetched = data[offsets[1]:offsets[2]] + data[offsets[3]:offsets[6]]
    record = next(s for s in store.sources_of(str(out)) if s["path"] == urls[1])
    assert record["sha256"] == hashlib.sha256(fetched).hexdigest() and record["size"] == len(fetched)


def test_remote_ingest_under_faults_gives_identical_values(bucket, tmp_path):
    root, paths = bucket
    with FileServer(root) as srv:
        ingest("gfs", [_url(srv, root, p) for p in paths], str(tmp_path / "clean.zarr"), strict=True, retry=FAST)
    with FileServer(root, faults={"503": 0.3, "reset": 0.1, "truncate": 0.1}, seed=7) as srv:
        ingest("gfs", [_url(srv, root, p) for p in paths], str(tmp_path / "faulty.zarr"), strict=True, retry=FAST)
        injected = srv.injected
    assert injected["503"] > 0 and sum(injected.values()) >= 3
    clean = xr.open_zarr(tmp_path / "clean.zarr", consolidated=False).load()
    faulty = xr.open_zarr(tmp_path / "faulty.zarr", consolidated=False).load()
    xr.testing.assert_identical(clean.drop_attrs(), faulty.drop_attrs())


def test_remote_missing_field_names_it(bucket, tmp_path):
    root, paths = bucket
    with FileServer(root) as srv:
        url = _url(srv, root, paths[0])
        with pytest.raises(InputError, match=r"\.idx: field 'TMP:300 mb' is not in the inventory"):
            get_reader("gfs", vars=["pwat", "t:300"], retry=FAST).open_dataset(url)
        # through the driver the file is quarantined, the store never created
        report = ingest("gfs", [url], str(tmp_path / "x.zarr"), vars=["t:300"], retry=FAST)
    assert len(report.quarantined) == 1 and "TMP:300 mb" in report.quarantined[0]["reason"]
    assert not (tmp_path / "x.zarr").exists()


def test_cli_cycle_with_url_base(bucket, tmp_path, capsys):
    root, _ = bucket
    out = tmp_path / "cli.zarr"
    with FileServer(root) as srv:
        rc = gribdata.ingest_cli(["ingest", "gfs", "--cycle", "2024-09-26T00", "--fhours", "0-6/6", "--remote", srv.url,
                   "--store", str(out), "--vars", "r:700,u10", "--json"])
        ranges = [r["range"] for r in srv.requests if r["range"]]
    assert rc == 0, capsys.readouterr()
    ds = xr.open_zarr(out, consolidated=False)
    assert sorted(ds.data_vars) == ["r700", "u10"] and ds.sizes["time"] == 2
    # RH 700 mb is the last message: its range was closed with the file size (HEAD), not left open
    assert all(r.split("=")[1].split("-")[1] for r in ranges)
    assert ds.r700.attrs["GRIB_level"] == 700.0 and ds.r700.attrs["units"] == "%"


def test_remote_over_s3(bucket):
    """The same byte-range reads through s3fs, against a local moto S3 holding the bucket layout."""
    import boto3
    from moto.server import ThreadedMotoServer

    root, paths = bucket
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                          region_name="us-east-1")
        s3.create_bucket(Bucket="noaa-gfs-bdp-pds")
        for path in (paths[1], Path(str(paths[1]) + ".idx")):
            s3.upload_file(str(path), "noaa-gfs-bdp-pds", str(path.relative_to(root)))
        options = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        reader = get_reader("gfs", vars=["pwat", "u10", "r:700"], remote_options=options, retry=FAST)
        ds = reader.open_dataset(f"s3://noaa-gfs-bdp-pds/{paths[1].relative_to(root)}").load()
    finally:
        server.stop()
    offsets = sorted({e.offset for e in remote.parse_idx(Path(str(paths[1]) + ".idx").read_text(), "idx")})
    size = paths[1].stat().st_size
    assert ds.attrs["_geopipe_record"]["ranges"] == [[offsets[1], offsets[2]], [offsets[4], offsets[5]], [offsets[6], size]]
    sample = gribdata.fields(paths[1])
    np.testing.assert_array_equal(ds.pwat.values[0], gribdata.pick(sample, "pwat")["values"])
    np.testing.assert_array_equal(ds.u10.values[0], gribdata.pick(sample, "10u")["values"])
    np.testing.assert_array_equal(ds.r700.values[0], gribdata.pick(sample, "r", "isobaricInhPa", 700)["values"])
