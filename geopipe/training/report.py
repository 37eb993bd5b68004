"""Write a model folder (layout in geopipe/models/io.py): staged, then published by rename.

A folder is built under a hidden sibling ``.NAME.tmp-XXXX`` and renamed into place when
complete, so a killed run never leaves a half-written model folder behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import socket
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from geopipe.atomic import temp_sibling
from geopipe.models.io import save_json
from geopipe.training.ladder import RungResult, flat_rows, forecast_table, mask_table


def staging_dir(out) -> Path:
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(out)
    tmp.mkdir()
    return tmp


def publish(tmp: Path, out) -> Path:
    """Swap the finished folder in; an older folder of the same name is removed."""
    out = Path(out).expanduser().resolve()
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(out, old)
    os.rename(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def provenance(store, device: dict | None, params: dict) -> dict:
    """Which store the model learned from (with the store's own provenance), and how."""
    from geopipe import __version__

    attrs = dict(store.attrs)
    try:
        attrs["geopipe_sources"] = json.loads(attrs.get("geopipe_sources", "[]") or "[]")
    except (TypeError, ValueError):
        pass
    return {"trained_on": {"store": store.path, "kind": store.kind, "attrs": attrs},
            "geopipe_version": __version__,
            "time": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": socket.gethostname(), "device": device or {"device": "cpu", "note": "scikit-learn/numpy"},
            "params": params}


def _history_frame(result: RungResult) -> pd.DataFrame:
    if isinstance(result.history, pd.DataFrame) and len(result.history):
        return result.history
    hist = getattr(result.model, "history", None)
    if isinstance(hist, dict) and hist.get("loss"):
        frame = pd.DataFrame({"epoch": np.arange(len(hist["loss"])), "loss": hist["loss"]})
        if hist.get("val_score"):
            frame["val_score"] = hist["val_score"]
        return frame
    return pd.DataFrame({"epoch": [0], "fit_seconds": [round(result.seconds, 3)]})


def learning_curve(history: pd.DataFrame, path: Path, title: str) -> None:
    """Train vs validation loss per epoch (a note instead when the rung has no epochs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if "loss" in history:
        ax.plot(history["epoch"] + 1, history["loss"], "o-", label="train loss")
        if "val_loss" in history:
            ax.plot(history["epoch"] + 1, history["val_loss"], "s-", label="validation loss")
        if "val_score" in history:
            ax.plot(history["epoch"] + 1, history["val_score"], "s--", label="validation score (sklearn)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "fitted in one step: no learning curve", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _json_safe(obj):
    """NaN and infinities (undefined scores) become null: strict JSON readers reject NaN."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def ladder_document(task: str, model_name: str, results: list[RungResult], lines: list[str],
                    flags: dict, summary: dict) -> tuple[dict, str]:
    """metrics.json content and the ladder part of report.md."""
    metrics = _json_safe({"task": task, "split": "test", "model": model_name, "ladder": [r.row() for r in results],
                          "verdict": lines, **flags, **summary, "table": flat_rows(results)})
    table = mask_table(results) if task == "segmentation" else forecast_table(results)
    how = ("Pooled over every test pixel; the probability threshold of each rung was chosen on the "
           "validation split to maximise CSI." if task == "segmentation" else
           "Per lead on the test split (whole storms held out). Skill = 1 - RMSE/RMSE(persistence); "
           "RMSE storm uses the samples flagged as storm time; lag = shift (minutes) at which the "
           "forecast correlates best with the observations, searched in 1-min steps with the observations "
           "read linearly in time between their grid times (persistence: lag = lead).")
    md = "\n".join(["## Test-split ladder", "", how, "", table, "", "## Verdict", ""] + [f"- {x}" for x in lines])
    return metrics, md


def write_model_folder(tmp: Path, out, result: RungResult, *, config: dict, normalization: dict,
                       prov: dict, metrics: dict, ladder_md: str, header: list[str]) -> Path:
    """Write every file of the folder for ``result`` into ``tmp``, then publish it as ``out``."""
    if not (tmp / "model.keras").exists():
        result.model.save(tmp)  # the scikit-learn/numpy rungs: model.npz
    save_json(tmp, "config.json", config)
    save_json(tmp, "normalization.json", normalization)
    save_json(tmp, "provenance.json", prov)
    save_json(tmp, "metrics.json", metrics)
    history = _history_frame(result)
    if not (tmp / "history.csv").exists():
        history.to_csv(tmp / "history.csv", index=False)
    learning_curve(history, tmp / "learning_curve.png", f"{result.name} ({result.kind})")
    body = [f"# geopipe {config['task']} model: {result.name} (`{result.kind}`)", ""] + header + [
        "", ladder_md, "", "## Training", "",
        f"- fit time: {result.seconds:.1f} s; epochs run: {len(history) if 'loss' in history else 'n/a'}",
        "- learning curve: ![learning curve](learning_curve.png)",
        f"- config: `{json.dumps({k: v for k, v in config.items() if k not in ('channels',)}, default=str)}`", ""]
    (tmp / "report.md").write_text("\n".join(body))
    return publish(tmp, out)
