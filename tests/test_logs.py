"""Quiet output: native TensorFlow/absl/eccodes lines go to the debug log, geopipe's errors stay one line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.reliability import corpus

GEOPIPE = str(Path(sys.executable).with_name("geopipe"))
NOISE = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
         b"I0000 00:00:1796159343.682207    9050 port.cc:153] oneDNN custom operations are on.\n"
         b"ECCODES ERROR   :  Geoiterator factory: Error instantiating iterator latlon\n")


def _env(tmp_path, **extra) -> dict:
    return {**os.environ, "GEOPIPE_DEBUG_LOG": str(tmp_path / "debug.log"), "GEOPIPE_ROOT": str(tmp_path), **extra}


def test_native_lines_go_to_the_debug_log_and_other_lines_pass(tmp_path):
    script = textwrap.dedent(f"""
        import logging, os, subprocess, sys
        from geopipe import logs
        logs.setup()
        os.write(2, {NOISE!r} + b"a line of someone else\\n")
        # a child process inherits the sorted stderr (Dask workers do)
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'I0000 00:00:17.5  1 cpu_feature_guard.cc:227] AVX\\\\n')"])
        logging.getLogger("absl").warning("Compiled the loaded model")
        logging.getLogger("geopipe.x").warning("kept")
        print("to stderr", file=sys.stderr)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    # the other process's line passes through the pipe, so it may come before or after Python's own
    assert sorted(out.stderr.splitlines()) == ["WARNING geopipe.x: kept", "a line of someone else", "to stderr"]
    debug = (tmp_path / "debug.log").read_text()
    for text in ("absl::InitializeLog", "oneDNN custom operations", "ECCODES ERROR", "cpu_feature_guard",
                 "Compiled the loaded model"):
        assert text in debug, text


def test_eccodes_errors_of_an_inconsistent_grid_stay_off_the_terminal(tmp_path):
    bad = tmp_path / "inconsistent.grib2"
    bad.write_bytes(corpus.grib_edit(corpus.grib_message("prmsl", "meanSea"), Ni=100))  # Ni*Nj != points
    args = [GEOPIPE, "ingest", "gfs", str(bad), "--store", "g.zarr"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(f"geopipe: error: {bad}: "), out.stderr
    assert "ECCODES ERROR" in (tmp_path / "debug.log").read_text()
