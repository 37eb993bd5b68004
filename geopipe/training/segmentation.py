"""Train mask models on a patch store: the segmentation ladder up to a U-Net.

Rungs (geopipe.training.ladder.SEGMENTATION_LADDER): all-zero, climatology, threshold
rule, pixel-wise logistic regression, per-pixel MLP, U-Net.  The scikit-learn rungs are
fitted on a random sample of train pixels (``max_pixels``); the U-Net streams the train
split from Zarr.  Every rung's probability threshold is chosen on the validation split
(maximum CSI) and every rung is scored on the test split from pooled confusion counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geopipe.errors import GeopipeError, InputError

from geopipe.models import metrics as M
from geopipe.models import simple
from geopipe.models.data import SampleStore, StreamDataset, mask_target
from geopipe.training import ladder as L
from geopipe.training.params import SegmentationParams  # noqa: F401  (declared once there)
from geopipe.training.common import Run, header_lines, parse_params, run_keras, time_it


def _train_pixels(store: SampleStore, p: SegmentationParams):
    """Raw pixels (n, channel) and labels (n,) drawn at random from a sample of train patches."""
    rng = np.random.default_rng(p.seed)
    rows = store.sample_rows("train", max(1, p.max_pixels // p.pixels_per_sample), p.seed)
    xs, ys = [], []
    for i in range(0, len(rows), 64):
        data = store.take(rows[i:i + 64])
        x = data["x"].reshape(len(data["x"]), -1, data["x"].shape[-1])
        y = data["y"].reshape(len(data["y"]), -1)
        k = min(p.pixels_per_sample, x.shape[1])
        pick = np.stack([rng.choice(x.shape[1], k, replace=False) for _ in range(len(x))])
        xs.append(np.take_along_axis(x, pick[..., None], axis=1).reshape(-1, x.shape[-1]))
        ys.append(np.take_along_axis(y, pick, axis=1).reshape(-1))
    return np.concatenate(xs), (np.concatenate(ys) > 0).astype("uint8")


def _mask_frequency(store: SampleStore):
    """Sum of the train masks per patch pixel (iy, ix) and the number of train patches."""
    total, n = None, 0
    for _, data in store.batches("train", 256, variables=("y",)):
        s = (data["y"] > 0).sum(axis=0)
        total = s if total is None else total + s
        n += len(data["y"])
    return total, n


def _fit(kind: str, store: SampleStore, p: SegmentationParams, run: Run, cache: dict) -> L.RungResult:
    res = L.RungResult(kind, "segmentation")
    if kind in ("threshold", "logreg", "mlp") and "pixels" not in cache:
        cache["pixels"] = _train_pixels(store, p)
    px = cache.get("pixels")
    if kind == "zero":
        res.model, res.seconds = simple.ZeroMask(), 0.0
    elif kind == "climatology":
        res.model, res.seconds = time_it(lambda: simple.Climatology.fit(*_mask_frequency(store)))
    elif kind == "threshold":
        res.model, res.seconds = time_it(lambda: simple.ThresholdRule.fit(*px))
        res.config = {"channel": store.channels[int(res.model.channel)], "value": float(res.model.value),
                      "sense": ">=" if float(res.model.sign) > 0 else "<="}
    elif kind == "logreg":
        res.model, res.seconds = time_it(lambda: simple.PixelLogistic.fit(*px, store.mean, store.std, seed=p.seed))
    elif kind == "mlp":
        res.model, res.seconds = time_it(lambda: simple.PixelMLP.fit(*px, store.mean, store.std, hidden=p.hidden,
                                                                     seed=p.seed))
        res.config = {"hidden": p.hidden, "converged": res.model.converged}
    elif kind == "unet":
        _fit_unet(res, store, p, run)
    return res


def _fit_unet(res: L.RungResult, store: SampleStore, p: SegmentationParams, run: Run) -> None:
    from geopipe.models.losses import get_loss
    from geopipe.models.metrics import MaskScore
    from geopipe.models.unet import build_unet

    train = StreamDataset(store, "train", p.batch_size, mask_target, seed=p.seed)
    val = StreamDataset(store, "val", p.batch_size, mask_target, shuffle=False)
    arch = {"depth": p.depth, "filters": p.filters, "dropout": p.dropout, "noise": p.noise, "upsample": p.upsample}
    run_keras(res, run, lambda: build_unet(len(store.channels), **arch), get_loss(p.loss),
              [MaskScore("dice"), MaskScore("csi")], train, val, p)
    res.config = {**arch, "loss": p.loss, "optimizer": p.optimizer, "lr": p.lr, "epochs": p.epochs,
                  "batch_size": p.batch_size}


def _score(store: SampleStore, results: list[L.RungResult], batch_size: int) -> None:
    """Thresholds from the validation split (max CSI), then test scores at those thresholds."""
    counts = {}
    for split in ("val", "test"):
        counts[split] = {r.kind: np.zeros((len(M.THRESHOLDS), 4), "int64") for r in results}
        for _, data in store.batches(split, batch_size):
            for r in results:
                counts[split][r.kind] += M.confusion_counts(data["y"], r.model.predict(data["x"]), M.THRESHOLDS)
    for r in results:
        binary = r.kind in ("zero", "threshold")  # 0/1 outputs: any threshold in (0, 1] is the same
        r.threshold = 0.5 if binary else M.best_threshold(counts["val"][r.kind])
        i = int(np.argmin(np.abs(M.THRESHOLDS - r.threshold)))
        r.scores = M.mask_scores(counts["test"][r.kind][i])


def _config(store: SampleStore, r: L.RungResult) -> dict:
    label = store.ds["y"].attrs.get("long_name") or store.attrs.get("label") or "mask"
    return {"format": "keras" if r.kind == "unet" else "npz", "kind": r.kind, "task": "segmentation",
            "channels": store.channels, "patch_size": list(store.ds["x"].shape[1:3]),
            "threshold": r.threshold, "label": label, "predicts": "probability", **r.config}


def _train(patches, kinds, out_for, params, root=None) -> dict:
    p = parse_params(SegmentationParams, params)
    store = SampleStore(patches, "patches")
    for split in ("train", "val", "test"):
        if not len(store.indices(split)):
            raise InputError(store.path, f"the {split} split has no samples (the ladder needs train, val and test)")
    run = Run(out_for, p.device)
    try:
        cache, results = {}, []
        for kind in kinds:
            results.append(_fit(kind, store, p, run, cache))
        for r in results:
            if r.skipped and r.kind in out_for and root is None:  # the one model asked for cannot run
                raise GeopipeError(f"{store.path}: cannot train {r.kind}: {r.skipped}")
        _score(store, results, max(1, p.batch_size))
        lines, flags = L.segmentation_verdict(results)
        return run.write(results, store, p, _config, lines, flags, header_lines(store, run.device), root=root)
    finally:
        run.cleanup()


def train_segmentation(patches, out, kind: str = "unet", **params) -> dict:
    """Train ``kind`` on a patch store into the model folder ``out``; its test report holds the
    baselines and every rung below ``kind``.  Returns the metrics.json content."""
    return _train(patches, L.rungs_up_to(kind, "segmentation"), {kind: out}, params)


def train_ladder_segmentation(patches, out_root, kinds=None, **params) -> dict:
    """Train every rung (or ``kinds`` plus the baselines) into ``out_root/<kind>``; the combined
    ladder table goes in every folder and in ``out_root`` (metrics.json, report.md)."""
    kinds = [k for k in L.SEGMENTATION_LADDER if kinds is None or k in kinds or k in L.SEGMENTATION_BASELINES]
    return _train(patches, kinds, {k: Path(out_root) / k for k in kinds}, params, root=out_root)
