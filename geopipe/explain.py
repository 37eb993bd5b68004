"""Where a segmentation model looks: gradient x input saliency maps.

For one time of a grid store, the model's inputs ``z`` (normalised exactly as for
prediction, shape (1, ny, nx, C)) go through the model under ``tf.GradientTape``; the
scalar explained is the mean predicted probability over a target region ``R``::

    s = sum_R p(z) / |R|          R: the predicted mask (p >= threshold), or a lat/lon box
    saliency_c = z_c * ds/dz_c    (ny, nx) per channel;   saliency = sum over channels

A positive value means the input there pushes the probability in ``R`` up.  A channel the
model does not use, or a pixel outside the network's receptive field of ``R``, gets exactly
zero, so a scientist can check that the model looks at the cyclone and not at an artefact
(an edge, a missing-data patch, one channel alone).  When no pixel reaches the threshold,
``R`` is the whole grid (and the map says so).

Writes a PNG map (the predicted-mask contour over the saliency) and/or a Zarr store through
:func:`geopipe.store.append` (``saliency`` and ``saliency_<channel>``, dims (time, row, col),
on the input's grid), beside the prediction store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import maps
from geopipe import store as _store
from geopipe.errors import GeopipeError
from geopipe.models import io
from geopipe.predict import common
from geopipe.predict.grid import DEFAULT_THRESHOLD, _product, grid_of


def region_weights(ds: xr.Dataset, dims: tuple[str, str], box) -> np.ndarray:
    """1.0 inside ``box`` = (lat_min, lat_max, lon_min, lon_max) degrees, else 0; shape (ny, nx).

    Longitudes compare modulo 360, so a box of (170, -170) spans the dateline and 0..360 and
    -180..180 grids select the same points.
    """
    lat0, lat1, lon0, lon1 = (float(v) for v in box)
    lat, lon = xr.broadcast(ds["latitude"], ds["longitude"])
    lat = lat.transpose(*dims).values
    lon = lon.transpose(*dims).values
    inside = (lat >= min(lat0, lat1)) & (lat <= max(lat0, lat1)) & (((lon - lon0) % 360.0) <= ((lon1 - lon0) % 360.0))
    return inside.astype("f4")


def saliency(model, z: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Gradient x input of the weighted mean probability.

    ``z``: normalised inputs (ny, nx, C); ``weights``: (ny, nx), the region ``R`` (0/1).
    Returns (per-channel saliency float32 (C, ny, nx), the explained mean probability).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(z[None].astype("f4"))
    w = tf.convert_to_tensor(weights.astype("f4"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        p = tf.reshape(tf.cast(model(x, training=False), tf.float32), tf.shape(w))
        target = tf.reduce_sum(p * w) / tf.reduce_sum(w)
    grad = tape.gradient(target, x)[0].numpy()               # (ny, nx, C)
    return np.moveaxis(grad * z, -1, 0).astype("f4"), float(target.numpy())


def explain(model_dir, store: str, time, out, zarr: str | None = None, region=None) -> str:
    """Saliency of ``model_dir`` at ``time`` of ``store``; ``out`` a ``.png`` (map) or ``.zarr``.

    ``zarr`` also appends the saliency fields to that store; ``region`` (lat_min, lat_max,
    lon_min, lon_max) explains the mean probability in that box instead of the predicted mask.
    Returns ``out``.
    """
    model_dir = str(model_dir)
    cfg = io.load_config(model_dir)
    channels = list(cfg.get("channels") or [])
    thr = float(cfg.get("threshold", DEFAULT_THRESHOLD))
    mean, std = common.normalization(model_dir, channels)
    digest = io.model_hash(model_dir)
    url = _store.resolve_store(store)
    ds = _store.open_store(url)
    grid = grid_of(ds, channels, url)
    step = maps.select_time(ds, time, url)
    x = np.stack([np.asarray(step[c].transpose(*grid.dims).values, "f4") for c in channels], axis=-1)
    z = common.normalize(x, mean, std)
    model = common.model_for(model_dir, digest)
    prob = np.clip(np.asarray(model(z[None], training=False), "f4").reshape(x.shape[:2]), 0, 1)
    if region is not None:
        weights, target = region_weights(ds, grid.dims, region), f"box {tuple(float(v) for v in region)}"
        if not weights.any():
            raise GeopipeError(f"{url}: region {region} holds no grid point")
    else:
        weights, target = (prob >= thr).astype("f4"), f"predicted mask (p >= {thr:g})"
        if not weights.any():
            weights, target = np.ones_like(prob), "whole grid (no pixel reached the threshold)"
    per_channel, explained = saliency(model, z, weights)
    valid = pd.Timestamp(step["time"].values)
    result = _dataset(step, grid, channels, per_channel, prob, target, explained)
    attrs, sources = common.provenance(model_dir, digest, cfg, url)
    attrs.update(title="geopipe saliency (gradient x input)", explained=target, threshold=thr)
    out = str(out)
    if zarr or out.endswith(".zarr"):
        _store.append(result, zarr or out, product=_product("saliency", grid), sources=sources, attrs=attrs)
    if not out.endswith(".zarr"):
        _png(ds, result, grid, channels, thr, out, valid, target, cfg, digest)
    return out


def _dataset(step, grid, channels, per_channel, prob, target, explained) -> xr.Dataset:
    dims = ("time",) + grid.dims
    attrs = {"units": "1", "grid_mapping": grid.mapping_name, "explained": target,
             "explained_mean_probability": explained}
    data = {"saliency": (dims, per_channel.sum(axis=0)[None], {
        **attrs, "long_name": "gradient x input of the mean predicted probability, summed over channels"})}
    for c, values in zip(channels, per_channel):
        data[f"saliency_{c}"] = (dims, values[None], {**attrs, "long_name": f"gradient x input for channel {c}"})
    data["probability"] = (dims, prob[None], {"long_name": "predicted probability", "units": "1",
                                              "valid_range": np.array([0.0, 1.0], "f4"), "grid_mapping": grid.mapping_name})
    data[grid.mapping_name] = grid.mapping
    time = xr.Variable("time", [np.datetime64(pd.Timestamp(step["time"].values), "ns")], {"standard_name": "time"})
    return xr.Dataset(data, coords={"time": time, **grid.coords})


def _png(ds, result, grid_info, channels, thr, out, valid, target, cfg, digest) -> str:
    one = result.isel(time=0)
    grid = maps.map_grid(ds, "saliency")
    fig, ax = maps.map_axes(grid)
    sal = grid.field(one["saliency"])
    vmax = float(np.nanpercentile(np.abs(sal), 99.5)) or float(np.nanmax(np.abs(sal))) or 1.0
    mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(sal), cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                         shading="nearest", transform=grid.crs, zorder=2, alpha=0.9)
    prob = grid.field(one["probability"])
    if np.nanmax(prob, initial=0.0) >= thr:
        ax.contour(grid.x, grid.y, np.nan_to_num(prob), levels=[thr], colors="black", linewidths=1.2,
                   transform=grid.crs, zorder=5)
    share = np.array([np.nansum(np.abs(one[f"saliency_{c}"].values)) for c in channels])
    share = share / share.sum() if share.sum() > 0 else share
    fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.6, pad=0.02,
                 label="gradient x input (probability), summed over channels")
    parts = ", ".join(f"{c} {100 * s:.0f}%" for c, s in zip(channels, share))
    ax.set_title(f"saliency of mean p over {target}; valid {valid:%Y-%m-%d %H:%M} UTC\n"
                 f"model {cfg.get('kind', 'model')} {digest[:10]}; |saliency| by channel: {parts}", fontsize=9)
    return maps.save_figure(fig, out)
