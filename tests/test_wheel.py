"""A wheel install (not editable) works from any folder: the catalog ships inside the package.

Builds the wheel from a copy of the project (offline, with this environment's setuptools),
installs it with ``uv pip install --no-deps`` into a fresh venv that borrows this
environment's installed dependencies, and runs ``geopipe catalog`` from another folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from geopipe import layout

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _run(cmd, **kw):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{cmd}: {out.stderr[-3000:]}"
    return out


def test_wheel_install_finds_its_catalog_from_any_folder(tmp_path):
    assert UV, "uv (installed into .venv by make install) builds and installs the wheel"
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for part in ("geopipe", "flows", "catalog"):
        shutil.copytree(ROOT / part, src / part, symlinks=True, ignore=skip)
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, src / f)
    assert (src / "geopipe" / "catalog_data").is_symlink()  # the checkout links catalog/ into the package
    _run([UV, "build", "--wheel", "--no-build-isolation", "--offline", "--python", sys.executable,
          "--out-dir", tmp_path / "dist"], cwd=src)
    [wheel] = (tmp_path / "dist").glob("geopipe-*.whl")

    venv = tmp_path / "venv"
    _run([UV, "venv", "--offline", "--python", sys.executable, venv])
    py = venv / "bin" / "python"
    site = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # the dependencies from this environment (a path entry: its .pth files, the editable geopipe among them, stay off)
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([UV, "pip", "install", "--offline", "--no-deps", "--python", py, wheel])

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GEOPIPE_CATALOG")}
    where = _run([py, "-c", "import geopipe.catalog as c; print(c.__file__); print(c.DEFAULT_DIR)"],
                 cwd=elsewhere, env=env).stdout.split()
    assert where[0].startswith(site) and not Path(where[1]).is_symlink()  # the installed copy, real files
    assert sorted(p.name for p in Path(where[1], "templates").glob("*.json")) == \
        sorted(p.name for p in (ROOT / "catalog" / "templates").glob("*.json"))
    exe = venv / "bin" / "geopipe"
    listed = json.loads(_run([exe, "catalog", "list", "--json"], cwd=elsewhere, env=env).stdout)
    assert "gfs" in listed["sources"] and listed["products"]["patches"] == "patches.zarr"
    text = _run([exe, "catalog", "list"], cwd=elsewhere, env=env).stdout
    assert "PRODUCTS" in text and "labels/storms.zarr" in text
    shown = json.loads(_run([exe, "catalog", "show", "forecasts", "--json"], cwd=elsewhere, env=env).stdout)
    assert shown == layout.declaration("forecasts")
