"""How fast the ``geopipe`` command starts.

Times, as the median of several fresh processes each, measured side by side in one run:
``python -c "import argparse"`` (the floor: an interpreter that parses arguments),
``geopipe --help``, ``geopipe catalog list``, ``geopipe ingest gfs --help`` (fills one reader's
parser), ``python -c "import geopipe"`` and ``python -c "import geopipe.cli"``.
``ratio`` = ``geopipe --help`` seconds / ``import argparse`` seconds (goal: at most 4).
Prints one JSON object as its last line.  No data is read (the catalog is the project's own).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(os.environ.get("STARTUP_RUNS", "9"))
GEOPIPE = [str(Path(sys.executable).with_name("geopipe"))]
PYTHON = [sys.executable]


def seconds(cmd: list[str]) -> float:
    """Median wall time of ``RUNS`` fresh processes (after one warm-up run for the page cache)."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    env_note = {"runs": RUNS, "cpus": os.cpu_count(), "loadavg_1min": round(os.getloadavg()[0], 2)}
    figures = {
        "argparse_s": seconds([*PYTHON, "-c", "import argparse"]),
        "help_s": seconds([*GEOPIPE, "--help"]),
        "catalog_list_s": seconds([*GEOPIPE, "catalog", "list"]),
        "ingest_gfs_help_s": seconds([*GEOPIPE, "ingest", "gfs", "--help"]),
        "import_geopipe_s": seconds([*PYTHON, "-c", "import geopipe"]),
        "import_geopipe_cli_s": seconds([*PYTHON, "-c", "import geopipe.cli"]),
    }
    figures = {k: round(v, 4) for k, v in figures.items()}
    for name, value in figures.items():
        print(f"{name:>22}: {value * 1000:8.1f} ms")
    ratio = figures["help_s"] / figures["argparse_s"]
    print(json.dumps({"benchmark": "startup", "ratio": round(ratio, 2), "goal": "<= 4", **figures, **env_note}))


if __name__ == "__main__":
    main()
