"""Helpers shared by the readers of 1-D time series (ISGI/WDC indices, OMNI solar wind).

* :func:`read_bytes`   one input, local or remote (fsspec), decompressed (bz2/gzip/xz by magic)
* :class:`Lines`      where each table row sits in the file (numpy), so errors can name the line
* :func:`check_numeric`, :func:`check_times` vectorised checks that raise ``InputError(path, ..., line)``

The readers join their store by merging on ``time`` (:func:`geopipe.store.merge`): a later
file appends, a file over the same days (Dst after SYM-H, the complete year after a partial
one) fills the store's gaps, stored values win.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
from collections.abc import Iterable, Mapping

import numpy as np

from geopipe.config import is_url
from geopipe.errors import InputError
from geopipe.provenance import file_record
from geopipe.sources import inputs
from geopipe.sources.base import SourceReader
from geopipe.sources.remote import fetch_file
from geopipe.lazy import lazy_import

pd = lazy_import("pandas")
xr = lazy_import("xarray")
_store = lazy_import("geopipe.store")

log = logging.getLogger(__name__)

_MAGIC = ((b"BZh", bz2.decompress, "bzip2"), (b"\x1f\x8b", gzip.decompress, "gzip"),
          (b"\xfd7zXZ\x00", lzma.decompress, "xz"))


def read_bytes(path: str, storage_options: Mapping | None = None) -> tuple[bytes, dict]:
    """The decompressed content of ``path`` and the provenance record of the bytes as stored.

    URLs are downloaded once with :func:`geopipe.sources.remote.fetch_file` (retries on
    5xx, resets and short bodies); compression is recognised by its magic bytes, so a
    ``.bz2`` URL with a query string is still read.
    """
    if is_url(path) and not str(path).startswith("file://"):
        raw = fetch_file(str(path), dict(storage_options or {}))
    else:
        local = str(path)[7:] if str(path).startswith("file://") else str(path)
        try:
            with open(local, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise InputError(path, "no such file") from None
        except OSError as exc:
            raise InputError(path, f"cannot be read: {exc}") from exc
        path = os.path.abspath(local)
    record = file_record(path, storage_options, data=raw)
    if raw.startswith(b"PK\x03\x04"):  # a zip (ISGI's web service answers one)
        raw = _unzip(path, raw)
    for magic, decompress, kind in _MAGIC:
        if raw.startswith(magic):
            try:
                raw = decompress(raw)
            except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise InputError(path, f"corrupt {kind} stream ({exc})") from None
            break
    if not raw.strip():
        raise InputError(path, "the file is empty")
    return raw, record


def _unzip(path: str, raw: bytes) -> bytes:
    """The one data file of a zip archive (several: concatenated in name order)."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = sorted(n for n in zf.namelist() if not n.endswith("/"))
            if not names:
                raise InputError(path, "the zip archive holds no file")
            return b"".join(zf.read(n) for n in names)
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"corrupt zip archive ({exc})") from None


class Lines:
    """Where the lines of a text file are, found with numpy (no Python loop per line).

    ``rows`` are the lines a table reader sees: not empty, not starting with ``comment``,
    from line ``skip + 1`` on.  :meth:`number` gives the 1-based file line of row ``i``.
    """

    def __init__(self, raw: bytes, comment: bytes | None = b"#", skip: int = 0):
        b = np.frombuffer(raw, dtype=np.uint8)
        ends = np.flatnonzero(b == 10)
        starts = np.concatenate([[0], ends + 1])
        ends = np.concatenate([ends, [len(b)]])
        length = ends - starts
        # a line of just "\r" is empty too
        last = b[np.maximum(ends - 1, 0)] if len(b) else np.zeros(0, np.uint8)
        keep = (length > 0) & ~((length == 1) & (last == 13))
        if comment:
            keep &= b[np.minimum(starts, max(len(b) - 1, 0))] != comment[0]
        keep[:skip] = False
        self._b, self.starts, self.ends = b, starts, ends
        self.rows = np.flatnonzero(keep)

    def __len__(self) -> int:
        return len(self.rows)

    def number(self, i: int) -> int:
        return int(self.rows[i]) + 1

    def text(self, i: int) -> str:
        j = self.rows[i]
        return self._b[self.starts[j]:self.ends[j]].tobytes().decode("utf-8", "replace").rstrip("\r")

    def fields(self, sep: bytes = b",") -> np.ndarray:
        """Number of ``sep``-separated fields on each row (quotes are not special)."""
        starts = self.starts[self.starts < len(self._b)]
        counts = np.zeros(len(self.starts), dtype=np.int64)
        if len(starts):  # each line's segment runs to the next line's start: its own bytes only
            counts[:len(starts)] = np.add.reduceat((self._b == sep[0]).view(np.uint8), starts, dtype=np.int64)
        return counts[self.rows] + 1

    def check_fields(self, path: str, expected: int, first: int = 0, sep: bytes = b",") -> None:
        """Every row from ``first`` on must have ``expected`` fields."""
        counts = self.fields(sep)[first:]
        bad = np.flatnonzero(counts != expected)
        if len(bad):
            i = first + int(bad[0])
            raise InputError(path, f"row has {counts[bad[0]]} fields, the header has {expected}", line=self.number(i))


def check_numeric(df: pd.DataFrame, columns: Iterable[str], path: str, line_of) -> pd.DataFrame:
    """Convert ``columns`` to float64 (empty cells -> NaN); a cell that is not a number raises
    ``InputError`` naming its line (``line_of(row)``)."""
    out = {}
    for col in columns:
        values = df[col]
        if values.dtype.kind not in "fiub":
            text = values.astype("string").str.strip()
            num = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
            bad = np.flatnonzero((num.isna() & text.notna() & (text != "")).fillna(False).to_numpy())
            if len(bad):
                raise InputError(path, f"column {col}: {text.iloc[bad[0]]!r} is not a number", line=line_of(int(bad[0])))
            values = num
        out[col] = values.to_numpy(dtype="f8", na_value=np.nan)
    return pd.DataFrame(out, index=df.index)


def check_times(times: pd.DatetimeIndex, path: str, line_of) -> None:
    """Times must be unique and increasing; the first offender is named by line."""
    t = times.asi8
    if len(t) < 2:
        return
    step = np.diff(t)
    bad = np.flatnonzero(step <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        what = "repeats the time" if step[bad[0]] == 0 else "goes back in time to"
        raise InputError(path, f"row {what} {times[i]} (duplicate or unsorted rows)", line=line_of(i))


def frame_to_dataset(frame: pd.DataFrame, attrs: Mapping[str, Mapping], global_attrs: Mapping | None = None) -> xr.Dataset:
    """A ``time``-indexed frame -> Dataset of float32 variables with CF attributes."""
    data = {name: ("time", frame[name].to_numpy(dtype="f4"), dict(attrs.get(name, {}))) for name in frame.columns}
    ds = xr.Dataset(data, coords={"time": ("time", frame.index.to_numpy(dtype="datetime64[ns]"))},
                    attrs=dict(global_attrs or {}))
    ds["time"].attrs.update(standard_name="time", axis="T")
    return ds


class SeriesReader(SourceReader):
    """A reader of 1-D index series (ISGI, OMNI): merged into the store by time, monthly remote URLs.

    Several files and cadences feed one store (an hourly Dst file after a one-minute SYM-H
    file covering the same days): :func:`geopipe.store.merge` by ``time`` appends new
    steps, fills the store's gaps and keeps its values."""

    joins = "merge"
    key = "time"

    @classmethod
    def add_arguments(cls, parser) -> None:
        inputs.add_arguments(parser, cls.name)

    @classmethod
    def options(cls, args) -> dict:
        return inputs.request(args, cls.name)

