"""Scores for masks and forecasts: numpy versions for reports, a Keras metric for training.

Masks are scored from pooled confusion counts over a whole split (every pixel of every
sample counts once), at a probability threshold: TP, FP, FN, TN.

* accuracy = (TP + TN) / N
* Dice     = 2 TP / (2 TP + FP + FN)                (= F1)
* Tversky  = TP / (TP + alpha FP + beta FN)         (alpha 0.3, beta 0.7 as the loss)
* IoU      = TP / (TP + FP + FN)                    (foreground Jaccard; equals CSI for one class)
* POD      = TP / (TP + FN)                         (probability of detection, hit rate)
* FAR      = FP / (TP + FP)                         (false-alarm ratio)
* CSI      = TP / (TP + FP + FN)                    (critical success index, threat score)

An undefined score (0/0, e.g. FAR of a model that never predicts the mask) is NaN.

Forecasts (nT) are scored per lead: RMSE, MAE, R2 = 1 - SSE/SST, skill against
persistence = 1 - RMSE_model / RMSE_persistence (> 0 means better than persistence),
RMSE over storm samples alone, and the lag check (:func:`best_lag`).
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from keras import ops

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)


# ----------------------------------------------------------------------------- masks (numpy)


def confusion_counts(y_true: np.ndarray, prob: np.ndarray, thresholds=(0.5,)) -> np.ndarray:
    """Counts (n_thresholds, 4) of TP, FP, FN, TN for ``prob >= t``; arrays of any equal shape."""
    y = np.asarray(y_true).reshape(-1) > 0.5
    p = np.asarray(prob, dtype="float32").reshape(-1)
    n_pos = int(y.sum())
    out = np.zeros((len(thresholds), 4), dtype="int64")
    p_pos = p[y]
    p_neg = p[~y]
    for i, t in enumerate(thresholds):
        tp = int((p_pos >= t).sum())
        fp = int((p_neg >= t).sum())
        out[i] = (tp, fp, n_pos - tp, len(p_neg) - fp)
    return out


def _ratio(num, den):
    return float(num) / float(den) if den else float("nan")


def mask_scores(counts, alpha: float = 0.3, beta: float = 0.7) -> dict[str, float]:
    """Dice, Tversky, IoU, POD, FAR, CSI and accuracy from one row (TP, FP, FN, TN)."""
    tp, fp, fn, tn = (int(c) for c in np.asarray(counts).reshape(-1)[:4])
    return {
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "tversky": _ratio(tp, tp + alpha * fp + beta * fn),
        "iou": _ratio(tp, tp + fp + fn),
        "pod": _ratio(tp, tp + fn),
        "far": _ratio(fp, tp + fp),
        "csi": _ratio(tp, tp + fp + fn),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
    }


def best_threshold(counts: np.ndarray, thresholds=THRESHOLDS, score: str = "csi") -> float:
    """The threshold whose counts (one row per threshold) give the highest ``score``."""
    values = np.array([mask_scores(c)[score] for c in counts])
    values = np.where(np.isnan(values), -1.0, values)
    return float(thresholds[int(np.argmax(values))])


# ----------------------------------------------------------------------------- forecasts (numpy)


def _finite(*arrays):
    ok = np.ones(np.shape(arrays[0]), dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def rmse(y, pred) -> float:
    ok = _finite(y, pred)
    return float(np.sqrt(np.mean((np.asarray(pred)[ok] - np.asarray(y)[ok]) ** 2))) if ok.any() else float("nan")


def mae(y, pred) -> float:
    ok = _finite(y, pred)
    return float(np.mean(np.abs(np.asarray(pred)[ok] - np.asarray(y)[ok]))) if ok.any() else float("nan")


def r2(y, pred) -> float:
    ok = _finite(y, pred)
    y, pred = np.asarray(y, "f8")[ok], np.asarray(pred, "f8")[ok]
    sst = np.sum((y - y.mean()) ** 2)
    return float(1.0 - np.sum((y - pred) ** 2) / sst) if sst > 0 else float("nan")


def skill(rmse_model: float, rmse_reference: float) -> float:
    """Skill score ``1 - RMSE_model / RMSE_reference``: 0 = as good as the reference, 1 = perfect."""
    return float(1.0 - rmse_model / rmse_reference) if rmse_reference > 0 else float("nan")


def forecast_scores(y, pred, persistence, storm=None) -> dict[str, float]:
    """RMSE, MAE, R2, skill vs persistence and storm-time RMSE for one lead; 1-D arrays (sample,)."""
    y, pred, persistence = (np.asarray(a, "f8") for a in (y, pred, persistence))
    ok = _finite(y, persistence)  # score every model on the samples persistence can forecast
    out = {"rmse": rmse(y[ok], pred[ok]), "mae": mae(y[ok], pred[ok]), "r2": r2(y[ok], pred[ok])}
    out["skill"] = skill(out["rmse"], rmse(y[ok], persistence[ok]))
    if storm is not None:
        s = np.asarray(storm).astype(bool) & ok
        out["rmse_storm"] = rmse(y[s], pred[s]) if s.any() else float("nan")
        out["n_storm"] = int(s.sum())
    out["n"] = int(ok.sum())
    return out


def _grid(observed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    obs = observed[~observed.index.duplicated()].sort_index().dropna()
    return obs.index.to_numpy("datetime64[ns]").astype("i8"), obs.to_numpy("f8")


def observed_at(observed, when, step_minutes: float) -> np.ndarray:
    """``observed`` (a Series on a grid of ``step_minutes``, or its ``(times ns, values)``) at
    the times ``when``: the value itself on a grid time, linear in time between two neighbours
    one step apart, NaN inside a gap or outside the record (never interpolated across missing
    values)."""
    t, v = _grid(observed) if isinstance(observed, pd.Series) else observed
    q = pd.DatetimeIndex(when).to_numpy("datetime64[ns]").astype("i8")
    out = np.full(q.shape, np.nan)
    if not len(t):
        return out
    i = np.searchsorted(t, q, side="right") - 1  # the last grid time at or before q
    left, right = np.clip(i, 0, len(t) - 1), np.clip(i + 1, 0, len(t) - 1)
    hit = (i >= 0) & (t[left] == q)
    out[hit] = v[left[hit]]
    between = (i >= 0) & ~hit & (i + 1 < len(t)) & ((t[right] - t[left]) <= float(step_minutes) * 60e9 * 1.001)
    a, b = left[between], right[between]
    w = (q[between] - t[a]) / (t[b] - t[a])
    out[between] = (1 - w) * v[a] + w * v[b]
    return out


def best_lag(valid_time, forecast, observed: pd.Series, max_lag_minutes: float, step_minutes: float,
             resolution_minutes: float | None = None) -> float:
    """The shift k (minutes) maximising corr(forecast(v), observed(v - k)).

    ``valid_time`` (sample,) datetime64 times the forecasts are for, ``forecast`` (sample,)
    values, ``observed`` a Series of observations on a grid of ``step_minutes``.  A forecast
    that only echoes the last observed value, f(v) = o(v - lead), peaks at k = lead exactly; a
    forecast with real skill peaks near 0.  ``resolution_minutes`` (default: the grid step)
    searches k more finely than the grid, the observations read linearly in time between grid
    times (:func:`observed_at`): on a 5-min grid a forecast that runs a few minutes ahead of
    the last value would otherwise read as k = lead.  NaN when no shift has 3 overlapping
    finite pairs.
    """
    valid = pd.DatetimeIndex(valid_time)
    f = np.asarray(forecast, "f8")
    grid = _grid(observed)

    def corr(k):
        o = observed_at(grid, valid - pd.Timedelta(minutes=float(k)), step_minutes)
        ok = _finite(f, o)
        if ok.sum() < 3 or np.std(f[ok]) == 0 or np.std(o[ok]) == 0:
            return -np.inf
        return np.corrcoef(f[ok], o[ok])[0, 1]

    def search(ks):
        rs = [corr(k) for k in ks]
        i = int(np.argmax(rs))
        return (float(ks[i]), rs[i]) if np.isfinite(rs[i]) else (float("nan"), -np.inf)

    step = float(step_minutes)
    best, best_r = search(np.round(np.arange(0.0, max_lag_minutes + step / 2, step), 6))
    res = float(resolution_minutes or step)
    if res < step and not np.isnan(best):  # refine between the grid neighbours of the grid's best shift
        ks = np.round(np.arange(max(0.0, best - step) + res, min(max_lag_minutes, best + step) - res / 2, res), 6)
        ks = ks[ks != best]  # the grid's best is scored already
        if len(ks):
            fine, fine_r = search(ks)
            if fine_r > best_r:
                best = fine
    return best


# ----------------------------------------------------------------------------- Keras (training)


@keras.saving.register_keras_serializable(package="geopipe")
class MaskScore(keras.metrics.Metric):
    """Dice, CSI (= IoU), POD or FAR of ``y_pred >= threshold``, from counts pooled over an epoch."""

    def __init__(self, score: str = "dice", threshold: float = 0.5, name=None, **kwargs):
        super().__init__(name=name or score, **kwargs)
        if score not in ("dice", "csi", "pod", "far"):
            raise ValueError(f"unknown score {score!r}")
        self.score, self.threshold = score, float(threshold)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.fp = self.add_variable(shape=(), initializer="zeros", name="fp")
        self.fn = self.add_variable(shape=(), initializer="zeros", name="fn")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y = ops.reshape(ops.cast(y_true, "float32"), (-1,))
        p = ops.cast(ops.reshape(y_pred, (-1,)) >= self.threshold, "float32")
        self.tp.assign_add(ops.sum(y * p))
        self.fp.assign_add(ops.sum((1.0 - y) * p))
        self.fn.assign_add(ops.sum(y * (1.0 - p)))

    def result(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        num, den = {"dice": (2 * tp, 2 * tp + fp + fn), "csi": (tp, tp + fp + fn),
                    "pod": (tp, tp + fn), "far": (fp, tp + fp)}[self.score]
        return ops.divide_no_nan(num, den)

    def reset_state(self):
        for v in (self.tp, self.fp, self.fn):
            v.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "score": self.score, "threshold": self.threshold}
