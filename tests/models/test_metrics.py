"""Mask and forecast scores: hand-checked cases, the Keras metric against numpy, the lag check on real SYM-H."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geopipe.models import metrics as M


def test_mask_scores_from_confusion_counts():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.6, 0.2, 0.7, 0.1, 0.1, 0.0, 0.3, 0.4])
    (tp, fp, fn, tn), = M.confusion_counts(y, p, [0.5])
    assert (tp, fp, fn, tn) == (3, 1, 1, 5)
    s = M.mask_scores((tp, fp, fn, tn))
    assert s["dice"] == pytest.approx(6 / 8)
    assert s["csi"] == s["iou"] == pytest.approx(3 / 5)
    assert s["pod"] == pytest.approx(3 / 4) and s["far"] == pytest.approx(1 / 4)
    assert s["tversky"] == pytest.approx(3 / (3 + 0.3 + 0.7)) and s["accuracy"] == pytest.approx(0.8)
    never = M.mask_scores(M.confusion_counts(y, np.zeros(10), [0.5])[0])
    assert never["dice"] == 0 and math.isnan(never["far"])  # FAR is undefined without any alarm
    counts = M.confusion_counts(y, p, M.THRESHOLDS)
    assert M.best_threshold(counts) == pytest.approx(0.45)  # the threshold that keeps the 3 hits and one alarm


def test_keras_mask_score_matches_numpy():
    rng = np.random.default_rng(0)
    y = (rng.random((4, 16, 16, 1)) < 0.2).astype("float32")
    p = rng.random((4, 16, 16, 1)).astype("float32")
    for score in ("dice", "csi", "pod", "far"):
        metric = M.MaskScore(score, threshold=0.6)
        metric.update_state(y[:2], p[:2])
        metric.update_state(y[2:], p[2:])  # pooled over batches, like the report
        expected = M.mask_scores(M.confusion_counts(y, p, [0.6])[0])[score]
        assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_forecast_scores():
    y = np.array([0.0, -10, -50, -100, -80])
    pers = np.array([5.0, 0, -30, -60, -100])
    assert M.forecast_scores(y, pers, pers)["skill"] == 0
    perfect = M.forecast_scores(y, y, pers, storm=y <= -50)
    assert perfect["rmse"] == 0 and perfect["skill"] == 1 and perfect["r2"] == 1 and perfect["n_storm"] == 3
    half = pers + (y - pers) / 2
    s = M.forecast_scores(y, half, pers, storm=y <= -50)
    assert s["skill"] == pytest.approx(0.5)
    assert s["rmse_storm"] == pytest.approx(np.sqrt(np.mean(((y - pers) / 2)[2:] ** 2)))
    assert s["mae"] == pytest.approx(np.mean(np.abs(y - pers)) / 2)


def test_lag_check_on_real_symh(symh_minutes):
    obs = symh_minutes["sym_h"].loc["2015-03-15":"2015-03-20"].resample("5min").mean()
    issue = obs.index[30:-30]
    valid = issue + pd.Timedelta("60min")
    echo = obs.reindex(issue).to_numpy()  # persistence: the value at issue time
    truth = obs.reindex(valid).to_numpy()
    assert M.best_lag(valid, echo, obs, 120, 5) == 60
    assert M.best_lag(valid, truth, obs, 120, 5) == 0
    smooth = 0.5 * echo + 0.5 * truth
    assert 0 < M.best_lag(valid, smooth, obs, 120, 5) < 60
    # at 1-min resolution persistence and the truth stay exact ...
    assert M.best_lag(valid, echo, obs, 120, 5, resolution_minutes=1) == 60
    assert M.best_lag(valid, truth, obs, 120, 5, resolution_minutes=1) == 0
    # ... and a forecast carrying a fifth of the coming change (0.8 of persistence's RMSE), which the
    # 5-min grid cannot tell from persistence, reads a few minutes short of the lead
    fifth = 0.8 * echo + 0.2 * truth
    assert M.best_lag(valid, fifth, obs, 120, 5) == 60
    assert 55 < M.best_lag(valid, fifth, obs, 120, 5, resolution_minutes=1) < 60


def test_observations_between_grid_times_never_bridge_a_gap():
    t = pd.date_range("2024-05-10 12:00", periods=6, freq="5min")
    obs = pd.Series([0.0, -10, np.nan, -30, -40, -50], index=t)
    at = M.observed_at(obs, t[[0, 1, 3]].append(t[[0, 1, 3]] + pd.Timedelta("2min")).append(t[[5]] + pd.Timedelta("1min")), 5)
    np.testing.assert_allclose(at[:3], [0, -10, -30])  # on the grid: the values themselves
    np.testing.assert_allclose(at[3], -4.0)             # 2 of 5 minutes from 0 to -10
    assert np.isnan(at[4])                              # -10 .. (missing) .. -30: no value
    np.testing.assert_allclose(at[5], -34.0)
    assert np.isnan(at[6])                              # after the record
