"""GRIB2 ingest: geopipe (decode + Zarr write) against cfgrib (decode only), and memory over 10 vs 100 files.

    .venv/bin/python benchmarks/ingest.py [--files 10] [--many 100] [--repeat 2]

Inputs are made from the bundled samples by rewriting their date keys with eccodes (one
cycle per file, 6 hours apart) into a temporary folder:

* ``gfs``: 60 fields of the GFS 2.5 degree sample (pwat, prmsl, u10, v10, absv850 and the
  first 55 others); both tools decode the same 5 fields of each file, as a user picking a few
  variables from a big file does.
* ``gdas``: the 0.25 degree GDAS message (1,038,240 points): decode-bound.

Throughput is input MB per second of wall time (best of ``--repeat``); ``ratio`` is geopipe's
GFS throughput over cfgrib's (goal >= 0.8).  Peak memory is the peak RSS of a fresh process
ingesting 10 and then 100 files (goal: flat), with the tracemalloc peak of its Python and
NumPy allocations during the ingest (imports excluded), which shows growth RSS would hide.  The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopipe  # noqa: F401  (pyproj before eccodes: see geopipe/__init__.py)

# isort: split
import eccodes

from geopipe.sample import REAL

VARS = ["pwat", "prmsl", "u10", "v10", "absv:850"]
#: the same five fields for cfgrib: one open per hypercube it can build
CFGRIB_FILTERS = [{"shortName": "pwat"}, {"shortName": "prmsl"},
                  {"typeOfLevel": "heightAboveGround", "level": 10, "shortName": ["10u", "10v"]},
                  {"shortName": "absv", "typeOfLevel": "isobaricInhPa", "level": 850}]


def _wanted(h) -> bool:
    short = eccodes.codes_get(h, "shortName")
    return short in ("pwat", "prmsl", "10u", "10v") or (short == "absv" and eccodes.codes_get(h, "level") == 850)


def make_files(sample: Path, folder: Path, n: int, keep: int | None) -> list[Path]:
    """``n`` files of ``keep`` fields of ``sample`` (the 5 benchmarked ones and the first others, in
    file order), cycle k moved 6k hours later with eccodes."""
    eccodes.codes_grib_multi_support_on()
    handles = []
    with open(sample, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            handles.append(h)
    eccodes.codes_grib_multi_support_off()
    if keep is not None:
        must = [h for h in handles if _wanted(h)]
        others = [h for h in handles if not _wanted(h)][:keep - len(must)]
        chosen = {id(h) for h in must + others}
        for h in handles:
            if id(h) not in chosen:
                eccodes.codes_release(h)
        handles = [h for h in handles if id(h) in chosen]
    base = dt.datetime(2024, 1, 1)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        cycle = base + dt.timedelta(hours=6 * k)
        parts = []
        for h in handles:
            eccodes.codes_set(h, "dataDate", int(cycle.strftime("%Y%m%d")))
            eccodes.codes_set(h, "dataTime", cycle.hour * 100)
            parts.append(eccodes.codes_get_message(h))
        path = folder / f"{sample.stem}.{cycle:%Y%m%d%H}.grib2"
        path.write_bytes(b"".join(parts))
        out.append(path)
    for h in handles:
        eccodes.codes_release(h)
    return out


def geopipe_seconds(files, store: str, vars_) -> float:
    from geopipe.ingest import ingest

    t = time.perf_counter()
    report = ingest("gfs", [str(f) for f in files], store, strict=True, vars=vars_)
    assert report.written == len(files), report
    return time.perf_counter() - t


def cfgrib_seconds(files, filters) -> float:
    import xarray as xr

    t = time.perf_counter()
    for f in files:
        for flt in filters:
            with xr.open_dataset(f, engine="cfgrib", backend_kwargs={"indexpath": "", "filter_by_keys": flt}) as ds:
                ds.load()
    return time.perf_counter() - t


def best_throughput(files, run, repeat: int) -> float:
    mb = sum(f.stat().st_size for f in files) / 1e6
    return mb / min(run(i) for i in range(repeat))


def peak_memory_mb(files: list[Path], store: str) -> tuple[float, float]:
    """Peak RSS of a fresh process that ingests ``files``, and the peak of Python/NumPy
    allocations (tracemalloc) during the ingest alone (MB)."""
    listing = Path(store + ".files")
    listing.write_text("\n".join(map(str, files)))
    out = subprocess.run([sys.executable, __file__, "--child", str(listing), store], check=True,
                         capture_output=True, text=True)
    rss, traced = out.stdout.strip().splitlines()[-1].split()
    return float(rss), float(traced)


def child(listing: str, store: str) -> None:
    import tracemalloc

    files = Path(listing).read_text().split()
    geopipe_seconds(files[:1], store, VARS)  # imports and caches outside the traced window
    tracemalloc.start()
    geopipe_seconds(files[1:], store, VARS)
    traced = tracemalloc.get_traced_memory()[1] / 1e6
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, traced)  # ru_maxrss: KiB on Linux


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--many", type=int, default=100)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory(prefix="geopipe-bench-") as tmp:
        tmp = Path(tmp)
        gfs = make_files(REAL / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2", tmp / "gfs", args.many, keep=60)
        gdas = make_files(REAL / "gfs" / "gdas.t12z.pgrb2.0p25.f000.msg013.grib2", tmp / "gdas", args.files, keep=None)
        few = gfs[:args.files]
        # warm both (imports, eccodes definitions) on a file outside the measured set
        geopipe_seconds(gfs[-1:], str(tmp / "warm.zarr"), VARS)
        cfgrib_seconds(gfs[-1:], CFGRIB_FILTERS)
        ours = best_throughput(few, lambda i: geopipe_seconds(few, str(tmp / f"g{i}.zarr"), VARS), args.repeat)
        theirs = best_throughput(few, lambda i: cfgrib_seconds(few, CFGRIB_FILTERS), args.repeat)
        ours_qd = best_throughput(gdas, lambda i: geopipe_seconds(gdas, str(tmp / f"q{i}.zarr"), None), args.repeat)
        theirs_qd = best_throughput(gdas, lambda i: cfgrib_seconds(gdas, [{}]), args.repeat)
        rss_few, traced_few = peak_memory_mb(few, str(tmp / "m10.zarr"))
        rss_many, traced_many = peak_memory_mb(gfs, str(tmp / "m100.zarr"))
    result = {
        "files": args.files, "fields_per_gfs_file": 60, "vars": VARS,
        "geopipe_MBps": round(ours, 2), "cfgrib_decode_only_MBps": round(theirs, 2), "ratio": round(ours / theirs, 2),
        "quarter_degree_geopipe_MBps": round(ours_qd, 2), "quarter_degree_cfgrib_MBps": round(theirs_qd, 2),
        "quarter_degree_ratio": round(ours_qd / theirs_qd, 2),
        f"peak_rss_MB_{args.files}_files": round(rss_few, 1), f"peak_rss_MB_{args.many}_files": round(rss_many, 1),
        "peak_rss_growth": round(rss_many / rss_few, 3),
        f"peak_traced_MB_{args.files}_files": round(traced_few, 2), f"peak_traced_MB_{args.many}_files": round(traced_many, 2),
        "peak_traced_growth": round(traced_many / traced_few, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
