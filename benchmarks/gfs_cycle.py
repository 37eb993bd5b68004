"""A GFS cycle over a slow link: geopipe's remote ingest against the bare download of the same ranges.

    .venv/bin/python benchmarks/gfs_cycle.py [--latency 0.05] [--bandwidth 20e6] [--fhours 0-120/3]

One 0.25 degree cycle (41 files, 0-120 h every 3 h) is generated into a temporary folder in
NOAA's layout (``gfs.YYYYMMDD/HH/atmos/gfs.tHHz.pgrb2.0p25.fFFF`` + wgrib2 ``.idx``).  Each
file holds the five default variables (pwat, prmsl, u10, v10, absv:850; physically shaped
fields of :class:`geopipe.sample.fields.Weather`, NCEP's complex packing, via
:mod:`geopipe.sample.grib_writer`) in GFS's order among filler messages, an abbreviated
pgrb2: a small one (a near-constant field, a few hundred bytes) between PRMSL and ABSV:850,
full-size ones between the others.  Fields are encoded once and re-stamped per forecast hour
(encoding 205 fields at 0.25 degree would take minutes here).  The loopback
:class:`~geopipe.sample.server.FileServer` runs in its own process with ``--latency`` seconds
added to every request and ``--bandwidth`` bytes/s shared by all connections.

Measured, each in a fresh process, one run each:

* ``ingest``: :func:`geopipe.ingest.ingest` of the 41 URLs into a Zarr store -- the real
  remote path (``.idx`` fetch, range plan, ``cat_ranges``, decode, store append);
* ``download``: the same ``.idx`` and range requests (:mod:`geopipe.sources.remote`, same
  plan) with the same concurrency (files ``GFSReader.prefetch`` ahead + the one being
  handled, a file's ranges together), bytes discarded.

``bytes_ratio`` = data bytes fetched / bytes of the messages asked for (goal <= 1.05; every
request is checked for overlap: nothing read twice); ``ratio`` = download seconds / ingest
seconds (throughput ratio, goal >= 0.8); second figure ``ingest_mb_per_cpu_s``: GRIB bytes
the ingest handles per CPU second (the link speed one free core keeps up with); peak RSS
of each process; ``load``: 1-minute load average before/after.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import geopipe  # noqa: F401  (pyproj before eccodes: see geopipe/__init__.py)

# isort: split
import eccodes
import numpy as np
import pandas as pd

from geopipe.sample import grib_writer
from geopipe.sample.fields import Weather
from geopipe.sample.generate import make_storms

INIT = pd.Timestamp("2024-09-26T00")
RES = 0.25
#: (field key or None for a filler, idx VAR, idx level), in file order
LAYOUT = (
    ("prmsl", "PRMSL", "mean sea level"),
    ("small", "REFC", "entire atmosphere"),
    ("absv850", "ABSV", "850 mb"),
    ("big", "HGT", "850 mb"),
    ("u10", "UGRD", "10 m above ground"),
    ("v10", "VGRD", "10 m above ground"),
    ("big", "TMP", "2 m above ground"),
    ("pwat", "PWAT", "entire atmosphere (considered as a single layer)"),
    ("big", "CWAT", "entire atmosphere (considered as a single layer)"),
)
WANTED = {"prmsl", "absv850", "u10", "v10", "pwat"}


def fhours(text: str) -> list[int]:
    span, _, step = text.partition("/")
    a, _, b = span.partition("-")
    return list(range(int(a), int(b or a) + 1, int(step or 1)))


def _stamp(message: bytes, fhour: int) -> bytes:
    h = eccodes.codes_new_from_message(message)
    try:
        eccodes.codes_set(h, "forecastTime", int(fhour))
        return eccodes.codes_get_message(h)
    finally:
        eccodes.codes_release(h)


def generate(out: str, hours: list[int], seed: int = 0) -> dict:
    """The cycle's files under ``out``; returns {relative path: bytes of the wanted messages}."""
    rng = np.random.default_rng(seed)
    weather = Weather(rng, make_storms(rng, 240, 2, 2, goes_hour=None))
    lat = 90.0 - RES * np.arange(round(180 / RES) + 1)
    lon = RES * np.arange(round(360 / RES))
    fields = weather.on_grid(lat, lon, 0.0)
    base = {k: grib_writer.encode(k, fields[k], INIT, 0, RES) for k in WANTED}
    base["small"] = grib_writer.encode("pwat", np.full_like(fields["pwat"], 20.0), INIT, 0, RES)
    base["big"] = grib_writer.encode("prmsl", fields["prmsl"] + rng.normal(0, 30, fields["prmsl"].shape), INIT, 0, RES)
    needed = {}
    for fh in hours:
        rel = grib_writer.relative_path(INIT, fh, RES)
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        offset, lines, chunks, want = 0, [], [], 0
        for n, (key, var, level) in enumerate(LAYOUT, start=1):
            msg = _stamp(base[key], fh)
            lines.append(grib_writer.idx_line(n, offset, INIT, fh, var, level))
            chunks.append(msg)
            offset += len(msg)
            want += len(msg) if key in WANTED else 0
        with open(path, "wb") as fh_out:
            fh_out.write(b"".join(chunks))
        with open(path + ".idx", "w") as fh_out:
            fh_out.write("\n".join(lines) + "\n")
        needed[rel] = want
    return needed


# ----------------------------------------------------------------------------- the server


def _serve(folder: str, latency: float, bandwidth: float, conn) -> None:
    from geopipe.sample.server import FileServer

    with FileServer(folder, latency=latency, bandwidth=bandwidth) as srv:
        conn.send(srv.url)
        while (cmd := conn.recv()) != "stop":
            if cmd == "log":
                conn.send((srv.requests, srv.bytes_sent))
                srv._httpd.requests.clear()
                srv._httpd.bytes_sent = 0


# ----------------------------------------------------------------------------- the two runs


def _urls(base: str, hours: list[int]) -> list[str]:
    return [f"{base}/{grib_writer.relative_path(INIT, h, RES)}" for h in hours]


def run_ingest(urls: list[str], store: str) -> dict:
    from geopipe.ingest import ingest

    report = ingest("gfs", urls, store, strict=True)
    return {"files": report.files, "written": report.written}


def run_download(urls: list[str]) -> dict:
    """The ingest's requests without the decode and the write: per file the ``.idx``, then its
    planned ranges together; ``GFSReader.prefetch`` + 1 files in flight, as in the ingest."""
    from geopipe.sources import get_reader, remote
    from geopipe.sources.gfs import _default_vars, parse_selection

    reader = get_reader("gfs")
    keys = [parse_selection(v).idx for v in _default_vars()]

    def one(url: str) -> int:
        text = remote.fetch_file(url + ".idx", retry=reader.retry).decode("ascii")
        entries = remote.parse_idx(text, url + ".idx")
        ranges = remote.plan_ranges(entries, [remote.find_entry(entries, k, url) for k in keys])
        return sum(map(len, remote.fetch_ranges(url, ranges, retry=reader.retry)))

    with ThreadPoolExecutor(reader.prefetch + 1) as pool:
        nbytes = sum(pool.map(one, urls))
    return {"bytes": nbytes}


def child(mode: str, urls: list[str], store: str) -> None:
    # start-up is not what is measured (issue 20 item 4): the imports (geopipe imports
    # zarr, xarray and eccodes lazily, on first use), and dask's first look for a
    # distributed client (it imports distributed, ~3 s here)
    import dask.array  # noqa: F401
    import dask.base
    import pandas  # noqa: F401
    import xarray  # noqa: F401
    import zarr  # noqa: F401

    import geopipe.ingest  # noqa: F401
    import geopipe.sources.gfs  # noqa: F401
    import geopipe.store  # noqa: F401

    # eccodes is imported at the top, after geopipe (the order geopipe needs)

    dask.base.get_scheduler()

    wall, cpu = time.perf_counter(), time.process_time()
    out = run_ingest(urls, store) if mode == "ingest" else run_download(urls)
    out.update(wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def _in_child(mode: str, urls: list[str], store: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--store", store, *urls],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _overlaps(requests: list[dict]) -> int:
    """Byte ranges of one file asked for twice or overlapping (0 when nothing is read twice)."""
    by_path: dict[str, list] = {}
    for r in requests:
        if r["range"] and not r["path"].endswith(".idx"):
            a, b = r["range"].removeprefix("bytes=").split("-")
            by_path.setdefault(r["path"], []).append((int(a), int(b)))
    bad = 0
    for spans in by_path.values():
        spans.sort()
        bad += sum(1 for (_, b1), (a2, _) in zip(spans, spans[1:]) if a2 <= b1)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--bandwidth", type=float, default=20e6, help="bytes/s of the shared link")
    parser.add_argument("--fhours", default="0-120/3")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.urls, args.store)
        return
    hours = fhours(args.fhours)
    with tempfile.TemporaryDirectory(prefix="gfs-cycle-") as tmp:
        folder = os.path.join(tmp, "bucket")
        t0 = time.perf_counter()
        needed = generate(folder, hours)
        gen_s = time.perf_counter() - t0
        size = sum(os.path.getsize(os.path.join(folder, p)) for p in needed)
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        server = ctx.Process(target=_serve, args=(folder, args.latency, args.bandwidth, there), daemon=True)
        server.start()
        try:
            urls = _urls(here.recv(), hours)
            load0 = os.getloadavg()[0]
            down = _in_child("download", urls, "")
            here.send("log")
            down_requests, _ = here.recv()
            ingest = _in_child("ingest", urls, os.path.join(tmp, "gfs.zarr"))
            here.send("log")
            requests, sent = here.recv()
            load1 = os.getloadavg()[0]
        finally:
            here.send("stop")
            server.join(10)
    data_requests = [r for r in requests if not r["path"].endswith(".idx")]
    idx_requests = [r for r in requests if r["path"].endswith(".idx")]
    fetched = 0
    for r in data_requests:
        a, b = r["range"].removeprefix("bytes=").split("-")
        fetched += int(b) - int(a) + 1
    idx_bytes = sent - fetched
    need = sum(needed.values())
    print(json.dumps({
        "benchmark": "gfs_cycle", "data": "generated 0.25 degree GFS cycle (real GRIB2 layout, .idx)",
        "files": len(hours), "file_mb": round(size / 1e6, 1), "generate_s": round(gen_s, 1),
        "latency_s": args.latency, "bandwidth_mb_per_s": args.bandwidth / 1e6,
        "load": [round(load0, 1), round(load1, 1)],
        "requests": len(requests), "data_requests": len(data_requests), "idx_requests": len(idx_requests),
        "download_requests": len(down_requests),
        "bytes_needed_mb": round(need / 1e6, 2), "bytes_fetched_mb": round(fetched / 1e6, 2),
        "idx_kb": round(idx_bytes / 1e3, 1), "ranges_read_twice": _overlaps(requests),
        "bytes_ratio": round(fetched / need, 4),
        "ingest_s": round(ingest["wall_s"], 2), "ingest_cpu_s": round(ingest["cpu_s"], 2),
        "download_s": round(down["wall_s"], 2), "download_cpu_s": round(down["cpu_s"], 2),
        "ingest_mb_per_s": round(need / 1e6 / ingest["wall_s"], 1),
        "download_mb_per_s": round(need / 1e6 / down["wall_s"], 1),
        "link_floor_s": round(need / args.bandwidth, 2),
        "ingest_mb_per_cpu_s": round(need / 1e6 / ingest["cpu_s"], 1),
        "ingest_peak_rss_mb": round(ingest["peak_rss_mb"]), "download_peak_rss_mb": round(down["peak_rss_mb"]),
        "times_written": ingest["written"],
        "ratio": round(down["wall_s"] / ingest["wall_s"], 3)}))


if __name__ == "__main__":
    main()
