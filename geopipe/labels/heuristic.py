"""Heuristic cyclone labels for a whole gridded store: detect, stitch, mask, score.

``heuristic_labels(store, out)`` writes three things:

``out`` (appended, dims time, latitude, longitude on the store's own coords)
    ``mask`` uint8: 0 none, 1 tropical, 2 extratropical: around every node on a kept track,
    by the node's own kind, the connected region where PRMSL < node + ``mask_dp_pa`` within
    ``contour_radius_deg`` (or a disc of ``mask_radius_km`` with ``mask: radius``).
``out`` with ``_tracks.zarr`` for ``.zarr`` (replaced whole at each run)
    The node table (dim ``node``: ``time, lat, lon, prmsl, vort850, warm_core, kind,
    track_id``) and the track table (dim ``track``: ``track_kind,
    track_start, track_end, track_duration_h, track_n_nodes, track_min_prmsl, ...``).
    Nodes on no kept track are listed with ``track_id`` -1.
``out`` with ``_skill.json`` (when best tracks are given)
    POD, FAR and CSI of the tropical tracks (:mod:`geopipe.labels.skill`); on a store without
    thickness, of the unclassified ``cyclone`` tracks equatorward of ``tropical_max_lat``.
``nodes_out`` / ``tracks_out`` (optional)
    The nodes and the paths in TempestExtremes' own text formats (:mod:`geopipe.labels.tefiles`):
    a DetectNodes node file and a StitchNodes GFDL track file, columns ``prmsl, vort850``.

Detection and masking run per time chunk with Dask.  A re-run detects only the times the
labels lack, re-stitches all nodes, and appends masks for those times: masks already written
are final, so a track that a later step lengthens past ``min_duration_h`` is marked from then
on only (write to a fresh ``out`` to relabel everything).
"""

from __future__ import annotations

import json
import logging

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from geopipe import cf, progress
from geopipe import store as _store
from geopipe import tracks as _tracks
from geopipe.errors import InputError, StoreError
from geopipe.labels.detect import (
    CYCLONE,
    KINDS,
    TROPICAL,
    NODE_COLUMNS,
    DetectParams,
    detect_nodes,
    node_mask,
)
from geopipe.labels.outputs import beside, write_json
from geopipe.labels.skill import SkillParams, skill
from geopipe.geometry import Grid
from geopipe.labels.stitch import TRACK_COLUMNS, StitchParams, stitch

log = logging.getLogger(__name__)

def fields(ds: xr.Dataset) -> list[str]:
    """The variables the detector reads: pressure, 850 hPa vorticity, thickness (those present)."""
    found = [cf.find(ds, "air_pressure_at_mean_sea_level"), cf.find(ds, "relative_vorticity", 850),
             cf.find(ds, "absolute_vorticity", 850)]
    return [str(v.name) for v in found if v is not None] + [v for v in ("gh300", "gh500") if v in ds]


def tables_path(out: str, root=None) -> str:
    return beside(out, "tracks.zarr", root)


def skill_path(out: str, root=None) -> str:
    return beside(out, "skill.json", root)


# ----------------------------------------------------------------------------- per chunk


def _detect_block(block: xr.Dataset, params: DetectParams) -> pd.DataFrame:
    frames = [detect_nodes(block.isel(time=i), params) for i in range(block.sizes["time"])]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=NODE_COLUMNS)


def _mask_block(prmsl: np.ndarray, times, lat, lon, nodes: pd.DataFrame, params: DetectParams) -> np.ndarray:
    grid = Grid(lat, lon)
    out = np.zeros((len(times),) + prmsl.shape[1:], np.uint8)
    for i, t in enumerate(pd.DatetimeIndex(times)):
        here = nodes[nodes["time"] == t]
        if len(here):
            out[i] = node_mask(np.asarray(prmsl[i], dtype="f8"), grid, here, params)
    return out


def detect_store(ds: xr.Dataset, params: DetectParams, chunk: int = 8) -> pd.DataFrame:
    """Nodes of every time of ``ds`` (Dask: one task per ``chunk`` times)."""
    names = fields(ds)
    tasks = [dask.delayed(_detect_block)(ds[names].isel(time=slice(a, a + chunk)), params)
             for a in range(0, ds.sizes["time"], chunk)]
    frames = [f for f in dask.compute(*tasks) if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "time" else "f8") for c in NODE_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def mask_store(ds: xr.Dataset, nodes: pd.DataFrame, params: DetectParams, chunk: int = 8) -> xr.DataArray:
    """Lazy uint8 masks (time, latitude, longitude) of ``nodes`` on the grid of ``ds``."""
    lat, lon = ds["latitude"].values, ds["longitude"].values
    blocks = []
    for a in range(0, ds.sizes["time"], chunk):
        sub = cf.pressure(ds).isel(time=slice(a, a + chunk))
        t = sub["time"].values
        here = nodes[nodes["time"].isin(pd.DatetimeIndex(t))]
        task = dask.delayed(_mask_block)(sub.data, t, lat, lon, here, params)
        blocks.append(da.from_delayed(task, shape=(len(t), lat.size, lon.size), dtype=np.uint8))
    data = da.concatenate(blocks) if blocks else da.zeros((0, lat.size, lon.size), np.uint8)
    return xr.DataArray(data, dims=("time", "latitude", "longitude"), name="mask",
                        coords={"time": ds["time"], "latitude": ds["latitude"], "longitude": ds["longitude"]})


# ----------------------------------------------------------------------------- tables


#: storage types of the node and track table columns (everything else float64)
_DTYPES = {"time": "datetime64[ns]", "start": "datetime64[ns]", "end": "datetime64[ns]", "kind": "uint8",
           "n_nodes": "int32"}


def tables_dataset(nodes: pd.DataFrame, tracks: pd.DataFrame) -> xr.Dataset:
    """The node and track tables as one Dataset (dims ``node`` and ``track``)."""
    kinds = {"flag_values": list(KINDS), "flag_meanings": " ".join(KINDS.values())}
    units = {"lat": "degrees_north", "lon": "degrees_east", "prmsl": "Pa", "vort850": "s-1"}
    def column(table: pd.DataFrame, c: str) -> np.ndarray:
        return table[c].to_numpy().astype(_DTYPES.get(c, "f8"))

    ds = xr.Dataset()
    for c in NODE_COLUMNS:
        ds[c] = xr.Variable("node", column(nodes, c), {"units": units[c]} if c in units else (kinds if c == "kind" else {}))
    ds["track_id"] = xr.Variable("node", nodes["track"].to_numpy().astype("int32"),
                                 {"long_name": "track of the node (-1: on no kept track)"})
    ds = ds.assign_coords(track=("track", tracks["track"].to_numpy().astype("int32")))
    for c in TRACK_COLUMNS[1:]:
        attrs = kinds if c == "kind" else ({"units": "Pa"} if c == "min_prmsl" else {})
        ds[f"track_{c}"] = xr.Variable("track", column(tracks, c), attrs)
    return ds


def read_tables(path: str, root=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(nodes, tracks)`` DataFrames from a tables store written by :func:`heuristic_labels`."""
    ds = _store.open_store(path, root).load()
    nodes = pd.DataFrame({c: ds[c].values for c in NODE_COLUMNS})
    nodes["track"] = ds["track_id"].values
    tracks = pd.DataFrame({"track": ds["track"].values, **{c: ds[f"track_{c}"].values for c in TRACK_COLUMNS[1:]}})
    return nodes, tracks


# ----------------------------------------------------------------------------- whole stores


def grid_indices(ds: xr.Dataset, nodes: pd.DataFrame) -> pd.DataFrame:
    """``nodes`` with TempestExtremes' ``i, j`` (column and row on the grid of ``ds``)."""
    grid = Grid(ds["latitude"].values, ds["longitude"].values)
    return nodes.assign(i=np.rint(grid.col(nodes["lon"].to_numpy())).astype("int32") % grid.nx,
                        j=np.rint(grid.row(nodes["lat"].to_numpy())).astype("int32"))


def write_te_files(ds: xr.Dataset, nodes: pd.DataFrame, sp: StitchParams, nodes_out=None, tracks_out=None) -> dict:
    """The nodes and the paths in TempestExtremes' text formats; returns the paths written."""
    from geopipe.labels import tefiles
    from geopipe.labels.stitch import paths

    cols = ["prmsl", "vort850"]
    table = grid_indices(ds, nodes.drop(columns="track", errors="ignore")).assign(lon=lambda t: t["lon"] % 360.0)
    times = ds["time"].values
    done = {}
    if nodes_out:
        done["nodes_out"] = tefiles.write_nodes(nodes_out, table, cols, times=times)
    if tracks_out:
        done["tracks_out"] = tefiles.write_tracks(tracks_out, paths(table, sp, times), cols)
    return done


def heuristic_labels(store: str, out: str, tracks: str | None = None, detect=None, stitch_params=None,
                     chunk: int | None = None, root=None, nodes_out: str | None = None, tracks_out: str | None = None) -> dict:
    """Detect, stitch and mask the cyclones of gridded ``store`` into the labels store ``out``.

    ``tracks``: a best-track store; when given, the tropical tracks are scored against it.
    ``detect``/``stitch_params``: overrides of the catalog's settings (dicts or params).
    Returns a small summary (times written, nodes, tracks by kind, skill).
    """
    from geopipe import layout

    dp = DetectParams.load(detect)
    sp = StitchParams.load(stitch_params)
    chunk = chunk or layout.chunks("labels_heuristic")["time"]  # times per Dask task and per chunk
    ds = _store.open_store(store, root)
    if not cf.has_pressure(ds):
        raise InputError(store, "has no mean sea-level pressure (prmsl, msl, or standard_name "
                                "air_pressure_at_mean_sea_level): cannot find lows")
    for d in ("time", "latitude", "longitude"):
        if d not in ds.dims:
            raise InputError(store, f"has no {d!r} dimension (dims: {list(ds.dims)})")
    attrs = {"long_name": "heuristic cyclone region", "flag_values": list(KINDS), "method": "heuristic",
             "flag_meanings": "none tropical extratropical cyclone", "store": str(store),
             "detect": json.dumps(dp.to_dict()), "stitch": json.dumps(sp.to_dict())}
    have = pd.DatetimeIndex([])
    if _store.exists(out, root):
        labels = _store.open_store(out, root)
        have = pd.DatetimeIndex(labels.indexes["time"])
        differs = [k for k in ("detect", "stitch") if labels["mask"].attrs.get(k) != attrs[k]]
        if differs:
            raise StoreError(f"{out}: its masks were made with other {' and '.join(differs)} settings; "
                             f"write these to another store")
    new = ds.isel(time=np.flatnonzero(~pd.DatetimeIndex(ds.indexes["time"]).isin(have)))
    table_store = tables_path(out, root)
    old_nodes = pd.DataFrame(columns=NODE_COLUMNS)
    if len(have) and _store.exists(table_store, root):
        old_nodes, _ = read_tables(table_store, root)
        old_nodes = old_nodes[old_nodes["time"].isin(have)][NODE_COLUMNS]
    with progress.Progress("labels heuristic: detect", new.sizes["time"], "time steps") as bar, \
            progress.dask_progress(bar, new.sizes["time"]):
        new_nodes = detect_store(new, dp, chunk)
    nodes = pd.concat([f for f in (old_nodes, new_nodes) if len(f)] or [new_nodes], ignore_index=True)
    nodes, track_summary = stitch(nodes, sp, times=ds["time"].values)
    # the tables first: a run killed before the masks are appended re-detects those times
    _store.replace(tables_dataset(nodes, track_summary), table_store, root=root, product="labels_heuristic_tables",
                   summary=f"heuristic nodes and tracks of {store}")
    written = 0
    if new.sizes["time"]:
        kept = nodes[(nodes["track"] >= 0)]
        mask = mask_store(new, kept, dp, chunk)
        mask.attrs.update(attrs)
        out_ds = mask.to_dataset()
        out_ds.attrs.update(title="Heuristic cyclone masks", tables=table_store,
                            source=f"geopipe labels heuristic from {store}")
        written = _store.append(out_ds, out, product="labels_heuristic", chunks={"time": chunk}, root=root).written
    by_kind = {KINDS[k]: int((track_summary["kind"] == k).sum()) for k in KINDS}
    summary = {"store": str(out), "tables": table_store, "written": written, "skipped": len(have),
               "nodes": len(nodes), "tracked_nodes": int((nodes["track"] >= 0).sum()),
               "tracks": len(track_summary), "tracks_by_kind": by_kind}
    summary.update(write_te_files(ds, nodes, sp, nodes_out, tracks_out))
    if tracks:
        scored = track_summary["kind"] == TROPICAL
        if not scored.any() and "gh300" not in ds:  # no warm-core field: the unclassified lows of the tropics
            scored = (track_summary["kind"] == CYCLONE) & (track_summary["lat_start"].abs() <= dp.tropical_max_lat)
        tc = nodes[nodes["track"].isin(track_summary.loc[scored, "track"])]
        try:
            best = _tracks.load(_store.open_store(tracks, root))
        except KeyError as exc:
            raise InputError(tracks, f"not a best-track store: {exc.args[0]}") from None
        scores = skill(tc, best, times=ds["time"].values, params=SkillParams.load(),
                       lat=ds["latitude"].values, lon=ds["longitude"].values)
        scores.update(labels=str(out), tracks_store=str(tracks))
        summary["skill"] = {k: scores[k] for k in ("pod", "far", "csi", "hits", "misses", "false_alarms")}
        summary["skill_json"] = write_json(skill_path(out, root), scores)
    log.info("%s: %s", out, summary)
    return summary
