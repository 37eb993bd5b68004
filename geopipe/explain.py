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

Writes a Zarr store through :func:`geopipe.store.append` (``saliency`` and ``saliency_<channel>``,
dims (time, row, col), on the input's grid), beside the prediction store; the PNG map (the
predicted-mask contour over the saliency) is drawn by :mod:`geopipe.saliency_map`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.errors import ParameterError
from geopipe.models import io
from geopipe.predict import common
from geopipe.predict.grid import DEFAULT_THRESHOLD, _product, grid_of
from geopipe.steps import select_time


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


@dataclasses.dataclass
class Explanation:
    """The saliency of one time (``result``: the fields, on the input grid) and what drew it."""

    result: xr.Dataset
    ds: xr.Dataset  # the input store
    grid: object  # geopipe.predict.grid's grid of the input
    channels: list[str]
    threshold: float
    valid: pd.Timestamp
    target: str  # what was explained, in words
    config: dict
    digest: str
    attrs: dict
    sources: list


def saliency_at(model_dir, store: str, time, region=None) -> Explanation:
    """Saliency of ``model_dir`` at ``time`` of ``store``; ``region`` (lat_min, lat_max, lon_min,
    lon_max) explains the mean probability in that box instead of the predicted mask."""
    model_dir = str(model_dir)
    cfg = io.load_config(model_dir)
    channels = list(cfg.get("channels") or [])
    thr = float(cfg.get("threshold", DEFAULT_THRESHOLD))
    mean, std = common.normalization(model_dir, channels)
    digest = io.model_hash(model_dir)
    url = _store.resolve_store(store)
    ds = _store.open_store(url)
    grid = grid_of(ds, channels, url)
    step = select_time(ds, time, url)
    x = np.stack([np.asarray(step[c].transpose(*grid.dims).values, "f4") for c in channels], axis=-1)
    z = common.normalize(x, mean, std)
    model = common.model_for(model_dir, digest)
    prob = np.clip(np.asarray(model(z[None], training=False), "f4").reshape(x.shape[:2]), 0, 1)
    if region is not None:
        weights, target = region_weights(ds, grid.dims, region), f"box {tuple(float(v) for v in region)}"
        if not weights.any():
            raise ParameterError("region", f"{url} holds no grid point in it", tuple(region))
    else:
        weights, target = (prob >= thr).astype("f4"), f"predicted mask (p >= {thr:g})"
        if not weights.any():
            weights, target = np.ones_like(prob), "whole grid (no pixel reached the threshold)"
    per_channel, explained = saliency(model, z, weights)
    valid = pd.Timestamp(step["time"].values)
    result = _dataset(step, grid, channels, per_channel, prob, target, explained)
    attrs, sources = common.provenance(model_dir, digest, cfg, url)
    attrs.update(title="geopipe saliency (gradient x input)", explained=target, threshold=thr)
    return Explanation(result, ds, grid, channels, thr, valid, target, cfg, digest, attrs, sources)


def write(explanation: Explanation, zarr: str) -> str:
    """Append the saliency fields to the store ``zarr``; returns it."""
    _store.append(explanation.result, zarr, product=_product("saliency", explanation.grid),
                  sources=explanation.sources, attrs=explanation.attrs)
    return str(zarr)


def explain(model_dir, store: str, time, out, region=None) -> str:
    """Saliency of ``model_dir`` at ``time`` of ``store`` appended to the Zarr store ``out``.

    A map of it: :func:`geopipe.saliency_map.render_saliency` (the maps build on this module,
    never the other way).  Returns ``out``.
    """
    if not str(out).endswith(".zarr"):
        raise ParameterError("out", "expected a .zarr store (draw a map with geopipe.saliency_map)", str(out))
    return write(saliency_at(model_dir, store, time, region), str(out))


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
