"""Train/val/test splits by contiguous time blocks, never at random, and balanced sampling.

Neighbouring times of a weather or space-weather record are strongly correlated, so a random
split leaks the test set into training.  A split here is a list of :class:`Block`\\ s, each a
half-open time interval ``[start, end)`` with a split name; blocks never overlap and any two
consecutive blocks are at least ``gap`` apart (the gap is cut from the start of the later
block).  Times in a gap, or outside every block, belong to no split and are dropped.

Spec strings (CLI ``--split``) read ``START/END:NAME[,START/END:NAME...]``, e.g.
``2017-01-01/2018-12-31:train,2019-01-01/2019-06-30:val,2019-07-01/2019-12-31:test``.
An END written as a date runs to the end of that day; an END with a time of day is exclusive.

For sequence windows, :func:`storm_blocks` places the boundaries between whole storms instead
(in time order, 60/20/20 of the storms by default), each boundary in the middle of the quiet
stretch between two storms, so a storm never straddles two splits.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from geopipe.datasets.defaults import PATCHES
from geopipe.errors import ParameterError

SPLITS = ("train", "val", "test")
DEFAULT_GAP = PATCHES.gap


@dataclasses.dataclass(frozen=True)
class Block:
    """One split block: times ``start <= t < end`` (datetime64[ns]) belong to ``split``."""

    split: str
    start: np.datetime64
    end: np.datetime64

    def __str__(self) -> str:
        return f"{pd.Timestamp(self.start)}/{pd.Timestamp(self.end)}:{self.split}"


def _ns(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).as_unit("ns").to_datetime64(), "ns")


def parse_splits(spec: str, where: str = "splits") -> list[Block]:
    """Blocks of a spec string, in the order written (see the module docstring)."""
    blocks = []
    for part in [p.strip() for p in str(spec).split(",") if p.strip()]:
        try:
            span, name = part.rsplit(":", 1)
            start, end = span.split("/")
            t0, t1 = pd.Timestamp(start.strip()), pd.Timestamp(end.strip())
        except ValueError:
            raise ParameterError(where, f"{part!r} is not START/END:NAME (e.g. 2019-01-01/2019-06-30:val)") from None
        name = name.strip()
        if name not in SPLITS:
            raise ParameterError(where, f"{part!r}: split name {name!r} is not one of {', '.join(SPLITS)}")
        date_only = len(end.strip()) <= 10 and "T" not in end and " " not in end.strip()
        if date_only:
            t1 = t1 + pd.Timedelta("1D")
        if t1 <= t0:
            raise ParameterError(where, f"{part!r}: the block ends before it starts")
        blocks.append(Block(name, _ns(t0), _ns(t1)))
    if not blocks:
        raise ParameterError(where, "no split blocks given")
    return blocks


def with_gaps(blocks: list[Block], gap="3D", where: str = "splits") -> list[Block]:
    """Blocks sorted by start, overlaps refused, each later block started ``gap`` after the one
    before it ends (when it starts sooner).  A block left empty is refused."""
    g = pd.Timedelta(gap).to_timedelta64().astype("m8[ns]")
    out: list[Block] = []
    for b in sorted(blocks, key=lambda b: b.start):
        if out and b.start < out[-1].end:
            raise ParameterError(where, f"blocks {out[-1]} and {b} overlap")
        if out and b.start < out[-1].end + g:
            b = Block(b.split, out[-1].end + g, b.end)
            if b.start >= b.end:
                raise ParameterError(where, f"block {b.split} ending {pd.Timestamp(b.end)} lies wholly in the {gap} gap "
                                        "after the block before it")
        out.append(b)
    return out


def assign(times, blocks: list[Block]) -> np.ndarray:
    """The split name of each time (object array; ``""`` for times in gaps or outside blocks)."""
    t = np.asarray(times, dtype="datetime64[ns]")
    out = np.full(t.shape, "", dtype=object)
    for b in blocks:
        out[(t >= b.start) & (t < b.end)] = b.split
    return out


def assign_spans(starts, ends, blocks: list[Block]) -> np.ndarray:
    """The split of each closed span ``[start, end]`` lying wholly inside one block, else ``""``.

    Used for windows: a window whose history+horizon crosses a block edge is in no split.
    """
    s = np.asarray(starts, dtype="datetime64[ns]")
    e = np.asarray(ends, dtype="datetime64[ns]")
    out = np.full(s.shape, "", dtype=object)
    for b in blocks:
        out[(s >= b.start) & (e < b.end)] = b.split
    return out


def _counts(n: int, fractions) -> tuple[int, int]:
    """Storm indices where val and test begin: ``fractions`` of ``n`` storms in time order,
    every split getting at least one storm when there are three or more."""
    f = np.asarray(fractions, dtype="f8") / np.sum(fractions)
    b1, b2 = round(float(f[0]) * n), round(float(f[0] + f[1]) * n)
    if n >= 3:
        b2 = min(max(b2, 2), n - 1)
        b1 = min(max(b1, 1), b2 - 1)
    return b1, b2


def storm_blocks(onsets, ends, t0, t1, fractions=(0.6, 0.2, 0.2), gap="1D",
                 where: str = "storm table") -> list[Block]:
    """Blocks covering ``[t0, t1)`` that assign whole storms (``onsets[i]``..``ends[i]``, in time
    order) to train/val/test in time order by ``fractions``.  Each boundary sits in the middle
    of the quiet stretch between two storms, ``gap`` wide; when that stretch is shorter than
    ``gap`` the nearest boundary with a long enough stretch is used instead."""
    on = np.asarray(onsets, dtype="datetime64[ns]")
    en = np.asarray(ends, dtype="datetime64[ns]")
    n = on.size
    if n < 3:
        raise ParameterError(where, f"{n} storm(s) in the record: a split by storms needs at least 3 "
                                "(give {splits} blocks by time, or a longer record)")
    g = pd.Timedelta(gap).to_timedelta64().astype("m8[ns]")
    # a boundary before storm k needs the quiet stretch end[k-1]..onset[k] to hold the gap
    ok = np.zeros(n + 1, bool)
    ok[1:n] = (on[1:] - en[:-1]) >= g
    want = _counts(n, fractions)
    chosen: list[int] = []
    for i, k in enumerate(want):
        lo = chosen[-1] + 1 if chosen else 1
        hi = n - (len(want) - 1 - i)  # exclusive: leave at least one storm for each later split
        cands = [c for c in range(lo, hi) if ok[c]]
        if not cands:
            raise ParameterError(where, f"no quiet stretch of {gap} between storms to place a split boundary "
                                    "(use a smaller gap)")
        chosen.append(min(cands, key=lambda c: (abs(c - k), c)))
    blocks, start = [], _ns(t0)
    for name, k in zip(SPLITS, chosen):
        mid = en[k - 1] + (on[k] - en[k - 1]) // 2
        blocks.append(Block(name, start, mid - g // 2))
        start = mid - g // 2 + g
    blocks.append(Block(SPLITS[-1], start, _ns(t1)))
    return blocks


def storm_splits(onsets, ends, blocks: list[Block]) -> np.ndarray:
    """The split of each storm; refuses a storm that overlaps two blocks (it would leak)."""
    out = []
    for a, b in zip(np.asarray(onsets, "datetime64[ns]"), np.asarray(ends, "datetime64[ns]")):
        hit = [blk for blk in blocks if a < blk.end and b >= blk.start]
        if len(hit) > 1:
            raise ParameterError("splits", f"the storm {pd.Timestamp(a)} .. {pd.Timestamp(b)} straddles the blocks "
                                        f"{', '.join(map(str, hit))}: move the boundary into a quiet time")
        out.append(hit[0].split if hit else "")
    return np.asarray(out, dtype=object)


def balanced_choice(pos: np.ndarray, neg: np.ndarray, ratio: float, rng: np.random.Generator):
    """Subsets of the positive and negative candidates ``pos``, ``neg`` (index arrays) with
    ``len(neg_kept) == round(ratio * len(pos_kept))``: every positive and a random draw of
    negatives, or -- when negatives are too few -- every negative and a draw of positives.
    Both are returned sorted, so reading them stays in store order."""
    pos, neg = np.asarray(pos), np.asarray(neg)
    if ratio <= 0:
        return np.sort(pos), neg[:0]
    want = round(ratio * pos.size)
    if want <= neg.size:
        return np.sort(pos), np.sort(rng.choice(neg, size=want, replace=False)) if want else neg[:0]
    n_pos = int(np.floor(neg.size / ratio))
    while n_pos and round(ratio * n_pos) > neg.size:
        n_pos -= 1
    keep_pos = np.sort(rng.choice(pos, size=n_pos, replace=False)) if n_pos else pos[:0]
    keep_neg = np.sort(rng.choice(neg, size=round(ratio * n_pos), replace=False))
    return keep_pos, keep_neg
