"""The geopipe command: help, the catalog listing, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GEOPIPE = str(Path(sys.executable).with_name("geopipe"))


def _run(*args, **kw):
    return subprocess.run([GEOPIPE, *args], capture_output=True, text=True, timeout=300, **kw)


def test_help_lists_every_verb():
    out = _run("--help")
    assert out.returncode == 0
    for verb in ("catalog", "ingest", "labels", "patches", "windows", "train", "predict", "map", "explain",
                 "run", "sample", "demo", "serve", "store"):
        assert f"    {verb} " in out.stdout, verb


def test_catalog_list_names_sources_and_their_products():
    out = _run("catalog", "list")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    for source in ("gfs", "goes", "ibtracs", "isgi"):
        assert any(line.split()[:4] == [source, "->", "product", source] for line in lines), source
    for product in ("labels_ibtracs", "labels_heuristic", "patches", "windows", "predictions", "forecasts"):
        assert any(line.split()[:1] == [product] for line in lines), product


def test_unknown_catalog_entry_is_one_line_error():
    out = _run("catalog", "show", "nope")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("geopipe: error: nothing named 'nope'")


def test_run_with_a_bad_config_names_the_file_and_field(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("patch_size: big\nsplits: x\n")
    out = _run("run", "cyclone-pipeline", "--config", str(cfg))
    assert out.returncode == 2
    assert out.stderr.strip().startswith(f"geopipe: error: {cfg}: field patch_size:")
    assert "Traceback" not in out.stderr
