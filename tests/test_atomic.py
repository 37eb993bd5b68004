"""geopipe.atomic: files appear whole or not at all; one temporary-name rule."""

from __future__ import annotations

import json

import pytest

from geopipe import atomic
from geopipe.ingest import quarantine


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "a.json"
    atomic.write_json(path, {"n": 1})
    atomic.write_json(path, {"n": 2})
    assert json.loads(path.read_text()) == {"n": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "a.txt"
    atomic.write_text(path, "old")
    with pytest.raises(RuntimeError), atomic.atomic_open(path) as fh:
        fh.write("half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_the_temporary_is_a_hidden_sibling_named_like_the_stores(tmp_path):
    with atomic.atomic_path(tmp_path / "fig.png") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".fig.png.tmp-") and len(tmp.name) == len(".fig.png.tmp-") + 8
        tmp.write_bytes(b"png")
    assert (tmp_path / "fig.png").read_bytes() == b"png"


def test_quarantine_records_are_written_whole(tmp_path):
    bad = tmp_path / "bad.grib2"
    bad.write_bytes(b"GRIB nonsense")
    record = quarantine("gfs", str(bad), "not a GRIB file", root=str(tmp_path / "root"))
    files = list((tmp_path / "root" / "quarantine" / "gfs").iterdir())
    assert len(files) == 1 and files[0].name.endswith("-bad.grib2.json")
    assert json.loads(files[0].read_text()) == record and record["reason"] == "not a GRIB file"
