"""geopipe's DetectNodes + StitchNodes against TempestExtremes' C++ on the bundled real ERA5 months.

Data: the real ERA5 fields bundled in ``geopipe/sample/data/era5`` (msl and 850 hPa vorticity,
2.5 deg, 2025-12-01 to 2026-01-31, 248 six-hourly steps).  Settings: TempestExtremes' command
lines of ``geopipe/sample/data/SOURCES.md`` (MSL closed contour +200 Pa within 5.5 deg, merge
distance 6 deg, outputs MSL min and VOS850 max within 2.5 deg; stitch range 6 deg, 24 h, gap 1).

* ``geopipe``: :func:`geopipe.labels.tempest.detect` + :func:`stitch` in this process on one core
  (the fields already in memory, as TempestExtremes has them after reading its NetCDF);
* ``tempestextremes``: the ``DetectNodes`` and ``StitchNodes`` binaries on one NetCDF of the same
  fields (wall time of both commands, so its NetCDF read is counted).  Built once with
  ``../shared/tools/build-tempestextremes.sh`` when that folder exists (or ``TE_BIN`` names a
  folder holding the binaries); without it only geopipe is reported.

``ratio`` = TempestExtremes seconds / geopipe seconds (the goal is >= 1); ``cpu_ratio`` the same
in CPU seconds (steadier on a shared machine); the best of ``ROUNDS`` runs each, interleaved.  Also reported: how many nodes and tracks each found and how many nodes
agree.  Prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

import geopipe  # noqa: E402,F401  (pyproj before eccodes)
from geopipe.labels import tefiles  # noqa: E402
from geopipe.labels import tempest as te  # noqa: E402
from geopipe.sample import REAL  # noqa: E402

ROUNDS = 3
HERE = Path(__file__).resolve().parent
BUILD = HERE.parent.parent / "shared" / "tools" / "build-tempestextremes.sh"
DETECT = ["--searchbymin", "MSL", "--closedcontourcmd", "MSL,200.0,5.5,0", "--mergedist", "6.0",
          "--outputcmd", "MSL,min,0;VOS850,max,2.5", "--latname", "lat", "--lonname", "lon"]
STITCH = ["--in_fmt", "lon,lat,MSL,VOS850", "--range", "6.0", "--mintime", "24h", "--maxgap", "1",
          "--out_file_format", "gfdl"]


def fields() -> xr.Dataset:
    folder = REAL / "era5"
    msl = xr.concat([xr.open_dataset(folder / f"era5_msl_{m}_2.5deg.nc")["msl"] for m in ("202512", "202601")], "valid_time")
    vo = xr.concat([xr.open_dataset(folder / f"era5_vo850_{m}_2.5deg.nc")["vo"] for m in ("202512", "202601")],
                   "valid_time").isel(pressure_level=0, drop=True)
    ds = xr.Dataset({"MSL": msl, "VOS850": (vo * np.sign(vo["latitude"])).astype("f4")})
    return ds.drop_vars(["number", "expver"]).rename(valid_time="time", latitude="lat", longitude="lon").load()


def te_bin() -> Path | None:
    if os.environ.get("TE_BIN"):
        return Path(os.environ["TE_BIN"])
    if not BUILD.exists():
        return None
    out = subprocess.run(["bash", str(BUILD), str(Path(tempfile.gettempdir()) / "tempestextremes")],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


def run_geopipe(ds: xr.Dataset):
    spec = te.DetectSpec.from_te(searchbymin="MSL", closedcontourcmd="MSL,200.0,5.5,0", mergedist=6.0,
                                 outputcmd="MSL,min,0;VOS850,max,2.5")
    t0, c0 = time.perf_counter(), time.process_time()
    nodes = te.detect({"MSL": ds["MSL"].values, "VOS850": ds["VOS850"].values}, ds["lat"].values, ds["lon"].values,
                      ds["time"].values, spec)
    tracks = te.stitch(nodes, te.StitchSpec(range=6.0, mintime="24h", maxgap=1), ds["time"].values)
    return time.perf_counter() - t0, time.process_time() - c0, nodes, tracks


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_te(bin_dir: Path, nc: Path, work: Path):
    t0, c0 = time.perf_counter(), _children_cpu()
    subprocess.run([str(bin_dir / "DetectNodes"), "--in_data", str(nc), "--out", str(work / "nodes.txt"), *DETECT],
                   check=True, capture_output=True)
    subprocess.run([str(bin_dir / "StitchNodes"), "--in", str(work / "nodes.txt"), "--out", str(work / "tracks.txt"),
                    *STITCH], check=True, capture_output=True)
    return time.perf_counter() - t0, _children_cpu() - c0


def main() -> None:
    ds = fields()
    result = {"benchmark": "detect", "data": "real ERA5 2.5 deg, 2025-12-01..2026-01-31 (bundled)",
              "times": int(ds.sizes["time"]), "grid": f"{ds.sizes['lat']}x{ds.sizes['lon']}", "rounds": ROUNDS}
    bin_dir = te_bin()
    geo_s, te_s, geo_cpu, te_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        nc = work / "era5.nc"
        if bin_dir:
            ds.to_netcdf(nc)
        for _ in range(ROUNDS):
            s, cpu, nodes, tracks = run_geopipe(ds)
            geo_s.append(s)
            geo_cpu.append(cpu)
            if bin_dir:
                s, cpu = run_te(bin_dir, nc, work)
                te_s.append(s)
                te_cpu.append(cpu)
        result.update(geopipe_s=round(min(geo_s), 3), geopipe_cpu_s=round(min(geo_cpu), 3), geopipe_nodes=len(nodes), geopipe_tracks=int(tracks["track"].nunique()))
        if bin_dir:
            ref, _ = tefiles.read_nodes(work / "nodes.txt", ["MSL", "VOS850"])
            same = nodes.merge(ref, on=["time", "i", "j"])
            ref_tracks = tefiles.read_tracks(work / "tracks.txt", ["MSL", "VOS850"])
            result.update(tempestextremes_s=round(min(te_s), 3), tempestextremes_cpu_s=round(min(te_cpu), 3),
                          cpu_ratio=round(min(te_cpu) / min(geo_cpu), 2), te_nodes=len(ref), nodes_in_both=len(same),
                          te_tracks=int(ref_tracks["track"].nunique()),
                          ratio=round(min(te_s) / min(geo_s), 2))
        else:
            result.update(tempestextremes="not built (no ../shared/tools here): geopipe alone", ratio=None)
    print(json.dumps(result))


if __name__ == "__main__":
    if shutil.which("bash") is None:
        sys.exit("benchmarks/detect.py needs bash to build TempestExtremes")
    main()
