"""TempestExtremes' DetectNodes and StitchNodes, the same answers from numpy.

A reimplementation of the semantics of ``DetectNodes`` and ``StitchNodes`` (Ullrich et al.
2021, github ClimateGlobalChange/tempestextremes) on regular latitude-longitude grids,
vectorised over the candidates of a whole chunk of times.

DetectNodes, per time, in TempestExtremes' order:

1. candidates: grid points whose value is <= every neighbour's (``searchbymin``; >= for
   ``searchbymax``) on the grid graph: 4 neighbours (north, south, east, west; longitude wraps
   unless ``regional``), or 8 with ``diag_connect``; pole rows are ordinary rows of points;
2. ``minlat``/``maxlat``/``minlon``/``maxlon``/``minabslat`` filters;
3. ``mergedist``: a candidate with a strictly deeper candidate within that great-circle
   distance is dropped (all candidates are merged before any closed-contour test);
4. ``thresholdcmd`` ``var,op,value,dist``: some point within ``dist`` satisfies ``op value``;
5. ``closedcontourcmd`` ``var,delta,dist,minmaxdist``: a breadth-first flood fill of the grid
   graph from the candidate (or from the extremum within ``minmaxdist``) through the points
   that have not yet risen by ``delta``; it fails as soon as it visits a point farther than
   ``dist`` degrees.  ``noclosedcontourcmd`` keeps the candidates that fail it;
6. ``outputcmd`` ``var,op,dist``: the min or max of ``var`` within ``dist``.

StitchNodes (the default, first-come-first-served path builder): every node at time step t
is linked to the nearest node of the first of the next ``maxgap + 1`` steps whose nearest node
lies within ``range`` degrees; paths are then followed in time order and node order, each link
used once; paths shorter than ``mintime`` (steps, or a duration such as ``24h``) are dropped.

The flood fill, written as array operations: the visited set is the connected component of
"not yet risen and within ``dist``" that holds the candidate, plus that component's neighbours;
the test fails exactly when one of those neighbours lies beyond ``dist``.  All candidates of a
chunk that sit on one grid row share the disc's shape, so they are tested together.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pandas as pd
from scipy import ndimage

# ----------------------------------------------------------------------------- commands


def _fields(text: str, n: int, what: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != n:
        raise ValueError(f"{what} {text!r}: expected {n} comma-separated entries")
    return parts


def _split(text: str | None) -> list[str]:
    return [s for s in re.split(r"[;:]", text or "") if s.strip()]


@dataclasses.dataclass(frozen=True)
class ClosedContour:
    """``var,delta,dist,minmaxdist``: ``var`` rises by ``delta`` (falls, if negative) within
    ``dist`` degrees of the extremum found within ``minmaxdist`` of the candidate."""

    var: str
    delta: float
    dist: float
    minmaxdist: float = 0.0

    @classmethod
    def parse(cls, text: str) -> ClosedContour:
        var, delta, dist, mm = _fields(text, 4, "closed contour command")
        cc = cls(var, float(delta), float(dist), float(mm))
        if cc.delta == 0 or cc.dist <= 0 or cc.minmaxdist < 0:
            raise ValueError(f"closed contour command {text!r}: delta must be non-zero, dist positive, "
                             f"minmaxdist non-negative")
        return cc


_OPS = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
        "=": np.equal, "!=": np.not_equal}


@dataclasses.dataclass(frozen=True)
class Threshold:
    """``var,op,value,dist``: some point within ``dist`` degrees has ``var op value``."""

    var: str
    op: str
    value: float
    dist: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        var, op, value, dist = _fields(text, 4, "threshold command")
        if op not in _OPS:
            raise ValueError(f"threshold command {text!r}: the operator must be one of {', '.join(_OPS)}")
        return cls(var, op, float(value), float(dist))


@dataclasses.dataclass(frozen=True)
class Output:
    """``var,op,dist``: the ``min`` or ``max`` of ``var`` within ``dist`` degrees."""

    var: str
    op: str
    dist: float

    @classmethod
    def parse(cls, text: str) -> Output:
        var, op, dist = _fields(text, 3, "output command")
        if op not in ("min", "max"):
            raise ValueError(f"output command {text!r}: the operator must be min or max")
        return cls(var, op, float(dist))

    @property
    def name(self) -> str:
        return self.var


@dataclasses.dataclass(frozen=True)
class DetectSpec:
    """DetectNodes' options, with TempestExtremes' names and defaults."""

    searchby: str = "PSL"
    minima: bool = True
    closedcontour: tuple[ClosedContour, ...] = ()
    noclosedcontour: tuple[ClosedContour, ...] = ()
    threshold: tuple[Threshold, ...] = ()
    output: tuple[Output, ...] = ()
    mergedist: float = 0.0
    mergeequal: bool = False
    minlat: float = 0.0
    maxlat: float = 0.0
    minlon: float = 0.0
    maxlon: float = 0.0
    minabslat: float = 0.0
    diag_connect: bool = False
    regional: bool = False

    @classmethod
    def from_te(cls, searchbymin: str | None = None, searchbymax: str | None = None,
                closedcontourcmd: str | None = None, noclosedcontourcmd: str | None = None,
                thresholdcmd: str | None = None, outputcmd: str | None = None, **options) -> DetectSpec:
        """From DetectNodes' command-line strings, e.g.
        ``from_te(searchbymin="MSL", closedcontourcmd="MSL,200.0,5.5,0", mergedist=6.0)``."""
        if searchbymin and searchbymax:
            raise ValueError("give searchbymin or searchbymax, not both")
        spec = cls(searchby=searchbymax or searchbymin or "PSL", minima=not searchbymax,
                   closedcontour=tuple(ClosedContour.parse(s) for s in _split(closedcontourcmd)),
                   noclosedcontour=tuple(ClosedContour.parse(s) for s in _split(noclosedcontourcmd)),
                   threshold=tuple(Threshold.parse(s) for s in _split(thresholdcmd)),
                   output=tuple(Output.parse(s) for s in _split(outputcmd)),
                   **{k: (float(v) if k not in ("mergeequal", "diag_connect", "regional") else bool(v))
                      for k, v in options.items()})
        spec.check()
        return spec

    def check(self) -> None:
        for name in ("minlat", "maxlat"):
            if not -90 <= getattr(self, name) <= 90:
                raise ValueError(f"{name} must be in [-90, 90] (got {getattr(self, name)})")
        if self.minlat > self.maxlat:
            raise ValueError(f"minlat ({self.minlat}) must not exceed maxlat ({self.maxlat})")
        if not 0 <= self.minabslat <= 90:
            raise ValueError(f"minabslat must be in [0, 90] (got {self.minabslat})")

    @property
    def variables(self) -> list[str]:
        names = [self.searchby] + [c.var for c in (*self.closedcontour, *self.noclosedcontour, *self.threshold,
                                                    *self.output)]
        return list(dict.fromkeys(names))


def _wrap_lon_rad(deg: float) -> float:
    """TempestExtremes' normalisation of --minlon/--maxlon into [0, 360), in radians."""
    if deg < 0:
        deg += (int(-deg / 360.0) + 1) * 360.0
    if deg >= 360:
        deg -= (int(deg / 360.0) - 1) * 360.0
    return deg * np.pi / 180.0


# ----------------------------------------------------------------------------- the grid graph


class GridGraph:
    """A regular latitude-longitude grid as TempestExtremes sees it: points joined to their 4
    (or 8) neighbours, longitude wrapping unless regional, no link across a pole."""

    def __init__(self, lat, lon, diag_connect: bool = False, regional: bool = False):
        self.lat = np.asarray(lat, dtype="f8")
        self.lon = np.asarray(lon, dtype="f8")
        self.ny, self.nx = self.lat.size, self.lon.size
        if self.ny < 2 or self.nx < 2:
            raise ValueError("a grid needs at least two latitudes and two longitudes")
        self.lat_rad = self.lat * (np.pi / 180.0)
        self.lon_rad = self.lon * (np.pi / 180.0)
        self.diag = bool(diag_connect)
        self.regional = bool(regional)
        self.shifts = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                       if (dr, dc) != (0, 0) and (self.diag or dr == 0 or dc == 0)]

    def distance(self, r0: int, c0, rows, cols) -> np.ndarray:
        """Great-circle degrees from point (r0, c0) to (rows, cols), by TempestExtremes' formula."""
        a, b = self.lat_rad[r0], self.lat_rad[rows]
        d = np.sin(a) * np.sin(b) + np.cos(a) * np.cos(b) * np.cos(self.lon_rad[cols] - self.lon_rad[c0])
        out = 180.0 / np.pi * np.arccos(np.clip(d, -1.0, 1.0))
        return np.where(d >= 1.0, 0.0, np.where(d <= -1.0, 180.0, out))

    def chord2(self, r0: int, c0, rows, cols) -> np.ndarray:
        """Squared chord between unit vectors, as DetectNodes' k-d tree measures it."""
        def xyz(r, c):
            a, b = self.lat_rad[r], self.lon_rad[c]
            return np.cos(b) * np.cos(a), np.sin(b) * np.cos(a), np.sin(a)
        return sum((p - q) ** 2 for p, q in zip(xyz(r0, c0), xyz(rows, cols)))

    @functools.lru_cache(maxsize=4096)
    def disc(self, row: int, col: int, dist: float, chord: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the points within ``dist`` of (row, col) that its flood fill reaches
        (on a global grid: the whole disc; each row's part of it is one run of columns).
        ``chord``: measured as the merge's k-d tree does (every point, reached or not)."""
        span = int(np.ceil(dist / np.min(np.abs(np.diff(self.lat))))) + 1
        rows = np.arange(max(0, row - span), min(self.ny, row + span + 1))
        cols = np.arange(self.nx)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        if chord:
            near = self.chord2(row, col, rr, cc) <= (2.0 * np.sin(0.5 * dist / 180.0 * np.pi)) ** 2
            return rr[near], cc[near]
        near = self.distance(row, col, rr, cc) <= dist
        if self.regional:
            # a regional grid clips the disc, and the flood fill only reaches what is connected
            lab, _ = ndimage.label(near, self._structure())
            near &= lab == lab[row - rows[0], col]
        near[row - rows[0], col] = True
        return rr[near], cc[near]

    @functools.lru_cache(maxsize=4096)
    def runs(self, row: int, dist: float, chord: bool = False) -> tuple[tuple[int, int], ...]:
        """The disc of ``dist`` around any point of ``row`` (global grids) as runs of columns:
        ``(row', w)`` for columns -w..w of row ``row'`` (w = -1: the whole circle)."""
        dr, dc = self.disc(row, 0, dist, chord)
        out = []
        for r in np.unique(dr):
            c = (dc[dr == r] + self.nx // 2) % self.nx - self.nx // 2
            w = int(np.abs(c).max())
            out.append((int(r), -1 if 2 * w + 1 >= self.nx else w))
        return tuple(out)

    def _structure(self) -> np.ndarray:
        return np.ones((3, 3), bool) if self.diag else ndimage.generate_binary_structure(2, 1)

    def neighbour_values(self, field: np.ndarray):
        """For each neighbour direction: (values, exists), each like ``field`` (..., ny, nx)."""
        out = []
        nx = self.nx
        for dr, dc in self.shifts:
            v = np.roll(field, (-dr, -dc), axis=(-2, -1))
            ok = np.ones(field.shape[-2:], bool)
            if dr == -1:
                ok[0] = False
            elif dr == 1:
                ok[-1] = False
            if self.regional:
                if not self.diag and dc != 0:
                    ok[:, [0, nx - 1]] = False  # TempestExtremes links no edge column east-west
                elif dc == -1:
                    ok[:, 0] = False
                elif dc == 1:
                    ok[:, -1] = False
            out.append((v, ok))
        return out


# ----------------------------------------------------------------------------- DetectNodes


def local_extrema(field: np.ndarray, graph: GridGraph, minima: bool = True) -> np.ndarray:
    """(..., ny, nx) bool: points no neighbour of which is strictly lower (higher), NaN aside."""
    valid = np.isfinite(field)
    keep = valid.copy()
    for v, ok in graph.neighbour_values(field):
        better = (v < field) if minima else (v > field)
        keep &= ~(better & ok & np.isfinite(v))
    return keep


def _location_filter(spec: DetectSpec, graph: GridGraph, rows, cols) -> np.ndarray:
    keep = np.ones(len(rows), bool)
    lat, lon = graph.lat_rad[rows], graph.lon_rad[cols]
    if spec.minlat != spec.maxlat:
        keep &= (lat >= spec.minlat * np.pi / 180.0) & (lat <= spec.maxlat * np.pi / 180.0)
    if spec.minlon != spec.maxlon:
        lon = np.mod(lon, 2 * np.pi)
        lo, hi = _wrap_lon_rad(spec.minlon), _wrap_lon_rad(spec.maxlon)
        keep &= ((lon >= lo) & (lon <= hi)) if lo < hi else ~((lon > hi) & (lon < lo))
    if spec.minabslat:
        keep &= np.abs(lat) >= spec.minabslat * np.pi / 180.0
    return keep


def _merge(spec: DetectSpec, graph: GridGraph, search: np.ndarray, t, rows, cols) -> np.ndarray:
    """(k,) the candidates that no strictly deeper candidate of their time lies within ``mergedist``
    of (with ``mergeequal``, an equal one kept before it in grid order also removes it)."""
    fill = np.inf if spec.minima else -np.inf
    dense = np.full(search.shape, fill, search.dtype)
    dense[t, rows, cols] = search[t, rows, cols]
    own = search[t, rows, cols]
    best = _disc_extreme(dense, t, rows, cols, graph, spec.mergedist, "min" if spec.minima else "max", chord=True)
    keep = (best >= own) if spec.minima else (best <= own)
    if spec.mergeequal:
        flat = rows * graph.nx + cols
        for i in np.flatnonzero(keep):  # in time, then grid order
            dr, dc = graph.disc(int(rows[i]), int(cols[i]) if graph.regional else 0, spec.mergedist, True)
            cc = dc if graph.regional else (dc + cols[i]) % graph.nx
            same = (t == t[i]) & keep & (flat < flat[i]) & (own == own[i])
            if same.any() and np.isin(flat[same], dr * graph.nx + cc).any():
                keep[i] = False
    return keep


def _by_disc(graph: GridGraph, rows, cols):
    """Groups of candidates that share a disc shape: one grid row (one point, on a regional grid)."""
    key = rows * graph.nx + cols if graph.regional else rows
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for sel in np.split(order, bounds):
        if len(sel):
            yield key[sel[0]], sel


def _disc_extreme(field, t, rows, cols, graph: GridGraph, dist: float, how: str, chord: bool = False) -> np.ndarray:
    """(k,) the min or max of ``field[t]`` over each candidate's disc: sliding-window extremes
    along each row of the disc (a global grid's disc is one run of columns per row)."""
    if dist < 1e-12:
        return field[t, rows, cols]
    if graph.regional:
        return _disc_reduce(field, t, rows, cols, graph, dist, how, chord)[0]
    reduce = np.minimum if how == "min" else np.maximum
    filt = ndimage.minimum_filter1d if how == "min" else ndimage.maximum_filter1d
    out = np.empty(len(t), field.dtype)
    cache: dict = {}
    for r0, sel in _by_disc(graph, rows, cols):
        best = None
        for r, w in graph.runs(int(r0), float(dist), chord):
            if (r, w) not in cache:
                line = field[:, r, :]
                cache[(r, w)] = (line.min(axis=-1)[:, None] if how == "min" else line.max(axis=-1)[:, None]) \
                    if w < 0 else filt(line, 2 * w + 1, axis=-1, mode="wrap")
            m = cache[(r, w)]
            v = m[t[sel], 0] if w < 0 else m[t[sel], cols[sel]]
            best = v if best is None else reduce(best, v)
        out[sel] = best
    return out


def _disc_reduce(field, t, rows, cols, graph: GridGraph, dist: float, how: str, chord: bool = False):
    """(k,) the min or max of ``field[t]`` over each candidate's disc of ``dist`` degrees,
    with the flat index of where it is (first in the disc's order on ties)."""
    out = np.empty(len(t), field.dtype)
    where = np.empty(len(t), np.int64)
    if dist < 1e-12:
        return field[t, rows, cols], rows * graph.nx + cols
    for key in np.unique(rows if not graph.regional else rows * graph.nx + cols):
        sel = np.flatnonzero(rows == key) if not graph.regional else np.flatnonzero(rows * graph.nx + cols == key)
        r0 = int(rows[sel[0]])
        c0 = 0 if not graph.regional else int(cols[sel[0]])
        dr, dc = graph.disc(r0, c0, float(dist), chord)
        # order the disc by distance from its centre: the breadth-first search meets ties nearest first
        rr = dr[None, :]
        cc = (dc[None, :] - c0 + cols[sel][:, None]) % graph.nx if not graph.regional else dc[None, :]
        vals = field[t[sel][:, None], rr, cc]
        pick = np.argmin(vals, axis=1) if how == "min" else np.argmax(vals, axis=1)
        out[sel] = vals[np.arange(len(sel)), pick]
        where[sel] = rr[0, pick] * graph.nx + cc[np.arange(len(sel)), pick]
    return out, where


def _threshold(field, t, rows, cols, graph, th: Threshold) -> np.ndarray:
    """(k,) some point within ``dist`` of each candidate satisfies the threshold."""
    op = _OPS[th.op]
    if th.op in (">", ">="):
        return op(_disc_extreme(field, t, rows, cols, graph, th.dist, "max").astype("f8"), th.value)
    if th.op in ("<", "<="):
        return op(_disc_extreme(field, t, rows, cols, graph, th.dist, "min").astype("f8"), th.value)
    keep = np.zeros(len(t), bool)
    for _, sel in _by_disc(graph, rows, cols):
        for s in sel:
            dr, dc = graph.disc(int(rows[s]), int(cols[s]), th.dist)
            keep[s] = op(field[t[s], dr, dc].astype("f8"), th.value).any()
    return keep


def _window(graph: GridGraph, row: int, dist: float):
    """The flood-fill window of a candidate on ``row``: its rows, column offsets, and which of
    its points lie within ``dist`` (for column 0; a global grid is the same at every column)."""
    span = int(np.ceil(dist / np.min(np.abs(np.diff(graph.lat))))) + 1
    rows = np.arange(max(0, row - span), min(graph.ny, row + span + 1))
    full = np.arange(graph.nx)
    rr, cc = np.meshgrid(rows, full, indexing="ij")
    inside = graph.distance(row, 0, rr, cc) <= dist
    offsets = (full + graph.nx // 2) % graph.nx - graph.nx // 2  # -nx/2 .. nx/2 - 1
    reach = np.abs(offsets[inside.any(axis=0)]).max() + 1
    if 2 * reach + 1 < graph.nx and not graph.regional:
        off = np.arange(-reach, reach + 1)
        ring = False
    else:
        # the disc goes round a pole: three turns of the circle, the candidate on the middle one
        off = np.arange(-graph.nx - graph.nx // 2, graph.nx + graph.nx - graph.nx // 2)
        ring = True
    inside_w = inside[:, off % graph.nx]
    return rows, off, inside_w, ring


@functools.lru_cache(maxsize=64)
def _structure3(diag: bool) -> np.ndarray:
    s = np.zeros((3, 3, 3), bool)
    s[1] = np.ones((3, 3), bool) if diag else ndimage.generate_binary_structure(2, 1)
    return s


def _closed(field, t, rows, cols, graph: GridGraph, cc: ClosedContour) -> np.ndarray:
    """(k,) whether each candidate has a closed contour (see the module's doc)."""
    ok = np.zeros(len(t), bool)
    if cc.minmaxdist > 0:
        _, where = _disc_reduce(field, t, rows, cols, graph, cc.minmaxdist, "min" if cc.delta > 0 else "max")
        rows, cols = where // graph.nx, where % graph.nx
    live = _rays_rise(field, t, rows, cols, graph, cc)
    # a pole row of one value is one point seen from every longitude: its candidates all flood
    # the same region, so test one of them per time and give the others its answer
    twins = np.full(len(t), -1)
    for r0 in (0, graph.ny - 1):
        if abs(abs(graph.lat[r0]) - 90.0) > 1e-9:
            continue
        flat = np.ptp(field[:, r0, :], axis=-1) == 0
        on = np.flatnonzero((rows == r0) & live & flat[t])
        first = on[np.r_[True, t[on][1:] != t[on][:-1]]] if len(on) else on
        twins[on] = first[np.searchsorted(t[first], t[on])]
    live &= (twins < 0) | (twins == np.arange(len(t)))
    if graph.regional:
        for s in np.flatnonzero(live):
            ok[s] = _closed_regional(field[t[s]], int(rows[s]), int(cols[s]), graph, cc)
        live[:] = False
    structure = _structure3(graph.diag)
    for r0 in np.unique(rows[live]):
        sel = np.flatnonzero((rows == r0) & live)
        wrows, off, inside, ring = _window(graph, int(r0), cc.dist)
        ci = np.flatnonzero(off == 0)[0]
        ri = int(r0) - wrows[0]
        vals = field[t[sel][:, None, None], wrows[None, :, None], (cols[sel][:, None, None] + off[None, None, :]) % graph.nx]
        ref = vals[:, ri, ci][:, None, None]
        # float arithmetic as TempestExtremes does it: the difference in the field's precision
        rest = ~_risen(vals, ref, cc) & inside[None]  # NaN has not risen: the fill goes on
        lab, _ = ndimage.label(rest, structure)
        comp = lab == lab[:, ri, ci][:, None, None]
        reached = ndimage.binary_dilation(comp, structure)
        ok[sel] = ~(reached & ~inside[None]).any(axis=(1, 2))
    has = twins >= 0
    ok[has] = ok[twins[has]]
    return ok


def _risen(vals, ref, cc: ClosedContour) -> np.ndarray:
    """Where the flood fill stops: the field has risen by delta (fallen, for a negative delta);
    the difference in the field's own precision, as TempestExtremes computes it."""
    return (vals - ref >= cc.delta) if cc.delta > 0 else (ref - vals >= -cc.delta)


def _rays_rise(field, t, rows, cols, graph: GridGraph, cc: ClosedContour) -> np.ndarray:
    """(k,) False where a closed contour is impossible: along one of the four grid lines from the
    candidate, every point within ``dist`` has not risen, so the fill walks that line out of the
    disc.  A necessary condition only (rays that end at a pole or a regional edge say nothing)."""
    live = np.ones(len(t), bool)
    ref = field[t, rows, cols]
    for r0 in np.unique(rows):
        sel = np.flatnonzero(rows == r0)
        r0 = int(r0)
        for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            steps = []
            for s in range(1, graph.nx):
                r, c = r0 + s * dr, s * dc
                if not 0 <= r < graph.ny:
                    steps = None  # the line ends at a pole inside the disc
                    break
                if graph.distance(r0, 0, r, c % graph.nx) > cc.dist:
                    break
                steps.append((r, c))
            else:
                steps = None  # the whole circle of latitude lies inside the disc
            if not steps:
                continue
            rr = np.array([p[0] for p in steps])
            cc_ = np.array([p[1] for p in steps])
            cs = cols[sel][:, None] + cc_[None, :]
            if graph.regional:
                inside = (cs >= 0) & (cs < graph.nx)
                cont = inside.all(axis=1) & (cols[sel] + (len(steps) + 1) * dc >= 0) & \
                    (cols[sel] + (len(steps) + 1) * dc < graph.nx)
                if not graph.diag and dc != 0:
                    cont &= False  # edge columns have no east-west links there: say nothing
                vals = field[t[sel][:, None], rr[None, :], np.clip(cs, 0, graph.nx - 1)]
            else:
                cont = np.ones(len(sel), bool)
                vals = field[t[sel][:, None], rr[None, :], cs % graph.nx]
            rises = _risen(vals, ref[sel][:, None], cc).any(axis=1)
            live[sel] &= rises | ~cont
    return live


def _closed_regional(f2: np.ndarray, r0: int, c0: int, graph: GridGraph, cc: ClosedContour) -> bool:
    """The same breadth-first test on a regional grid, one candidate at a time."""
    ref = f2[r0, c0]
    seen = np.zeros(f2.shape, bool)
    queue = [(r0, c0)]
    seen[r0, c0] = True
    while queue:
        r, c = queue.pop()
        if graph.distance(r0, c0, r, c) > cc.dist:
            return False
        risen = (f2[r, c] - ref >= cc.delta) if cc.delta > 0 else (ref - f2[r, c] >= -cc.delta)
        if risen:
            continue
        for dr, dc in graph.shifts:
            rn, cn = r + dr, c + dc
            if not (0 <= rn < graph.ny and 0 <= cn < graph.nx):
                continue
            if dc != 0 and not graph.diag and c in (0, graph.nx - 1):
                continue
            if not seen[rn, cn]:
                seen[rn, cn] = True
                queue.append((rn, cn))
    return True


NODE_INDEX = ["time", "i", "j", "lon", "lat"]


def detect(fields: dict[str, np.ndarray], lat, lon, times, spec: DetectSpec) -> pd.DataFrame:
    """DetectNodes on a chunk of times.

    ``fields``: variable name -> array (time, lat, lon) for every variable ``spec`` names;
    ``times``: the chunk's times.  Returns one row per node, ordered by time then grid index:
    ``time, i, j`` (column and row), ``lon, lat`` (degrees as on the grid) and one column per
    output command (named by its variable).
    """
    graph = GridGraph(lat, lon, spec.diag_connect, spec.regional)
    data = {k: np.asarray(fields[k], dtype="f4") for k in spec.variables}
    search = data[spec.searchby]
    cand = local_extrema(search, graph, spec.minima)
    t, rows, cols = np.nonzero(cand)  # ordered by time, then grid index j * nx + i
    keep = _location_filter(spec, graph, rows, cols)
    t, rows, cols = t[keep], rows[keep], cols[keep]
    if spec.mergedist:
        keep = _merge(spec, graph, search, t, rows, cols)
        t, rows, cols = t[keep], rows[keep], cols[keep]
    for th in spec.threshold:
        keep = _threshold(data[th.var], t, rows, cols, graph, th)
        t, rows, cols = t[keep], rows[keep], cols[keep]
    for cc in spec.closedcontour:
        keep = _closed(data[cc.var], t, rows, cols, graph, cc)
        t, rows, cols = t[keep], rows[keep], cols[keep]
    for cc in spec.noclosedcontour:
        keep = ~_closed(data[cc.var], t, rows, cols, graph, cc)
        t, rows, cols = t[keep], rows[keep], cols[keep]
    table = pd.DataFrame({"time": pd.DatetimeIndex(np.asarray(times)[t]), "i": cols.astype("int32"),
                          "j": rows.astype("int32"), "lon": graph.lon[cols], "lat": graph.lat[rows]})
    for out in spec.output:
        table[out.name] = _disc_extreme(data[out.var], t, rows, cols, graph, out.dist, out.op)
    return table


# ----------------------------------------------------------------------------- StitchNodes


@dataclasses.dataclass(frozen=True)
class StitchSpec:
    """StitchNodes' options: ``range`` (degrees), ``mintime`` and ``maxgap`` (time steps as an
    int, or a duration such as ``"24h"``), ``min_endpoint_dist`` and ``min_path_dist`` (degrees)."""

    range: float = 5.0
    mintime: int | str = 3
    maxgap: int | str = 0
    min_endpoint_dist: float = 0.0
    min_path_dist: float = 0.0

    @staticmethod
    def _steps_or_seconds(value) -> tuple[int | None, float | None]:
        if isinstance(value, (int, np.integer)) or (isinstance(value, str) and value.strip().isdigit()):
            return int(value), None
        return None, pd.Timedelta(str(value)).total_seconds()


def _gc_deg(lat1, lon1, lat2, lon2):
    """TempestExtremes' great-circle distance (degrees) from latitudes and longitudes in degrees."""
    a, b = np.deg2rad(lat1), np.deg2rad(lat2)
    d = np.sin(a) * np.sin(b) + np.cos(a) * np.cos(b) * np.cos(np.deg2rad(lon2) - np.deg2rad(lon1))
    return np.where(d >= 1.0, 0.0, np.rad2deg(np.arccos(np.clip(d, -1.0, 1.0))))


def _xyz(lat, lon):
    a, b = np.deg2rad(lat), np.deg2rad(lon)
    return np.stack([np.cos(b) * np.cos(a), np.sin(b) * np.cos(a), np.sin(a)], axis=-1)


def stitch(nodes: pd.DataFrame, spec: StitchSpec, times=None) -> pd.DataFrame:
    """StitchNodes: ``nodes`` (columns ``time, lat, lon`` and any others, in DetectNodes' order
    within each time) into paths.

    ``times``: the discrete times of the node file (default: those of ``nodes``); a time with no
    nodes still counts as a step.  Returns one row per path node, in TempestExtremes' path order:
    ``track`` (0, 1, ...) then the node's columns.  As in TempestExtremes, two paths may share a node.
    """
    times = pd.DatetimeIndex(np.unique(np.concatenate([
        np.asarray(pd.DatetimeIndex(nodes["time"]).as_unit("ns").asi8),
        np.asarray(pd.DatetimeIndex([] if times is None else times).as_unit("ns").asi8)]))).sort_values()
    nodes = nodes.reset_index(drop=True)
    tix = np.searchsorted(times.asi8, pd.DatetimeIndex(nodes["time"]).as_unit("ns").asi8)
    order = np.argsort(tix, kind="stable")
    nodes, tix = nodes.iloc[order].reset_index(drop=True), tix[order]
    n_t = len(times)
    bounds = np.searchsorted(tix, np.arange(n_t + 1))
    lat, lon = nodes["lat"].to_numpy("f8"), nodes["lon"].to_numpy("f8")
    xyz = _xyz(lat, lon)
    gap_steps, gap_seconds = StitchSpec._steps_or_seconds(spec.maxgap)
    secs = (times.asi8 - (times.asi8[0] if n_t else 0)) / 1e9
    nxt = np.full(len(nodes), -1)
    for t in range(n_t - 1):
        a, b = bounds[t], bounds[t + 1]
        todo = np.arange(a, b)
        for g in range(1, n_t - t):
            if not len(todo):
                break
            if gap_steps is not None and g > gap_steps + 1:
                break
            if gap_seconds is not None and secs[t + g] - secs[t] > gap_seconds:
                break
            c, d = bounds[t + g], bounds[t + g + 1]
            if d == c:
                continue
            d2 = ((xyz[todo][:, None, :] - xyz[c:d][None, :, :]) ** 2).sum(axis=2)
            near = c + np.argmin(d2, axis=1)
            hit = _gc_deg(lat[todo], lon[todo], lat[near], lon[near]) <= spec.range
            nxt[todo[hit]] = near[hit]
            todo = todo[~hit]
    paths = _paths(nxt, bounds, n_t)
    paths = [p for p in paths if _keep(p, spec, tix, secs, lat, lon)]
    if not paths:
        return nodes.iloc[:0].assign(track=np.array([], "int32"))[["track", *nodes.columns]]
    rows = np.concatenate(paths)
    out = nodes.iloc[rows].reset_index(drop=True)
    out.insert(0, "track", np.repeat(np.arange(len(paths)), [len(p) for p in paths]).astype("int32"))
    return out


def _paths(nxt: np.ndarray, bounds: np.ndarray, n_t: int) -> list[np.ndarray]:
    """TempestExtremes' first-come-first-served paths: at each time, in node order, a node with an
    unused link starts a path that follows unused links; a link is used once."""
    unused = nxt >= 0
    paths = []
    for t in range(n_t - 1):
        for i in range(bounds[t], bounds[t + 1]):
            if not unused[i]:
                continue
            path = [i]
            while unused[path[-1]]:
                unused[path[-1]] = False
                path.append(nxt[path[-1]])
            paths.append(np.asarray(path))
    return paths


def _keep(path, spec: StitchSpec, tix, secs, lat, lon) -> bool:
    steps, seconds = StitchSpec._steps_or_seconds(spec.mintime)
    if steps is not None and len(path) < steps:
        return False
    if seconds is not None and secs[tix[path[-1]]] - secs[tix[path[0]]] < seconds:
        return False
    if spec.min_endpoint_dist > 0 and _gc_deg(lat[path[0]], lon[path[0]], lat[path[-1]], lon[path[-1]]) < spec.min_endpoint_dist:
        return False
    if spec.min_path_dist > 0 and _gc_deg(lat[path[:-1]], lon[path[:-1]], lat[path[1:]], lon[path[1:]]).sum() < spec.min_path_dist:
        return False
    return True


# ----------------------------------------------------------------------------- whole datasets


def detect_dataset(ds, spec: DetectSpec, chunk: int = 64, names: dict | None = None) -> pd.DataFrame:
    """DetectNodes over every time of ``ds`` (dims time, latitude, longitude), one Dask task per
    ``chunk`` times.  ``names`` maps the spec's variable names to those of ``ds`` (default: the same)."""
    import dask

    names = names or {}
    lat, lon = ds["latitude"].values, ds["longitude"].values
    keys = {v: names.get(v, v) for v in spec.variables}
    missing = [f"{k} ({v})" if k != v else k for k, v in keys.items() if v not in ds]
    if missing:
        raise KeyError(f"no variable(s) {', '.join(missing)}")

    def block(a: int):
        sub = ds[list(set(keys.values()))].isel(time=slice(a, a + chunk))
        fields = {k: sub[v].transpose("time", "latitude", "longitude").values for k, v in keys.items()}
        return detect(fields, lat, lon, sub["time"].values, spec)

    tasks = [dask.delayed(block)(a) for a in range(0, ds.sizes["time"], chunk)]
    frames = dask.compute(*tasks)
    return pd.concat(frames, ignore_index=True) if frames else detect({k: np.zeros((0, lat.size, lon.size), "f4")
                                                                        for k in keys}, lat, lon, [], spec)
