"""Device selection: CPU in float32, the multi-device path under MirroredStrategy on 2 logical CPUs,
and the float32 save of a model trained under mixed precision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from geopipe.errors import GeopipeError
from geopipe.models.data import SampleStore, StreamDataset, forecast_target
from geopipe.models.lstm import build_lstm
from geopipe.training.device import Device, configure
from geopipe.training.keras_fit import fit_keras


def test_cpu_is_float32_and_bad_choices_are_refused():
    device = configure("cpu")
    assert device.kind == "cpu" and device.replicas == 1 and not device.mixed_precision
    assert keras.mixed_precision.global_policy().name == "float32"
    assert device.describe()["strategy"] != "MirroredStrategy"
    with pytest.raises(GeopipeError, match="device 'tpu': must be one of"):
        configure("tpu")
    if not tf.config.list_physical_devices("GPU"):
        with pytest.raises(GeopipeError, match="no GPU"):
            configure("gpu")
        assert configure("auto").kind == "cpu"


def test_mirrored_strategy_on_two_logical_cpus(patch_store, tmp_path):
    script = textwrap.dedent(f"""
        import json, sys
        import geopipe
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from geopipe.training import train_segmentation
        m = train_segmentation({patch_store!r}, {str(tmp_path / "unet")!r}, kind="unet", depth=4, filters=4,
                               epochs=1, batch_size=8, max_pixels=2000, device="cpu")
        print("RESULT " + json.dumps(m["folders"]))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    folders = json.loads(proc.stdout.split("RESULT ", 1)[1])
    prov = json.loads((tmp_path / "unet" / "provenance.json").read_text())
    assert folders["unet"] == str(tmp_path / "unet")
    assert prov["device"]["strategy"] == "MirroredStrategy" and prov["device"]["replicas"] == 2
    assert len(prov["device"]["devices"]) == 2 and prov["device"]["mixed_precision"] is False
    assert "2 replica(s), MirroredStrategy" in (tmp_path / "unet" / "report.md").read_text()


def test_mixed_precision_model_is_saved_in_float32(symh_windows, tmp_path):
    store = SampleStore(symh_windows, "windows")
    rows = store.indices("train")[:128]
    train = StreamDataset(store, "train", 64, forecast_target, rows=rows)
    val = StreamDataset(store, "val", 64, forecast_target, rows=store.indices("val")[:64], shuffle=False)
    keras.mixed_precision.set_global_policy("mixed_float16")  # as configure("gpu") sets it
    try:
        device = Device("gpu", tf.distribute.get_strategy(), ["/cpu:0"], True)

        def build():
            return build_lstm(2, 24, 3, units=(4,), target_mean=float(store.mean[0]), target_std=float(store.std[0]))

        model, history, _ = fit_keras(build, "mse", [], train, val, tmp_path, device, epochs=1, lr=1e-3, seed=0)
        assert build().get_layer("lstm0").compute_dtype == "float16"  # it did train in mixed precision
    finally:
        keras.mixed_precision.set_global_policy("float32")
    saved = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, compile=False)
    assert saved.get_layer("lstm0").compute_dtype == "float32"
    x = store.normalize(store.take(rows[:16])["x"])
    np.testing.assert_allclose(saved.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert len(history) == 1 and {"loss", "val_loss"} <= set(history.columns)
