"""Train the U-Net on a real-format patch store and check the model folder and its ladder report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geopipe.models import metrics as M
from geopipe.models.data import SampleStore
from geopipe.models.io import load_config, load_normalization, load_predictor, model_hash
from geopipe.training import train_segmentation

UNET = dict(depth=4, filters=8, epochs=10, batch_size=16, lr=1e-3, patience=4, max_pixels=40_000,
            device="cpu", seed=0)


@pytest.fixture(scope="module")
def trained(patch_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "unet"
    return out, train_segmentation(patch_store, out, kind="unet", loss="tversky", **UNET)


def rung(metrics, kind):
    return next(r for r in metrics["ladder"] if r["kind"] == kind)


def test_unet_beats_the_all_zero_baseline_on_dice(trained):
    out, metrics = trained
    unet, zero, clim = rung(metrics, "unet"), rung(metrics, "zero"), rung(metrics, "climatology")
    assert zero["dice"] == 0.0
    assert unet["dice"] > 0.5 > clim["dice"]
    assert [r["kind"] for r in metrics["ladder"]] == ["zero", "climatology", "threshold", "logreg", "mlp", "unet"]
    assert all(r["train_seconds"] >= 0 for r in metrics["ladder"])
    assert unet["train_seconds"] > 0


def test_model_folder_is_complete_and_reloads_in_safe_mode(trained, patch_store):
    out, metrics = trained
    for name in ("model.keras", "config.json", "normalization.json", "provenance.json", "metrics.json",
                 "history.csv", "learning_curve.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.parent.glob(".unet.tmp-*"))  # the staging folder was renamed into place
    config = load_config(out)
    assert config["kind"] == "unet" and config["task"] == "segmentation" and config["channels"] == ["pwat", "prmsl"]
    assert config["patch_size"] == [64, 64] and 0 < config["threshold"] < 1 and config["loss"] == "tversky"
    norm = load_normalization(out)
    store = SampleStore(patch_store, "patches")
    np.testing.assert_allclose(norm["mean"], store.mean, rtol=1e-6)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["trained_on"]["store"] == store.path
    assert prov["trained_on"]["attrs"]["geopipe_sources"][0]["path"].startswith("synthetic:")
    assert prov["device"]["device"] == "cpu" and prov["device"]["mixed_precision"] is False
    history = pd.read_csv(out / "history.csv")
    assert {"loss", "val_loss"} <= set(history.columns) and len(history) >= 1
    # the saved model, loaded in safe mode, reproduces the reported test Dice exactly
    model = load_predictor(out)
    counts = np.zeros(4, "int64")
    for _, data in store.batches("test", 16):
        counts += M.confusion_counts(data["y"], model.predict(data["x"]), [config["threshold"]])[0]
    assert M.mask_scores(counts)["dice"] == pytest.approx(rung(metrics, "unet")["dice"], abs=1e-6)
    assert len(model_hash(out)) == 64


def test_trained_unet_runs_on_a_whole_grid(trained):
    out, _ = trained
    grid = np.random.default_rng(0).normal([30, 1012], [8, 4], size=(1, 361, 720, 2)).astype("float32")
    grid[0, :10, :10, 0] = np.nan  # gaps are filled with the train mean
    prob = load_predictor(out).predict(grid)
    assert prob.shape == (1, 361, 720) and np.isfinite(prob).all()


def test_report_has_the_ladder_and_an_honest_verdict(trained):
    out, metrics = trained
    report = (out / "report.md").read_text()
    for name in ("all-zero baseline", "climatology", "threshold rule", "pixel-wise logistic regression",
                 "per-pixel MLP", "U-Net"):
        assert f"| {name} |" in report
    beats = rung(metrics, "unet")["dice"] > rung(metrics, "mlp")["dice"]
    assert metrics["beats_rung_below"] is beats
    sentence = "beats the rung below it" if beats else "does NOT beat the rung below it"
    assert sentence in report and sentence in metrics["verdict"][0]
