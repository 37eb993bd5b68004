"""What segmentation and forecast training share: parameters, the Keras rung, writing folders."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from geopipe.errors import GeopipeError
from geopipe.models.io import KerasPredictor, save_json
from geopipe.models.norm import as_json
from geopipe.training import report
from geopipe.training.ladder import RungResult


def parse_params(cls, params: dict):
    """``cls(**params)``, refusing unknown names with the list of known ones."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise GeopipeError(f"unknown training parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**{k: v for k, v in params.items() if v is not None})


def time_it(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


class Run:
    """One training run: where each rung's folder goes, its staging folders, the Keras device."""

    def __init__(self, out_for: dict, device: str):
        self.out_for = {k: Path(v) for k, v in out_for.items()}
        self.device_name = device
        self.device = None
        self.staging: dict[str, Path] = {}

    def staging_for(self, kind: str) -> Path:
        if kind not in self.staging:
            self.staging[kind] = report.staging_dir(self.out_for[kind])
        return self.staging[kind]

    def keras_device(self):
        if self.device is None:
            from geopipe.training.device import configure

            self.device = configure(self.device_name)
        return self.device

    def cleanup(self) -> None:
        """Remove staging folders a failed run left (published ones are gone already)."""
        for tmp in self.staging.values():
            shutil.rmtree(tmp, ignore_errors=True)

    def write(self, results: list[RungResult], store, params, config_fn, lines, flags, header,
              root=None) -> dict:
        """Write a folder for every rung in ``out_for`` (same ladder table in each) and, for a
        whole ladder, metrics.json and report.md in ``root``; returns the metrics, plus
        ``folders``, ``report`` and ``learning_curve`` (of the top rung) paths."""
        task = results[0].task
        top = [r for r in results if not r.skipped][-1]
        summary = {"top": top.kind, "store": store.path,
                   "samples": {s: int(len(store.indices(s))) for s in ("train", "val", "test")}}
        metrics, md = report.ladder_document(task, top.kind, results, lines, flags, summary)
        by_kind = {r.kind: r for r in results}
        folders = {}
        for kind, out in self.out_for.items():
            r = by_kind[kind]
            if r.skipped:
                continue
            device = self.device.describe() if (self.device and kind == top.kind and r.history is not None) else None
            prov = report.provenance(store, device, dataclasses.asdict(params))
            folders[kind] = str(report.write_model_folder(
                self.staging_for(kind), out, r, config=config_fn(store, r),
                normalization=rung_normalization(store, r), prov=prov,
                metrics={**metrics, "model": kind}, ladder_md=md, header=header))
        metrics["folders"] = folders
        if top.kind in folders:
            metrics["report"] = str(Path(folders[top.kind]) / "report.md")
            metrics["learning_curve"] = str(Path(folders[top.kind]) / "learning_curve.png")
        if root is not None:
            metrics["report"] = str(Path(root).resolve() / "report.md")
            save_json(root, "metrics.json", metrics)
            (Path(root) / "report.md").write_text("\n".join(
                [f"# geopipe {task} ladder", ""] + header + ["", md, "", "## Folders", ""] +
                [f"- `{k}`: {v}" for k, v in folders.items()]) + "\n")
        return metrics


def rung_normalization(store, r: RungResult) -> dict:
    """The train statistics of the channels the rung reads (all, or ``r.channels``)."""
    idx = list(range(len(store.channels))) if r.channels is None else list(r.channels)
    return as_json([store.channels[i] for i in idx], store.mean[idx], store.std[idx])


def run_keras(res: RungResult, run: Run, build, loss, metrics, train, val, p) -> None:
    """Fit the Keras rung ``res.kind`` into its staging folder; fills model, history, seconds.

    With ``p.members`` > 1 (forecast rungs) ``build(name=...)`` is fitted that many times from
    seeds ``p.seed, p.seed + 1, ...`` and the members' outputs are averaged in one saved model
    (a seed ensemble: the same inputs and outputs, less variance from the initialisation)."""
    from geopipe.training.keras_fit import average_models, fit_keras

    device = run.keras_device()
    members = int(getattr(p, "members", 1) or 1)
    out = run.staging_for(res.kind)
    fit = dict(epochs=p.epochs, lr=p.lr, optimizer=p.optimizer, clipnorm=p.clipnorm, patience=p.patience,
               verbose=p.verbose)
    if members == 1:
        model, history, seconds = fit_keras(build, loss, metrics, train, val, out, device, seed=p.seed, **fit)
    else:
        import pandas as pd

        fitted, histories, seconds = [], [], 0.0
        for i in range(members):
            m, h, s = fit_keras(lambda i=i: build(name=f"{res.kind}_member{i}"), loss, metrics, train, val,
                                out / f"member{i}", device, seed=p.seed + i, **fit)
            fitted.append(m)
            histories.append(h.assign(member=i))
            seconds += s
        model = average_models(fitted, out / "model.keras", name=res.kind)
        history = pd.concat(histories, ignore_index=True)
        history.to_csv(out / "history.csv", index=False)
        for i in range(members):
            shutil.rmtree(out / f"member{i}", ignore_errors=True)
    res.model = KerasPredictor(model, rung_normalization(train.store, res), res.task)
    res.history, res.seconds = history, seconds


def header_lines(store, device) -> list[str]:
    n = {s: int(len(store.indices(s))) for s in ("train", "val", "test")}
    lines = [f"- data: `{store.path}` ({store.kind}; {n['train']} train / {n['val']} val / {n['test']} test samples)",
             f"- channels: {', '.join(store.channels)}"]
    if device is not None:
        d = device.describe()
        lines.append(f"- device: {d['device']} ({d['replicas']} replica(s), {d['strategy']}, "
                     f"mixed precision {'on' if d['mixed_precision'] else 'off'})")
    return lines
