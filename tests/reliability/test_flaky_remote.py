"""Remote inputs over a flaky server: retried, verified, equal to the local ingest, failures reported.

Real files (the Kyoto month, Kp and Dst; a GOES scene; GFS GRIB2 laid out like NOAA's bucket
with wgrib2 ``.idx`` files, tests/sources/gribdata.py) are served by the loopback
:class:`~geopipe.sample.server.FileServer`, which answers 503, resets the connection or
cuts bodies short at random (seeded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import xarray as xr

from geopipe import store
from geopipe.errors import RemoteError
from geopipe.sample.server import FileServer
from geopipe.sources import remote
from geopipe.sources.goes import _fetch as goes_fetch
from tests.reliability import corpus
from tests.sources import gribdata

FAULTS = {"503": 0.3, "reset": 0.1, "truncate": 0.1}
#: quick retries for the direct fetch checks (the CLI runs use the default Retry)
QUICK = remote.Retry(attempts=10, base_delay=0.01, max_delay=0.05)
INIT = dt.datetime(2024, 9, 26, 0)
ISGI = ("isgi/WWW_aeasy00025746.dat.txt.bz2", "isgi/Kp_def2009.wdc", "isgi/dst2000_kyoto_wdc_hourly.txt")
GOES = ("goes/goes16_abi_cmip_C13_M1_20230011800_subset24x24.nc",)


@pytest.fixture(scope="module")
def bucket(tmp_path_factory) -> Path:
    """The served folder: real ISGI and GOES files, and two GFS files of one cycle with their .idx."""
    root = tmp_path_factory.mktemp("bucket")
    for rel, src in zip(ISGI + GOES, (corpus.KYOTO_MONTH, corpus.KP, corpus.DST, corpus.GOES_C13)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    gribdata.bucket(root, INIT, [0, 6])
    return root


def _gets(server: FileServer) -> int:
    return sum(r["method"] == "GET" for r in server.requests)


# ----------------------------------------------------------------------------- fetches


@pytest.mark.parametrize("kind", ["503", "reset", "truncate"])
def test_each_fault_kind_is_retried_until_the_exact_bytes_arrive(bucket, kind):
    path = bucket / ISGI[0]
    data = path.read_bytes()
    with FileServer(bucket, faults={kind: 0.5}, seed=1) as srv:
        url = f"{srv.url}/{ISGI[0]}"
        assert remote.fetch_file(url, {}, QUICK) == data
        ranges = [(0, 1000), (5000, 90000), (100000, None)]
        got = remote.fetch_ranges(url, ranges, {}, QUICK)
        assert got == [data[0:1000], data[5000:90000], data[100000:]]
        assert srv.injected[kind] >= 2


class _LyingHandler(BaseHTTPRequestHandler):
    """Answers a Range request with the whole file (``ignore``) or with fewer bytes than asked (``short``),
    each time with a matching Content-Length: only the range-length check can tell."""

    protocol_version = "HTTP/1.1"
    data = b""
    mode = "short"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.data)))
        self.end_headers()

    def do_GET(self):
        a, b = (int(x) for x in self.headers["Range"].split("=")[1].split("-"))
        body = self.data if self.mode == "ignore" else self.data[a:b + 1][: (b + 1 - a) // 2]
        self.send_response(200 if self.mode == "ignore" else 206)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("mode, message", [("short", "short body"), ("ignore", "ignored the Range request")])
def test_a_range_answered_with_the_wrong_length_is_refused(mode, message):
    handler = type("Handler", (_LyingHandler,), {"data": corpus.KP.read_bytes(), "mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/Kp_def2009.wdc"
        with pytest.raises(RemoteError, match=message) as err:
            remote.fetch_ranges(url, [(100, 2100)], {}, remote.Retry(attempts=3, base_delay=0.01))
        assert url in str(err.value)
    finally:
        server.shutdown()
        server.server_close()


def test_a_truncated_body_is_never_accepted(bucket):
    with FileServer(bucket, faults={"truncate": 1.0}, seed=0) as srv:
        url = f"{srv.url}/{ISGI[0]}"
        with pytest.raises(RemoteError, match="failed after 3 attempts") as err:
            remote.fetch_file(url, {}, remote.Retry(attempts=3, base_delay=0.01))
        assert url in str(err.value) and _gets(srv) == 3
        with pytest.raises(RemoteError, match="failed after 3 attempts"):
            remote.fetch_ranges(url, [(0, 50000)], {}, remote.Retry(attempts=3, base_delay=0.01))
        goes_url = f"{srv.url}/{GOES[0]}"
        # a body that never arrives whole is a failed download (the run fails, as for GFS), not a bad file
        with pytest.raises(RemoteError, match="failed after 5 attempts") as err:
            goes_fetch(goes_url, {})
        assert goes_url in str(err.value)
        assert srv.bytes_sent > 0 and srv.injected["truncate"] == _gets(srv)


# ----------------------------------------------------------------------------- ingests through the CLI


def _ingest(root: Path, source: str, inputs, store_name: str, *extra: str) -> list[str]:
    return ["--root", str(root), "ingest", source, *map(str, inputs), "--store", store_name, *extra]


GFS_VARS = "pwat,prmsl,u10,v10,absv:850"
#: the server's seed for each source: faults of every kind land on its requests
SEEDS = {"isgi": 9, "goes": 9, "gfs": 3}


@pytest.mark.parametrize("source", ["isgi", "goes", "gfs"])
def test_ingest_over_a_flaky_server_equals_the_local_ingest(launcher, bucket, tmp_path, source, figures):
    root = tmp_path / "root"
    if source == "gfs":
        local = sorted(p for p in bucket.rglob("gfs.t00z.pgrb2.0p25.f0*") if p.suffix != ".idx")
        local_args = _ingest(root, source, local, "local.zarr", "--vars", GFS_VARS)
    else:
        local = [bucket / rel for rel in (ISGI if source == "isgi" else GOES)]
        local_args = _ingest(root, source, local, "local.zarr")
    with FileServer(bucket, faults=FAULTS, seed=SEEDS[source]) as srv:
        if source == "gfs":  # the catalog's NOAA layout under the server's URL: .idx, then byte ranges
            remote_args = _ingest(root, source, [], "remote.zarr", "--cycle", INIT.isoformat(), "--fhours", "0,6",
                                  "--remote", srv.url)
        else:
            remote_args = _ingest(root, source, [f"{srv.url}/{p.relative_to(bucket)}" for p in local], "remote.zarr")
        t0 = time.monotonic()
        fetched = launcher.run(remote_args, timeout=240)
        seconds = time.monotonic() - t0
        injected, gets = srv.injected, _gets(srv)
    assert fetched.returncode == 0, fetched.stderr
    assert sum(injected.values()) >= 2, injected  # the faults happened, and were survived
    here = launcher.run(local_args)
    assert here.returncode == 0, here.stderr
    a = store.open_store(str(root / "remote.zarr")).load()
    b = store.open_store(str(root / "local.zarr")).load()
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    for name in b.variables:
        assert a[name].attrs == b[name].attrs, name
    if source != "gfs":  # whole files: the provenance hashes are the local files' hashes
        assert {s["sha256"] for s in store.sources_of(str(root / "remote.zarr"))} == \
               {hashlib.sha256(p.read_bytes()).hexdigest() for p in local}
    figures.setdefault("flaky_remote", {})[source] = {"faults": FAULTS, "injected": injected, "get_requests": gets,
                                                      "retries": sum(injected.values()), "seconds": round(seconds, 1)}


# ----------------------------------------------------------------------------- failures are reported


def test_a_url_that_always_fails_is_reported_within_bounded_time(launcher, bucket, tmp_path, figures):
    root = tmp_path / "root"
    out = {}
    with FileServer(bucket, faults={"503": 1.0}, seed=0) as srv:
        # ISGI/GFS path (geopipe.sources.remote): a RemoteError after the bounded retries
        url = f"{srv.url}/{ISGI[1]}"
        t0 = time.monotonic()
        result = launcher.run(_ingest(root, "isgi", [url], "a.zarr"), timeout=120)
        out["isgi_503_seconds"] = round(time.monotonic() - t0, 1)
        last = result.stderr_lines[-1] if result.stderr_lines else ""
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert last.startswith("geopipe: error: ") and url in last and "503" in last and "attempts" in last
        assert _gets(srv) == remote.Retry().attempts
        assert out["isgi_503_seconds"] < 60
        # GOES: an outage fails the run exactly as on GFS/ISGI (not quarantined as a bad file)
        goes_url = f"{srv.url}/{GOES[0]}"
        before, t0 = _gets(srv), time.monotonic()
        result = launcher.run(_ingest(root, "goes", [goes_url], "g.zarr"), timeout=120)
        out["goes_503_seconds"] = round(time.monotonic() - t0, 1)
        last = result.stderr_lines[-1] if result.stderr_lines else ""
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert last.startswith("geopipe: error: ") and goes_url in last and "503" in last, result.stderr
        assert not list((root / "quarantine" / "goes").glob("*.json"))
        assert 1 <= _gets(srv) - before <= 10 and out["goes_503_seconds"] < 60
        out["attempts_per_url"] = {"isgi": remote.Retry().attempts, "goes": _gets(srv) - before}
    assert not store.exists(str(root / "a.zarr")) and not store.exists(str(root / "g.zarr"))
    # a missing file in a batch is named, not skipped, and not asked for again
    with FileServer(bucket, seed=0) as srv:
        good, missing = f"{srv.url}/{ISGI[1]}", f"{srv.url}/isgi/no_such_file.wdc"
        result = launcher.run(_ingest(root, "isgi", [good, missing], "b.zarr"), timeout=120)
        assert result.returncode != 0
        quarantined = [json.loads(p.read_text())["path"] for p in (root / "quarantine" / "isgi").glob("*.json")]
        assert missing in result.stderr or missing in quarantined, result.stderr
        assert sum(r["path"] == "/isgi/no_such_file.wdc" for r in srv.requests if r["method"] == "GET") == 1
    figures["always_failing"] = out
