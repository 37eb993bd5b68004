"""The CLI re-spells library parameter names as its own flags; no exception class name reaches a user."""

from __future__ import annotations

import pytest

from geopipe.cli import main
from geopipe.errors import ParameterError
from geopipe.sources.gfs import parse_fhours


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_a_library_parameter_error_names_the_parameter_not_a_flag():
    with pytest.raises(ParameterError) as info:
        parse_fhours("six")
    assert str(info.value) == "fhours 'six': expected e.g. 0-48/6 or 0,6,12"


def test_the_cli_spells_the_same_error_with_its_flags(capsys, tmp_path):
    assert main(["patches", "--inputs", "a.zarr:pwat", "--labels", "l.zarr", "--out", str(tmp_path / "p.zarr"),
                 "--size", "1"]) == 2
    assert _error(capsys) == ("geopipe: error: --size/--neg-ratio/--pos-threshold: size 1 must be >= 2, "
                              "neg_ratio 1.0 >= 0, pos_threshold 0.05 in (0, 1]")
    assert main(["ingest", "gfs", "--fhours", "6"]) == 2
    assert _error(capsys) == "geopipe: error: --remote/--fhours: go with --cycle"
    assert main(["ingest", "gfs", "x.grib2", "--cycle", "2024-09-26T00"]) == 2
    assert _error(capsys) == "geopipe: error: SOURCE/--cycle: give input files or a cycle, not both"


def test_an_unexpected_error_is_one_line_without_its_class_name(capsys, monkeypatch):
    from geopipe.cli import store_cmd

    def boom(args):
        raise KeyError("time")

    monkeypatch.setattr(store_cmd, "cmd_info", boom)
    assert main(["store", "info", "x.zarr"]) == 1
    line = _error(capsys)
    assert line == "geopipe: error: 'time' (an unexpected error: run with --debug for the traceback)"
    assert "KeyError" not in line
