"""Process-level guards: the import order that keeps eccodes and pyproj from crashing at exit."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_geopipe_first_then_eccodes_netcdf_and_cartopy_exit_cleanly():
    out = _run("import geopipe, eccodes, netCDF4, cartopy.crs, xarray\n"
               "import geopipe.sources.gfs, geopipe.sources.goes\nprint('ok')")
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_cli_imports_without_tensorflow():
    """`geopipe --help` and every verb's parser load without TensorFlow (seconds, not tens)."""
    out = _run("import sys\nfrom geopipe.cli import build_parser\nbuild_parser()\n"
               "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]
