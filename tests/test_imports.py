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


def test_eccodes_imported_first_then_an_ingest_exits_cleanly(tmp_path):
    """An analyst's order: eccodes before geopipe/pyproj.  eckitlib >= 2.3 bundled its own PROJ,
    loaded RTLD_GLOBAL by findlibs, and pyproj bound to it: a warning at import and exit 139."""
    from geopipe.sample import REAL

    grib = REAL / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
    out = _run("import eccodes\nimport pyproj\nfrom geopipe.ingest import ingest\n"
               f"r = ingest('gfs', [{str(grib)!r}], {str(tmp_path / 'g.zarr')!r}, strict=True, vars=['pwat', 'prmsl'])\n"
               "import xarray as xr\n"
               f"ds = xr.open_zarr({str(tmp_path / 'g.zarr')!r}, consolidated=False)\n"
               "print(r.written, sorted(ds.data_vars), pyproj.CRS('EPSG:4326').name)")
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert out.stdout.split("\n")[0] == "1 ['prmsl', 'pwat'] WGS 84", out.stdout
    assert "unable to set PROJ database path" not in out.stderr
