"""Train the LSTM on REAL SYM-H (WDC Kyoto 2015), split by whole storms, against the forecast ladder."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geopipe.models import metrics as M
from geopipe.models.data import SampleStore
from geopipe.models.io import load_config, load_predictor
from geopipe.training import train_forecast

LSTM = dict(units=(32, 16), dropout=0.1, epochs=8, batch_size=64, lr=1e-3, patience=3, device="cpu", seed=0)


@pytest.fixture(scope="module")
def trained(symh_windows, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "lstm"
    return out, train_forecast(symh_windows, out, kind="lstm", **LSTM)


def rung(metrics, kind):
    return next(r for r in metrics["ladder"] if r["kind"] == kind)


def test_windows_are_split_by_whole_storms(symh_windows):
    store = SampleStore(symh_windows, "windows")
    times = pd.DatetimeIndex(store.coord("time"))
    for split in ("train", "val", "test"):
        t = times[store.indices(split)]
        assert len(t)
        others = times[(store.split != split)]
        # no window of another split falls inside this split's storm periods
        for day in pd.unique(t.normalize()):
            assert not ((others >= day) & (others < day + pd.Timedelta("1D"))).any()


def test_lstm_beats_persistence_at_60_and_120_minutes(trained):
    _, metrics = trained
    lstm, pers = rung(metrics, "lstm")["leads"], rung(metrics, "persistence")["leads"]
    for lead in ("60", "120"):
        assert lstm[lead]["rmse"] < pers[lead]["rmse"], lead
        assert lstm[lead]["skill"] == pytest.approx(1 - lstm[lead]["rmse"] / pers[lead]["rmse"])
        assert lstm[lead]["skill"] > 0
        assert metrics["beats_persistence"][lead] is True
    # a sane scale for 5-min SYM-H during storms without solar-wind inputs (persistence ~10 nT at 1 h)
    assert 5 < lstm["60"]["rmse"] < 15


def test_report_has_skill_storm_rmse_and_lag_check(trained):
    out, metrics = trained
    report = (out / "report.md").read_text()
    assert "skill vs persistence" in report and "RMSE storm (nT)" in report and "lag (min)" in report
    assert "skipped: no solar-wind drivers" in report  # the Burton rung, with its reason
    pers = rung(metrics, "persistence")["leads"]
    for lead in ("30", "60", "120"):
        assert pers[lead]["lag_minutes"] == int(lead)  # persistence echoes the last value: lag = lead
        assert pers[lead]["n_storm"] > 100 and pers[lead]["rmse_storm"] > pers[lead]["rmse"]
        lag = metrics["lag_minutes"][lead]
        assert 0 <= lag <= 2 * int(lead)
        assert f"Lag check at {lead} min: the LSTM forecast correlates best with the observations {lag:g} min" in report
        beats = rung(metrics, "lstm")["leads"][lead]["rmse"] < pers[lead]["rmse"]
        verdict = next(s for s in metrics["verdict"] if s.startswith(f"At {lead} min"))
        assert ("does NOT beat persistence" in verdict) is (not beats)  # the words follow the numbers


def test_saved_lstm_reproduces_the_reported_rmse(trained, symh_windows):
    out, metrics = trained
    config = load_config(out)
    assert config["leads"] == [30, 60, 120] and config["history"] == 24 and config["cadence_minutes"] == 5
    assert config["target"] == "sym_h" and config["residual"] is True and config["clipnorm"] == 1.0
    store = SampleStore(symh_windows, "windows")
    data = store.take(store.indices("test"))
    pred = load_predictor(out).predict(data["x"])
    assert M.rmse(data["y"][:, 1], pred[:, 1]) == pytest.approx(rung(metrics, "lstm")["leads"]["60"]["rmse"], rel=1e-4)
    assert json.loads((out / "provenance.json").read_text())["trained_on"]["attrs"]["geopipe_sources"][0][
        "path"].endswith("SYM-2015.dat.txt.bz2")
