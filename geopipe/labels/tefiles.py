"""TempestExtremes' text files: DetectNodes node files and StitchNodes GFDL track files.

Node file (``DetectNodes --out``): for each time a line ``YYYY MM DD count HH`` (``HH`` the
hour, or five digits of seconds with ``--out_seconds``), then ``count`` tab-indented lines
``i j lon lat`` and one value per output command.  Track file (``StitchNodes --out_file_format
gfdl``): for each path ``start N YYYY MM DD HH``, then ``N`` lines ``i j lon lat values...
YYYY MM DD HH``.  Fields are tab-separated; lines starting with ``#`` are comments.

Both read into DataFrames with columns ``time, i, j, lon, lat`` (+ ``track`` for tracks) and
one column per value, named by ``columns`` (TempestExtremes' ``--in_fmt`` without ``i,j,lon,lat``;
``c0, c1, ...`` when not given).  Bad input raises :class:`geopipe.errors.InputError` naming the
file and line.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from geopipe.errors import InputError
from geopipe.labels.outputs import write_text

INDEX = ["time", "i", "j", "lon", "lat"]


def _time(fields: list[str], path, line_no: int) -> pd.Timestamp:
    try:
        y, m, d = int(fields[0]), int(fields[1]), int(fields[2])
        hh = fields[-1]
        secs = int(hh) if len(hh) == 5 else int(hh) * 3600
        return pd.Timestamp(year=y, month=m, day=d) + pd.Timedelta(seconds=secs)
    except (ValueError, IndexError):
        raise InputError(str(path), f"line {line_no}: not a time line ({' '.join(fields)!r})") from None


def _lines(path):
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(str(path), f"cannot read as text: {getattr(exc, 'strerror', None) or exc}") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            yield n, line


def _node_frame(times, rows, n_values: int, columns, path) -> pd.DataFrame:
    names = list(columns) if columns is not None else [f"c{k}" for k in range(n_values)]
    if n_values != len(names):
        raise InputError(str(path), f"the nodes have {n_values} value column(s), but {len(names)} names were given "
                                    f"({', '.join(names)})")
    arr = np.asarray(rows, dtype="f8").reshape(len(rows), 4 + n_values)
    out = pd.DataFrame({"time": pd.DatetimeIndex(times, dtype="datetime64[ns]"),
                        "i": arr[:, 0].astype("int32"), "j": arr[:, 1].astype("int32"),
                        "lon": arr[:, 2], "lat": arr[:, 3]})
    for k, name in enumerate(names):
        out[name] = arr[:, 4 + k]
    return out


def _values(fields: list[str], path, line_no: int) -> list[float]:
    try:
        return [float(f) for f in fields]
    except ValueError:
        raise InputError(str(path), f"line {line_no}: not a node line ({' '.join(fields)!r})") from None


def read_nodes(path, columns=None) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """``(nodes, times)``: the nodes of a DetectNodes file and every time it lists (with or without nodes)."""
    times, node_times, rows = [], [], []
    width = None
    expect = 0
    for n, line in _lines(path):
        fields = line.split()
        if expect == 0:
            if len(fields) != 5:
                raise InputError(str(path), f"line {n}: expected a time line 'YYYY MM DD count HH', got {line.strip()!r}")
            t = _time(fields, path, n)
            times.append(t)
            expect = int(fields[3])
            continue
        values = _values(fields, path, n)
        width = width or len(values)
        if len(values) != width or width < 4:
            raise InputError(str(path), f"line {n}: {len(values)} columns where the file's nodes have {width}")
        node_times.append(times[-1])
        rows.append(values)
        expect -= 1
    if expect:
        raise InputError(str(path), f"ends {expect} node line(s) short of its last time's count")
    return _node_frame(node_times, rows, (width or 4) - 4, columns, path), pd.DatetimeIndex(times)


def read_tracks(path, columns=None) -> pd.DataFrame:
    """The paths of a StitchNodes GFDL file: one row per path node, ``track`` 0, 1, ... in file order."""
    track, node_times, rows = [], [], []
    width = None
    expect, k = 0, -1
    for n, line in _lines(path):
        fields = line.split()
        if expect == 0:
            if fields[0] != "start" or len(fields) != 6:
                raise InputError(str(path), f"line {n}: expected 'start N YYYY MM DD HH', got {line.strip()!r}")
            expect, k = int(fields[1]), k + 1
            continue
        values = _values(fields[:-4], path, n)
        width = width or len(values)
        if len(values) != width or width < 4:
            raise InputError(str(path), f"line {n}: {len(values)} columns where the file's nodes have {width}")
        node_times.append(_time(fields[-4:], path, n))
        rows.append(values)
        track.append(k)
        expect -= 1
    if expect:
        raise InputError(str(path), f"ends {expect} line(s) short of its last path's length")
    out = _node_frame(node_times, rows, (width or 4) - 4, columns, path)
    out.insert(0, "track", np.asarray(track, dtype="int32"))
    return out


def _hour(t: pd.Timestamp) -> str:
    secs = t.hour * 3600 + t.minute * 60 + t.second
    return str(t.hour) if secs % 3600 == 0 else f"{secs:05d}"


def _node_line(row, values) -> str:
    vals = "".join(f"\t{v:3.6e}" for v in values)
    return f"\t{int(row.i)}\t{int(row.j)}\t{row.lon:3.6f}\t{row.lat:3.6f}{vals}"


def format_nodes(nodes: pd.DataFrame, columns, times=None) -> str:
    """DetectNodes' text for ``nodes`` (columns ``time, i, j, lon, lat`` + ``columns``); ``times``
    adds time lines with no nodes."""
    columns = list(columns)
    all_times = pd.DatetimeIndex(nodes["time"]).unique()
    if times is not None:
        all_times = all_times.union(pd.DatetimeIndex(times))
    groups = {t: g for t, g in nodes.groupby("time", sort=True)}
    out = []
    for t in all_times.sort_values():
        g = groups.get(t)
        count = 0 if g is None else len(g)
        out.append(f"{t.year}\t{t.month}\t{t.day}\t{count}\t{_hour(t)}\n")
        if g is not None:
            vals = g[columns].to_numpy("f8")
            out.extend(_node_line(r, v) + "\n" for r, v in zip(g.itertuples(index=False), vals))
    return "".join(out)


def format_tracks(tracks: pd.DataFrame, columns) -> str:
    """StitchNodes' GFDL text for ``tracks`` (one row per path node: ``track, time, i, j, lon, lat`` + ``columns``)."""
    columns = list(columns)
    out = []
    for _, g in tracks.groupby("track", sort=True):
        t0 = pd.Timestamp(g["time"].iloc[0])
        out.append(f"start\t{len(g)}\t{t0.year}\t{t0.month}\t{t0.day}\t{_hour(t0)}\n")
        vals = g[columns].to_numpy("f8")
        for r, v in zip(g.itertuples(index=False), vals):
            t = pd.Timestamp(r.time)
            out.append(f"{_node_line(r, v)}\t{t.year}\t{t.month}\t{t.day}\t{_hour(t)}\n")
    return "".join(out)


def write_nodes(path, nodes: pd.DataFrame, columns, times=None) -> str:
    return write_text(str(path), format_nodes(nodes, columns, times))


def write_tracks(path, tracks: pd.DataFrame, columns) -> str:
    return write_text(str(path), format_tracks(tracks, columns))


def read_any(path, columns=None) -> pd.DataFrame:
    """A node file or a track file (told apart by the first line): a DataFrame with ``track``
    (-1 for a node file's nodes, which belong to no path)."""
    for _, line in _lines(path):
        if line.split()[0] == "start":
            return read_tracks(path, columns)
        break
    nodes, _ = read_nodes(path, columns)
    nodes.insert(0, "track", np.full(len(nodes), -1, "int32"))
    return nodes
