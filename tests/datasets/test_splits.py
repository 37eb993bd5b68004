"""Time-block splits: parsing, overlaps refused, gaps carved, storm-whole blocks, balancing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from geopipe.datasets.splits import (
    assign,
    assign_spans,
    balanced_choice,
    parse_splits,
    storm_blocks,
    storm_splits,
    with_gaps,
)
from geopipe.errors import ParameterError

SPEC = "2017-01-01/2018-12-31:train,2019-01-01/2019-06-30:val,2019-07-01/2019-12-31:test"


def ts(s):
    return np.datetime64(pd.Timestamp(s), "ns")


def test_parse_dates_run_to_the_end_of_the_day():
    blocks = parse_splits(SPEC)
    assert [b.split for b in blocks] == ["train", "val", "test"]
    assert blocks[0].start == ts("2017-01-01") and blocks[0].end == ts("2019-01-01")
    assert blocks[2].end == ts("2020-01-01")
    # a time of day is exclusive
    (b,) = parse_splits("2019-01-01T00:00/2019-01-02T06:00:val")
    assert b.end == ts("2019-01-02T06:00")


@pytest.mark.parametrize("spec, words", [
    ("2017-01-01/2017-12-31:train,2017-06-01/2018-01-31:val", "overlap"),
    ("2017-01-01/2017-12-31:training", "not one of"),
    ("2017-01-01-2017-12-31:train", "START/END:NAME"),
    ("2018-01-01/2017-12-31:train", "ends before it starts"),
])
def test_bad_specs_are_refused(spec, words):
    with pytest.raises(ParameterError, match=words):
        with_gaps(parse_splits(spec), "3D")


def test_gap_is_cut_from_the_later_block_and_gap_times_dropped():
    blocks = with_gaps(parse_splits(SPEC), "3D")
    assert blocks[0].end == ts("2019-01-01")
    assert blocks[1].start == ts("2019-01-04")  # val loses its first 3 days
    times = pd.date_range("2018-12-30", "2019-01-05", freq="6h").values
    names = assign(times, blocks)
    t = pd.DatetimeIndex(times)
    assert set(names[t < "2019-01-01"]) == {"train"}
    assert set(names[(t >= "2019-01-01") & (t < "2019-01-04")]) == {""}
    assert set(names[t >= "2019-01-04"]) == {"val"}
    # blocks already far enough apart are left alone
    far = with_gaps(parse_splits("2017-01-01/2017-01-31:train,2017-02-10/2017-02-20:test"), "3D")
    assert far[1].start == ts("2017-02-10")


def test_spans_must_lie_inside_one_block():
    blocks = with_gaps(parse_splits("2017-01-01/2017-01-10:train,2017-01-11/2017-01-20:val"), "1D")
    starts = np.array([ts("2017-01-10T22:00"), ts("2017-01-11T05:00"), ts("2017-01-12T01:00")])
    ends = starts + np.timedelta64(3, "h")
    # the first crosses the train edge, the second lies in the gap, the third is inside val
    assert list(assign_spans(starts, ends, blocks)) == ["", "", "val"]


def _storms(n, seed=0):
    rng = np.random.default_rng(seed)
    onsets = ts("2015-01-01") + np.cumsum(rng.integers(4, 20, n)).astype("m8[D]").astype("m8[ns]")
    ends = onsets + rng.integers(12, 72, n).astype("m8[h]").astype("m8[ns]")
    return onsets, ends


def test_storm_blocks_keep_storms_whole_in_time_order():
    onsets, ends = _storms(10)
    blocks = storm_blocks(onsets, ends, ts("2015-01-01"), ts("2016-01-01"), (0.6, 0.2, 0.2), "1D")
    names = storm_splits(onsets, ends, blocks)
    assert list(names) == ["train"] * 6 + ["val"] * 2 + ["test"] * 2
    for a, b in itertools.pairwise(blocks):
        assert b.start - a.end == np.timedelta64(1, "D")
    assert blocks[0].start == ts("2015-01-01") and blocks[-1].end == ts("2016-01-01")


def test_storm_blocks_move_a_boundary_to_a_quiet_stretch_long_enough():
    onsets, ends = _storms(10)
    ends = ends.copy()
    ends[5] = onsets[6] - np.timedelta64(2, "h")  # storms 6 and 7 nearly touch: no 1-day gap there
    names = storm_splits(onsets, ends, storm_blocks(onsets, ends, onsets[0], ends[-1], (0.6, 0.2, 0.2), "1D"))
    # the nearest boundary with room for the gap is one storm earlier
    assert list(names) == ["train"] * 5 + ["val"] * 3 + ["test"] * 2


def test_storm_blocks_need_three_storms_and_explicit_blocks_must_not_cut_one():
    onsets, ends = _storms(2)
    with pytest.raises(ParameterError, match="needs at least 3"):
        storm_blocks(onsets, ends, onsets[0], ends[-1])
    onsets, ends = _storms(4)
    mid = onsets[1] + (ends[1] - onsets[1]) // 2
    blocks = [b for b in with_gaps(parse_splits(
        f"2014-01-01/{pd.Timestamp(mid).isoformat()}:train,{pd.Timestamp(mid).isoformat()}/2017-01-01:test"), "0h")]
    with pytest.raises(ParameterError, match="straddles"):
        storm_splits(onsets, ends, blocks)


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
def test_balanced_choice_reaches_the_ratio(ratio):
    rng = np.random.default_rng(0)
    pos, neg = np.arange(100), np.arange(100, 1100)
    kp, kn = balanced_choice(pos, neg, ratio, rng)
    assert kp.size == 100 and kn.size == round(ratio * 100)
    assert np.all(np.diff(kn) > 0) and set(kn) <= set(neg)


def test_balanced_choice_subsamples_positives_when_negatives_are_scarce():
    kp, kn = balanced_choice(np.arange(500), np.arange(500, 560), 1.0, np.random.default_rng(1))
    assert kn.size == 60 and kp.size == 60
    a = balanced_choice(np.arange(50), np.arange(50, 5000), 1.0, np.random.default_rng(3))[1]
    b = balanced_choice(np.arange(50), np.arange(50, 5000), 1.0, np.random.default_rng(3))[1]
    c = balanced_choice(np.arange(50), np.arange(50, 5000), 1.0, np.random.default_rng(4))[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
