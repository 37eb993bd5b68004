"""Cyclone nodes in one gridded time step: TempestExtremes' DetectNodes, then a class.

1. Nodes: :mod:`geopipe.labels.tempest` with DetectNodes' semantics -- local minima of sea-level
   pressure over the grid graph (4 neighbours, or 8 with ``diag_connect``), merged within
   ``merge_dist_deg`` before any contour test, kept when the flood fill from the minimum meets a
   rise of ``contour_dp_pa`` everywhere within ``contour_radius_deg``; ``min_lat``/``max_lat``
   limit where (equal values mean no limit, as in TempestExtremes).
2. Class, with the fields the step has: 850 hPa relative vorticity (``vo850``, or ``absv850``
   minus f) of the hemisphere's sign reaches ``vort_min`` within ``vort_radius_deg`` (the max over
   the grid points within that distance); a warm core: the 300-500 hPa thickness (``gh300`` -
   ``gh500``) has a closed contour, falling by ``warm_core_dz_m`` within ``warm_core_radius_deg``
   of its maximum within ``warm_core_search_deg`` (TempestExtremes' ``closedcontourcmd`` on the
   thickness with a negative delta); and the node lies equatorward of ``tropical_max_lat``.
3. Kind: ``tropical`` (1) with a warm core (and the vorticity, when the store has it); else
   ``extratropical`` (2) poleward of ``extratropical_min_lat``, else ``other`` (0).  A store
   without thickness cannot tell a tropical cyclone from a mid-latitude low: its nodes are
   ``cyclone`` (3, unclassified), never tropical.

The kind codes are the values of the heuristic ``mask``: each kept node marks the connected
region around it where PRMSL < node + ``mask_dp_pa`` within ``contour_radius_deg`` (or a
disc of ``mask_radius_km``).  Thresholds: catalog/labels.yaml.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from geopipe import cf
from geopipe.labels import tempest
from geopipe.labels.settings import Settings
from geopipe.geometry import Grid, coriolis, wrap180

OTHER, TROPICAL, EXTRATROPICAL, CYCLONE = 0, 1, 2, 3
KINDS = {OTHER: "other", TROPICAL: "tropical", EXTRATROPICAL: "extratropical", CYCLONE: "cyclone"}

NODE_COLUMNS = ["time", "lat", "lon", "prmsl", "vort850", "warm_core", "kind"]


@dataclasses.dataclass(frozen=True)
class DetectParams(Settings):
    section = "detect"
    contour_dp_pa: float
    contour_radius_deg: float
    merge_dist_deg: float
    diag_connect: bool
    min_lat: float
    max_lat: float
    vort_min: float
    vort_radius_deg: float
    warm_core_dz_m: float
    warm_core_radius_deg: float
    warm_core_search_deg: float
    tropical_max_lat: float
    extratropical_min_lat: float
    mask: str
    mask_dp_pa: float
    mask_radius_km: float


def relative_vorticity(ds: xr.Dataset) -> np.ndarray | None:
    """850 hPa relative vorticity (s-1, (ny, nx)) from ``vo850``, else ``absv850`` - f; None if neither."""
    rel = cf.find(ds, "relative_vorticity", level=850)
    if rel is not None:
        return np.asarray(rel.values, dtype="f8")
    absv = cf.find(ds, "absolute_vorticity", level=850)
    if absv is not None:
        f = coriolis(np.asarray(ds["latitude"].values, dtype="f8"))[:, None]
        return np.asarray(absv.values, dtype="f8") - f
    return None


def thickness(ds: xr.Dataset) -> np.ndarray | None:
    """300-500 hPa thickness (m, (ny, nx)) from geopotential heights; None without them."""
    if "gh300" in ds and "gh500" in ds:
        return np.asarray(ds["gh300"].values, dtype="f8") - np.asarray(ds["gh500"].values, dtype="f8")
    return None


def spec(p: DetectParams) -> tempest.DetectSpec:
    """The TempestExtremes DetectNodes settings of ``p`` (the pressure field is called ``psl``)."""
    return tempest.DetectSpec(
        searchby="psl", closedcontour=(tempest.ClosedContour("psl", p.contour_dp_pa, p.contour_radius_deg),),
        mergedist=p.merge_dist_deg, minlat=p.min_lat, maxlat=p.max_lat, diag_connect=bool(p.diag_connect))


def detect_nodes(ds: xr.Dataset, params: DetectParams | dict | None = None) -> pd.DataFrame:
    """Nodes of one time step: ``ds`` holds sea-level pressure (``prmsl`` or ``msl``, or any
    variable whose CF standard_name says so; latitude, longitude) in Pa, optionally 850 hPa
    vorticity (``vo850`` or ``absv850``) and ``gh300``/``gh500`` (m).

    Returns a DataFrame with columns ``time, lat, lon`` (degrees, lon -180..180), ``prmsl``
    (Pa), ``vort850`` (hemisphere-signed max relative vorticity, s-1, NaN without vorticity),
    ``warm_core`` (1.0 / 0.0, NaN without thickness) and ``kind`` (0/1/2/3).
    """
    p = DetectParams.load(params)
    grid = Grid(ds["latitude"].values, ds["longitude"].values)
    psl = np.asarray(cf.pressure(ds).values, dtype="f4")
    time = pd.Timestamp(ds["time"].values) if "time" in ds.coords else pd.NaT
    s = spec(p)
    found = tempest.detect({"psl": psl[None]}, grid.lat, grid.lon, [time], s)
    rows, cols = found["j"].to_numpy(), found["i"].to_numpy()
    lat, lon = grid.lat[rows], wrap180(grid.lon[cols])
    n = len(rows)
    graph = tempest.GridGraph(grid.lat, grid.lon, s.diag_connect)
    t0 = np.zeros(n, int)
    tropical = np.abs(lat) <= p.tropical_max_lat
    vort = relative_vorticity(ds)
    vmax = np.full(n, np.nan)
    if vort is not None and n:
        # cyclonic is positive in the north, negative in the south: flip the south's sign
        hemi = np.where(grid.lat >= 0, 1.0, -1.0)[:, None]
        vmax = tempest._disc_extreme((vort * hemi)[None], t0, rows, cols, graph, p.vort_radius_deg, "max").astype("f8")
        tropical &= vmax >= p.vort_min
    warm = np.full(n, np.nan)
    thick = thickness(ds)
    if thick is not None and n:
        cc = tempest.ClosedContour("thickness", -p.warm_core_dz_m, p.warm_core_radius_deg, p.warm_core_search_deg)
        core = tempest._closed(thick.astype("f4")[None], t0, rows, cols, graph, cc)
        warm = core.astype("f8")
        tropical &= core
        kind = np.where(tropical, TROPICAL, np.where(np.abs(lat) >= p.extratropical_min_lat, EXTRATROPICAL, OTHER))
    else:
        kind = np.full(n, CYCLONE)  # no warm-core field: never call a low tropical
    return pd.DataFrame({"time": pd.DatetimeIndex([time] * n), "lat": lat, "lon": lon,
                         "prmsl": psl[rows, cols].astype("f8"), "vort850": vmax,
                         "warm_core": warm, "kind": kind.astype("uint8")})[NODE_COLUMNS]


def contour_region(prmsl: np.ndarray, grid: Grid, lat: float, lon: float, dp: float, radius: float) -> np.ndarray:
    """(ny, nx) bool: the connected region around the node where PRMSL < node + ``dp``,
    within ``radius`` degrees of it (the closed contour's inside)."""
    out = np.zeros(prmsl.shape, bool)
    rows = np.flatnonzero(np.abs(grid.lat - lat) <= radius + abs(grid.dlat))
    r0 = int(np.rint(grid.row(lat)))
    c0 = int(np.rint(grid.col(lon))) % grid.nx
    p0 = prmsl[r0, c0]
    inside = (prmsl[rows] < p0 + dp) & (grid.cos_distance(lat, lon, rows)[0] >= np.cos(np.deg2rad(radius)))
    # roll the node to the middle column so a region across the grid's edge stays in one piece
    shift = grid.nx // 2 - c0 if grid.periodic else 0
    labels, _ = ndimage.label(np.roll(inside, shift, axis=1))
    label = labels[np.searchsorted(rows, r0), (c0 + shift) % grid.nx]
    if label:
        out[rows] = np.roll(labels == label, -shift, axis=1)
    return out


def node_mask(prmsl: np.ndarray, grid: Grid, nodes: pd.DataFrame, params: DetectParams | dict | None = None) -> np.ndarray:
    """(ny, nx) uint8: each node's region holds its kind (tropical wins where regions overlap;
    ``other`` nodes are not marked)."""
    from geopipe.labels.roi import disc_mask

    p = DetectParams.load(params)
    out = np.zeros(prmsl.shape, np.uint8)
    for kind in (CYCLONE, EXTRATROPICAL, TROPICAL):
        these = nodes[nodes["kind"] == kind]
        if p.mask == "radius":
            region = disc_mask(grid, these["lat"].to_numpy(), these["lon"].to_numpy(), p.mask_radius_km)
        elif p.mask == "contour":
            region = np.zeros(prmsl.shape, bool)
            for la, lo in zip(these["lat"], these["lon"]):
                region |= contour_region(prmsl, grid, la, lo, p.mask_dp_pa, p.contour_radius_deg)
        else:
            raise ValueError(f"mask must be 'contour' or 'radius' (got {p.mask!r})")
        out[region] = kind
    return out
