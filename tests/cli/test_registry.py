"""``geopipe ingest SOURCE`` verbs come from the reader registry: a new reader is a new verb."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import sources
from geopipe.cli import build_parser, main
from geopipe.cli.parser import subcommands, walk
from geopipe.sources.base import SourceReader


class TinyReader(SourceReader):
    """Tiny hourly counts: lines ``ISO-TIME VALUE`` (a test reader)."""

    name = "tiny"
    suffixes = (".tiny",)

    def open_dataset(self, path):
        frame = pd.read_csv(path, sep=" ", names=["time", "count"], parse_dates=["time"])
        scale = self.options.get("scale", 1.0)
        return xr.Dataset({"count": ("time", frame["count"].to_numpy("f4") * scale)},
                          coords={"time": frame["time"].to_numpy("datetime64[ns]")})

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="multiply every count")

    @classmethod
    def options(cls, args) -> dict:
        return {"scale": args.scale}


def _ingest_verbs(parser) -> dict:
    return subcommands(subcommands(parser).choices["ingest"].fill()).choices


def test_every_registered_reader_is_an_ingest_verb_with_its_own_options():
    verbs = _ingest_verbs(build_parser())
    assert list(verbs) == list(sources.READERS)
    gfs = {a.dest for a in verbs["gfs"].fill()._actions}
    assert {"inputs", "store", "keep_going", "json", "vars", "cycle"} <= gfs
    assert "vars" not in {a.dest for a in verbs["isgi"].fill()._actions}


def test_a_reader_registered_in_a_test_appears_as_a_verb_and_ingests(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sources.READERS, "tiny", f"{__name__}:TinyReader")
    parser = build_parser()
    assert "tiny" in _ingest_verbs(parser)
    assert "Tiny hourly counts" in subcommands(parser).choices["ingest"].format_help()
    assert any("--scale" in a.option_strings for p in walk(parser) for a in p._actions)

    path = tmp_path / "a.tiny"
    path.write_text("2024-01-01T00:00 3\n2024-01-01T01:00 5\n")
    store = tmp_path / "tiny.zarr"
    assert main(["ingest", "tiny", str(path), "--store", str(store), "--scale", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == "tiny" and report["written"] == 2
    ds = xr.open_zarr(store, consolidated=False)
    np.testing.assert_array_equal(ds["count"].values, [6.0, 10.0])
