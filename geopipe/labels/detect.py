"""Cyclone nodes in one gridded time step, after TempestExtremes DetectNodes.

1. Candidates: pixels of PRMSL lower than or equal to their 8 neighbours (wrapping in
   longitude on global grids).
2. Closed contour: along each of ``contour_directions`` great-circle rays, PRMSL must rise
   by at least ``contour_dp_pa`` somewhere within ``contour_radius_deg`` of the candidate
   (the max along each ray, the min over rays: ``contour_rise``).
3. Merge: of candidates closer than ``merge_dist_deg`` the deeper is kept.
4. Tropical test, with the fields the step has: 850 hPa relative vorticity (``absv850``
   minus f) of the hemisphere's sign reaches ``vort_min`` within ``vort_radius_deg``; a warm
   core when ``gh300`` and ``gh500`` exist (the 300-500 hPa thickness falls by
   ``warm_core_dz_m`` within ``warm_core_radius_deg`` of its maximum near the node); and the
   node lies equatorward of ``tropical_max_lat`` (vorticity alone cannot tell a tropical
   cyclone from a mid-latitude low; the latitude cap and the warm core can).
5. Kind: ``tropical`` (1), else ``extratropical`` (2) poleward of ``extratropical_min_lat``,
   else ``other`` (0; a closed low in the tropics without the tropical signature).

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

from geopipe.labels.settings import Settings
from geopipe.geometry import Grid, coriolis, distance_deg, wrap180

OTHER, TROPICAL, EXTRATROPICAL = 0, 1, 2
KINDS = {OTHER: "other", TROPICAL: "tropical", EXTRATROPICAL: "extratropical"}

NODE_COLUMNS = ["time", "lat", "lon", "prmsl", "contour_rise", "vort850", "warm_core_dz", "kind"]


@dataclasses.dataclass(frozen=True)
class DetectParams(Settings):
    section = "detect"
    contour_dp_pa: float
    contour_radius_deg: float
    contour_directions: int
    merge_dist_deg: float
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
    if "vo850" in ds:
        return np.asarray(ds["vo850"].values, dtype="f8")
    if "absv850" in ds:
        f = coriolis(np.asarray(ds["latitude"].values, dtype="f8"))[:, None]
        return np.asarray(ds["absv850"].values, dtype="f8") - f
    return None


def thickness(ds: xr.Dataset) -> np.ndarray | None:
    """300-500 hPa thickness (m, (ny, nx)) from geopotential heights; None without them."""
    if "gh300" in ds and "gh500" in ds:
        return np.asarray(ds["gh300"].values, dtype="f8") - np.asarray(ds["gh500"].values, dtype="f8")
    return None


def candidates(prmsl: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the local minima of ``prmsl`` (ny, nx) over 3 x 3 pixels, off the poles."""
    mode = ("nearest", "wrap" if grid.periodic else "nearest")
    low = ndimage.minimum_filter(prmsl, size=3, mode=mode)
    flat = ndimage.maximum_filter(prmsl, size=3, mode=mode) == low  # a flat field has no lows
    # a pole row is one point seen from many longitudes: no low is centred there
    pole = np.abs(grid.lat) > 90 - 1e-6
    return np.nonzero((prmsl == low) & ~flat & np.isfinite(prmsl) & ~pole[:, None])


def meridian_rise(field: np.ndarray, grid: Grid, rows, cols, radius: float) -> np.ndarray:
    """(k,) the smaller of the largest rises of ``field`` due north and due south of each
    pixel, within ``radius`` degrees: an upper bound of :func:`contour_rise` (its north and
    south rays run down the pixel's column), so a cheap first cut of the candidates.
    A side whose window leaves the grid (a ray over the pole) is not bounded (inf)."""
    k = int(np.ceil(radius / abs(grid.dlat) - 1e-9))
    steps = np.arange(1, k + 1)
    out = []
    for sign in (-1, 1):
        r = rows[:, None] + sign * steps[None, :]
        inside = (r >= 0) & (r < grid.ny)
        values = field[np.clip(r, 0, grid.ny - 1), cols[:, None]]
        rise = np.max(values, axis=1, initial=-np.inf) - field[rows, cols]
        out.append(np.where(inside.all(axis=1), rise, np.inf))
    return np.minimum(*out)


def contour_rise(field: np.ndarray, grid: Grid, lat, lon, radius: float, n_dir: int) -> np.ndarray:
    """(k,) the least, over ``n_dir`` directions, of the largest rise of ``field`` along the ray
    from each point out to ``radius`` degrees.  >= dp means a closed contour of dp."""
    rlat, rlon = grid.rays(lat, lon, radius, n_dir)
    values = grid.sample(field, rlat, rlon)  # (k, n_dir, n_r); radius 0 is the point itself
    return np.min(np.max(values - values[:, :, :1], axis=2), axis=1)


def disc_max(field: np.ndarray, grid: Grid, lat, lon, radius: float, n_dir: int = 16) -> np.ndarray:
    """(k,) the largest value of ``field`` within ``radius`` degrees of each point (ray samples)."""
    rlat, rlon = grid.rays(lat, lon, radius, n_dir)
    return np.max(grid.sample(field, rlat, rlon), axis=(1, 2))


def disc_argmax(field: np.ndarray, grid: Grid, lat, lon, radius: float, n_dir: int = 16):
    """(lat, lon), each (k,): where ``field`` is largest within ``radius`` degrees of each point."""
    rlat, rlon = grid.rays(lat, lon, radius, n_dir)
    values = grid.sample(field, rlat, rlon).reshape(len(rlat), -1)
    best = np.argmax(values, axis=1)
    pick = np.arange(len(rlat))
    return rlat.reshape(len(rlat), -1)[pick, best], rlon.reshape(len(rlat), -1)[pick, best]


def merge(lat, lon, depth, dist: float) -> np.ndarray:
    """Indices of the points to keep: deepest first, dropping any within ``dist`` degrees of a kept one."""
    order = np.argsort(depth, kind="stable")
    d = distance_deg(lat[order][:, None], lon[order][:, None], lat[order][None, :], lon[order][None, :])
    keep = np.ones(len(order), bool)
    for i in range(len(order)):
        if keep[i]:
            keep[i + 1:] &= d[i, i + 1:] >= dist
    return np.sort(order[keep])


def detect_nodes(ds: xr.Dataset, params: DetectParams | dict | None = None) -> pd.DataFrame:
    """Nodes of one time step: ``ds`` holds ``prmsl`` (latitude, longitude) in Pa, optionally
    ``absv850`` (s-1), ``gh300`` and ``gh500`` (m).

    Returns a DataFrame with columns ``time, lat, lon`` (degrees, lon -180..180), ``prmsl``
    (Pa), ``contour_rise`` (Pa), ``vort850`` (hemisphere-signed max relative vorticity, s-1,
    NaN without absv850), ``warm_core_dz`` (m, NaN without thickness) and ``kind`` (0/1/2).
    """
    p = DetectParams.load(params)
    grid = Grid(ds["latitude"].values, ds["longitude"].values)
    prmsl = np.asarray(ds["prmsl"].values, dtype="f8")
    time = pd.Timestamp(ds["time"].values) if "time" in ds.coords else pd.NaT
    rows, cols = candidates(prmsl, grid)
    keep = meridian_rise(prmsl, grid, rows, cols, p.contour_radius_deg) >= p.contour_dp_pa
    rows, cols = rows[keep], cols[keep]
    lat, lon = grid.lat[rows], wrap180(grid.lon[cols])
    rise = contour_rise(prmsl, grid, lat, lon, p.contour_radius_deg, p.contour_directions)
    closed = rise >= p.contour_dp_pa
    rows, cols, lat, lon, rise = rows[closed], cols[closed], lat[closed], lon[closed], rise[closed]
    keep = merge(lat, lon, prmsl[rows, cols], p.merge_dist_deg)
    rows, cols, lat, lon, rise = rows[keep], cols[keep], lat[keep], lon[keep], rise[keep]

    n = len(rows)
    tropical = np.abs(lat) <= p.tropical_max_lat
    vort = relative_vorticity(ds)
    vmax = np.full(n, np.nan)
    if vort is not None and n:
        # cyclonic is positive in the north, negative in the south: flip the south's sign
        hemi = np.where(grid.lat >= 0, 1.0, -1.0)[:, None]
        vmax = disc_max(vort * hemi, grid, lat, lon, p.vort_radius_deg)
        # the flipped field is discontinuous at the equator: a node's own hemisphere decides
        tropical &= (vmax >= p.vort_min)
    dz = np.full(n, np.nan)
    thick = thickness(ds)
    if thick is not None and n:
        # a closed contour of thickness around its maximum near the node: from that
        # maximum the thickness must fall by warm_core_dz_m along every ray
        tlat, tlon = disc_argmax(thick, grid, lat, lon, p.warm_core_search_deg)
        dz = contour_rise(-thick, grid, tlat, tlon, p.warm_core_radius_deg, p.contour_directions)
        tropical &= dz >= p.warm_core_dz_m
    if vort is None and thick is None:
        tropical[:] = False  # no field to test: never call a low tropical on pressure alone
    kind = np.where(tropical, TROPICAL, np.where(np.abs(lat) >= p.extratropical_min_lat, EXTRATROPICAL, OTHER))
    return pd.DataFrame({"time": pd.DatetimeIndex([time] * n), "lat": lat, "lon": lon,
                         "prmsl": prmsl[rows, cols], "contour_rise": rise, "vort850": vmax,
                         "warm_core_dz": dz, "kind": kind.astype("uint8")})[NODE_COLUMNS]


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
    for kind in (EXTRATROPICAL, TROPICAL):
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
