"""A CLI that starts at once: no heavy library is imported to build or use any verb's parser."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "xarray", "dask", "zarr", "eccodes", "tensorflow", "scipy", "netCDF4", "pyproj", "prefect")


def _loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_import_geopipe_cli_loads_no_heavy_library():
    assert _loaded_after("import geopipe.cli") == []


def test_every_verb_parser_of_the_full_tree_loads_no_heavy_library():
    """Fill every lazy parser (each ingest verb imports its reader module) and parse one command."""
    code = ("from geopipe.cli import build_parser\nfrom geopipe.cli.parser import walk\n"
            "parser = build_parser()\nn = sum(1 for _ in walk(parser))\nassert n > 25, n\n"
            "parser.parse_args(['ingest', 'gfs', 'x.grib2', '--vars', 'prmsl'])\n"
            "parser.parse_args(['labels', 'ibtracs', '--radius-km', '500'])\n"
            "parser.parse_args(['train', 'lstm', '--windows', 'w.zarr', '--out', 'm', '--units', '8,4'])")
    assert _loaded_after(code) == []


def test_help_loads_no_heavy_library_and_lists_the_verbs():
    code = ("import contextlib, io\nfrom geopipe.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
            "assert 'ingest' in buf.getvalue()")
    assert _loaded_after(code) == []
