"""geopipe.sources.grib: message scanning and field splitting agree with eccodes on the real sample."""

from __future__ import annotations

import numpy as np
import pytest

from geopipe.errors import InputError
from geopipe.sources import grib
from tests.sources import gribdata
from tests.sources.gribdata import SAMPLE


def test_split_fields_matches_eccodes_multi_field_reading():
    data = SAMPLE.read_bytes()
    spans = grib.scan_messages(data, str(SAMPLE))
    assert len(spans) == 307 and spans[-1][0] + spans[-1][1] == len(data)
    ours = [m for a, n in spans for m in grib.split_fields(data[a:a + n])]
    theirs = gribdata.fields(SAMPLE)  # eccodes with multi-field support on
    assert len(ours) == len(theirs) == 343
    for mine, ref in zip(ours, theirs):
        field = grib.read_field(mine, 0, 0)
        assert field.short == ref["shortName"] and field.step_type == ref["stepType"]
        np.testing.assert_array_equal(grib.decode_values(mine), ref["values"])
    u, v = (f for f in theirs if f["shortName"] in ("10u", "10v"))
    assert u["offset"] == v["offset"]  # one message, two fields


def test_scan_refuses_what_is_not_whole_grib2(tmp_path):
    data = SAMPLE.read_bytes()
    _, n = grib.scan_messages(data, "x")[0]
    with pytest.raises(InputError, match=r"^f: no GRIB message found"):
        grib.scan_messages(b"not grib at all", "f")
    with pytest.raises(InputError, match=r"does not end with '7777'"):
        grib.scan_messages(data[:n - 4] + b"0000", "f")
    with pytest.raises(InputError, match=r"unknown edition 3"):  # editions 1 and 2 are read (test_grib1.py)
        grib.scan_messages(data[:7] + b"\x03" + data[8:n], "f")


def test_level_names():
    assert [grib.fmt_level(x) for x in (850.0, 0.4, -2.0, 0.01)] == ["850", "0p4", "m2", "0p01"]
