"""The model ladder: every rung's folder, the combined table, Burton with real OMNI drivers, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geopipe import store
from geopipe.cli import main
from geopipe.errors import GeopipeError
from geopipe.models import metrics as M
from geopipe.models.data import SampleStore
from geopipe.models.io import load_config, load_predictor
from geopipe.training import train_forecast, train_ladder_forecast, train_ladder_segmentation
from geopipe.training.ladder import RungResult, forecast_verdict, segmentation_verdict

from .conftest import cut_windows, windows_dataset

OMNI = "isgi/ml_omni1min_storms"


def test_segmentation_ladder_writes_every_rung_and_one_table(patch_store, tmp_path):
    metrics = train_ladder_segmentation(patch_store, tmp_path / "ladder", kinds=["threshold", "logreg", "mlp"],
                                        max_pixels=20_000, seed=1)
    kinds = ["zero", "climatology", "threshold", "logreg", "mlp"]
    assert [r["kind"] for r in metrics["ladder"]] == kinds
    root = json.loads((tmp_path / "ladder" / "metrics.json").read_text())
    assert root["ladder"] == metrics["ladder"] and "| per-pixel MLP |" in (tmp_path / "ladder" / "report.md").read_text()
    ps = SampleStore(patch_store, "patches")
    test = ps.take(ps.indices("test"))
    for kind in kinds:
        folder = tmp_path / "ladder" / kind
        assert (folder / "model.npz").exists() and (folder / "learning_curve.png").exists()
        config = load_config(folder)
        # every folder reloads (no pickle) and reproduces its rung's reported test Dice
        prob = load_predictor(folder).predict(test["x"])
        dice = M.mask_scores(M.confusion_counts(test["y"], prob, [config["threshold"]])[0])["dice"]
        assert dice == pytest.approx(next(r for r in metrics["ladder"] if r["kind"] == kind)["dice"], abs=1e-6)
    assert load_config(tmp_path / "ladder" / "threshold")["channel"] in ("pwat", "prmsl")
    mlp, logreg = (next(r for r in metrics["ladder"] if r["kind"] == k)["dice"] for k in ("mlp", "logreg"))
    assert ("does NOT beat" in metrics["verdict"][0]) is (mlp <= logreg)


def _omni(path) -> pd.DataFrame:
    """A 7-day OMNI 1-min storm extract -> 5-min SYM-H and the Burton drivers (empty cells are NaN)."""
    df = pd.read_csv(path)
    t = (pd.to_datetime(df["Year"].astype(str), format="%Y") + pd.to_timedelta(df["Day"] - 1, "D")
         + pd.to_timedelta(df["Hour"] * 60 + df["Minute"], "min"))
    frame = pd.DataFrame({"sym_h": df["SYM_H"].to_numpy(), "bz_gsm": df["BZ(GSM)"].to_numpy(),
                          "speed": df["Velocity"].to_numpy(), "pdyn": df["Flow_pressure"].to_numpy()}, index=t)
    return frame.astype("f8").resample("5min").mean()


def test_burton_rung_with_real_omni_drivers(sample_dir, tmp_path):
    parts = [cut_windows(_omni(sample_dir / OMNI / name), split, 24, (30, 60), 5, stride)
             for name, split, stride in (("2015_out.csv", "train", 1), ("2018_out.csv", "val", 2),
                                         ("2024_out_2.csv", "test", 1))]
    ds = windows_dataset(parts, ["sym_h", "bz_gsm", "speed", "pdyn"], (30, 60), 24, 5, "OMNI storms")
    assert np.isnan(ds["x"].values).any()  # real plasma gaps stay in the inputs
    store.replace(ds, str(tmp_path / "omni.zarr"), dim="sample")
    metrics = train_ladder_forecast(tmp_path / "omni.zarr", tmp_path / "ladder", kinds=["ar", "burton"])
    burton = next(r for r in metrics["ladder"] if r["kind"] == "burton")
    pers = next(r for r in metrics["ladder"] if r["kind"] == "persistence")
    assert burton["skipped"] is None
    config = load_config(tmp_path / "ladder" / "burton")
    assert config["drivers"] == ["bz_gsm", "speed", "pdyn"]
    assert 60 < config["tau_minutes"] < 2000 and config["coef"][0] < 0  # decay of hours; southward Bz drives it down
    # the Gannon storm (May 2024), never seen in training: driven by the solar wind it beats persistence at 1 h
    assert burton["leads"]["60"]["rmse"] < pers["leads"]["60"]["rmse"]
    assert "| Burton model | 60 |" in (tmp_path / "ladder" / "report.md").read_text()
    ws = SampleStore(tmp_path / "omni.zarr", "windows")
    test = ws.take(ws.indices("test"))
    pred = load_predictor(tmp_path / "ladder" / "burton").predict(test["x"])  # reloads from model.npz
    assert M.rmse(test["y"][:, 1], pred[:, 1]) == pytest.approx(burton["leads"]["60"]["rmse"], rel=1e-6)


def test_burton_without_drivers_is_skipped_with_its_reason(symh_windows, tmp_path):
    with pytest.raises(GeopipeError, match="cannot train burton: no solar-wind drivers"):
        train_forecast(symh_windows, tmp_path / "burton", kind="burton")
    assert not (tmp_path / "burton").exists() and not list(tmp_path.glob(".burton.tmp-*"))


def test_verdict_says_so_when_the_deep_model_loses():
    def seg(kind, dice):
        return RungResult(kind, "segmentation", scores={"dice": dice})

    lines, flags = segmentation_verdict([seg("zero", 0.0), seg("climatology", 0.2), seg("mlp", 0.6), seg("unet", 0.4)])
    assert flags == {"beats_rung_below": False, "beats_every_rung_below": False, "beats_zero": True,
                     "beats_climatology": True}
    assert lines[0].startswith("The U-Net (dice 0.400) does NOT beat the rung below it, the per-pixel MLP (dice 0.600)")
    # beating the rung just below is not enough when a simpler rung further down is better still
    lines, flags = segmentation_verdict([seg("zero", 0.0), seg("logreg", 0.7), seg("mlp", 0.6), seg("unet", 0.65)])
    assert flags["beats_rung_below"] and not flags["beats_every_rung_below"]
    assert "The best rung below it is the pixel-wise logistic regression (dice 0.700): the U-Net does NOT beat it." in lines

    def fc(kind, rmse):
        return RungResult(kind, "forecast", scores={60: {"rmse": rmse, "skill": 1 - rmse / 10, "lag_minutes": 60.0}})

    lines, flags = forecast_verdict([fc("persistence", 10.0), fc("ar", 9.0), fc("lstm", 9.5)], cadence=5)
    assert flags["beats_rung_below"] == {"60": False} and flags["beats_persistence"] == {"60": True}
    assert "does NOT beat the rung below it, the linear AR (ridge) (9.00 nT) and beats persistence" in lines[0]
    assert "mostly echoes the last observed value" in lines[1]
    lines, flags = forecast_verdict([fc("persistence", 10.0), fc("ar", 9.0), fc("mlp", 9.8), fc("lstm", 9.5)], cadence=5)
    assert flags["beats_rung_below"] == {"60": True} and flags["beats_every_rung_below"] == {"60": False}
    assert lines[0].endswith("and does NOT beat the best rung below it, the linear AR (ridge) (9.00 nT).")


def test_cli_trains_one_rung_and_refuses_mismatched_options(patch_store, symh_windows, tmp_path, capsys):
    out = tmp_path / "thr"
    assert main(["train", "threshold", "--patches", patch_store, "--out", str(out), "--max-pixels", "5000",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["folders"] == {"threshold": str(out)} and (out / "model.npz").exists()
    assert [r["kind"] for r in printed["ladder"]] == ["zero", "climatology", "threshold"]
    assert main(["train", "unet", "--windows", symh_windows, "--out", str(tmp_path / "x")]) == 2
    assert "unet is a segmentation model: give --patches" in capsys.readouterr().err
    assert main(["train", "ar", "--windows", symh_windows, "--out", str(tmp_path / "y"), "--depth", "5"]) == 2
    assert "--depth: applies to segmentation models only" in capsys.readouterr().err
    assert main(["train", "ar", "--windows", str(tmp_path / "missing.zarr"), "--out", str(tmp_path / "z")]) == 2
    assert "missing.zarr" in capsys.readouterr().err
