"""The model ladder: every rung scored on the test split with the same metrics, and a verdict.

A deep model is only worth its cost if it beats the simpler rungs below it, so every
training run scores the baselines and the rungs below the model it trains, and says in
words whether the model beat the rung below it (and, for forecasts, persistence).
"""

from __future__ import annotations

import dataclasses
import math

from geopipe.lazy import lazy_import

pd = lazy_import("pandas")

SEGMENTATION_LADDER = ("zero", "climatology", "threshold", "logreg", "mlp", "unet")
FORECAST_LADDER = ("persistence", "ar", "arx", "burton", "mlp", "lstm_index", "lstm")
SEGMENTATION_BASELINES = ("zero", "climatology")
FORECAST_BASELINES = ("persistence",)
NAMES = {
    "segmentation": {"zero": "all-zero baseline", "climatology": "climatology", "threshold": "threshold rule",
                     "logreg": "pixel-wise logistic regression", "mlp": "per-pixel MLP", "unet": "U-Net"},
    "forecast": {"persistence": "persistence", "ar": "linear AR (ridge)", "arx": "ARX (AR + drivers, ridge)",
                 "burton": "Burton model", "mlp": "one-hidden-layer network", "lstm_index": "index-only LSTM",
                 "lstm": "LSTM"},
}
MASK_COLUMNS = ("dice", "tversky", "iou", "pod", "far", "csi", "accuracy")
LEAD_COLUMNS = ("rmse", "mae", "r2", "skill", "rmse_storm", "lag_minutes")


@dataclasses.dataclass
class RungResult:
    """One rung: its fitted model, fit time, test scores; ``skipped`` says why it did not run."""

    kind: str
    task: str
    model: object = None
    seconds: float = 0.0
    skipped: str | None = None
    threshold: float | None = None
    history: pd.DataFrame | None = None
    scores: dict = dataclasses.field(default_factory=dict)  # masks: flat; forecasts: {lead: {...}}
    config: dict = dataclasses.field(default_factory=dict)
    channels: list | None = None  # indices of the store's channels the rung reads (None: all)
    by_storm: dict = dataclasses.field(default_factory=dict)  # forecasts: {storm label: {lead: {...}}}

    @property
    def name(self) -> str:
        return NAMES[self.task][self.kind]

    def row(self) -> dict:
        out = {"kind": self.kind, "name": self.name, "train_seconds": round(self.seconds, 3),
               "skipped": self.skipped}
        if self.task == "segmentation":
            out["threshold"] = self.threshold
            out.update(self.scores)
        else:
            out["leads"] = {str(k): v for k, v in self.scores.items()}
            if self.by_storm:
                out["storms"] = {name: {str(k): v for k, v in leads.items()} for name, leads in self.by_storm.items()}
        return out


def rungs_up_to(kind: str, task: str) -> list[str]:
    """The baselines, then every rung of the ladder up to and including ``kind``."""
    ladder = SEGMENTATION_LADDER if task == "segmentation" else FORECAST_LADDER
    base = SEGMENTATION_BASELINES if task == "segmentation" else FORECAST_BASELINES
    if kind not in ladder:
        raise ValueError(f"unknown {task} model {kind!r}; choose one of {', '.join(ladder)}")
    upto = ladder[: ladder.index(kind) + 1]
    return [k for k in ladder if k in base or k in upto]


def _fmt(v, digits=3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _ran(results):
    return [r for r in results if not r.skipped]


def segmentation_verdict(results: list[RungResult], score: str = "dice") -> tuple[list[str], dict]:
    """Sentences on the top rung against the rung below it and the baselines; and the booleans."""
    ran = _ran(results)
    top = ran[-1]
    below = ran[-2] if len(ran) > 1 else None
    lines, flags = [], {}
    a = top.scores.get(score, float("nan"))
    if below is not None:
        b = below.scores.get(score, float("nan"))
        flags["beats_rung_below"] = beats = bool(a > b)
        lines.append(f"The {top.name} ({score} {_fmt(a)}) {'beats' if beats else 'does NOT beat'} the rung below "
                     f"it, the {below.name} ({score} {_fmt(b)}), on the test split."
                     + ("" if beats else " The extra complexity did not pay off here."))
    best = max(ran[:-2], key=lambda r: r.scores.get(score, float("-inf")), default=None)
    if best is not None and best.scores.get(score, float("-inf")) > below.scores.get(score, float("-inf")):
        b = best.scores.get(score, float("nan"))
        flags["beats_every_rung_below"] = bool(a > b)
        lines.append(f"The best rung below it is the {best.name} ({score} {_fmt(b)}): the {top.name} "
                     f"{'beats' if a > b else 'does NOT beat'} it.")
    elif below is not None:
        flags["beats_every_rung_below"] = flags["beats_rung_below"]
    for r in ran[:-1]:
        if r.kind in SEGMENTATION_BASELINES and r is not below:
            b = r.scores.get(score, float("nan"))
            flags[f"beats_{r.kind}"] = bool(a > b)
            lines.append(f"Against the {r.name}: {score} {_fmt(a)} vs {_fmt(b)} "
                         f"({'better' if a > b else 'NOT better'}).")
    return lines, flags


def forecast_verdict(results: list[RungResult], cadence: float) -> tuple[list[str], dict]:
    """Per lead: the top rung against the rung below it and persistence; the lag check."""
    ran = _ran(results)
    top = ran[-1]
    below = ran[-2] if len(ran) > 1 else None
    pers = next((r for r in ran if r.kind == "persistence"), None)
    lines, flags = [], {"beats_rung_below": {}, "beats_every_rung_below": {}, "beats_persistence": {},
                        "lag_minutes": {}}
    for lead, s in top.scores.items():
        clauses = []
        lower = [r for r in ran[:-1] if math.isfinite(r.scores[lead]["rmse"])]
        best = min(lower, key=lambda r: r.scores[lead]["rmse"], default=None)
        if best is not None:
            flags["beats_every_rung_below"][str(lead)] = bool(s["rmse"] < best.scores[lead]["rmse"])
        if below is not None and below is not pers:
            b = below.scores[lead]["rmse"]
            beats = bool(s["rmse"] < b)
            flags["beats_rung_below"][str(lead)] = beats
            clauses.append(f"{'beats' if beats else 'does NOT beat'} the rung below it, the {below.name} ({_fmt(b, 2)} nT)")
        if pers is not None and top is not pers:
            p = pers.scores[lead]["rmse"]
            beats_p = bool(s["rmse"] < p)
            flags["beats_persistence"][str(lead)] = beats_p
            if below is pers:
                flags["beats_rung_below"][str(lead)] = beats_p
                clauses.append(f"{'beats' if beats_p else 'does NOT beat'} the rung below it, persistence "
                               f"({_fmt(p, 2)} nT; skill {_fmt(s['skill'])})")
            else:
                clauses.append(f"{'beats' if beats_p else 'does NOT beat'} persistence ({_fmt(p, 2)} nT; "
                               f"skill {_fmt(s['skill'])})")
        if best is not None and best is not below and best is not pers:
            b = best.scores[lead]["rmse"]
            clauses.append(f"{'beats' if s['rmse'] < b else 'does NOT beat'} the best rung below it, the "
                           f"{best.name} ({_fmt(b, 2)} nT)")
        if clauses:
            lines.append(f"At {lead} min the {top.name} (RMSE {_fmt(s['rmse'], 2)} nT) " + ", ".join(clauses[:-1])
                         + (" and " if len(clauses) > 1 else "") + clauses[-1] + ".")
        lag = s.get("lag_minutes", float("nan"))
        flags["lag_minutes"][str(lead)] = lag
        if not math.isnan(lag):
            echo = lag >= 0.75 * float(lead) - cadence / 2
            lines.append(f"Lag check at {lead} min: the {top.name} forecast correlates best with the observations "
                         f"{lag:g} min earlier" + (" -- close to the lead, so it mostly echoes the last observed value."
                                                   if echo else " -- well short of the lead, so it is not just a "
                                                   "delayed copy of the last observation."))
    return lines, flags


def flat_rows(results: list[RungResult]) -> list[dict]:
    """The ladder as flat records (one per rung, or per rung and lead): for tables and artifacts."""
    rows = []
    for r in results:
        base = {"rung": r.name, "kind": r.kind, "train_seconds": round(r.seconds, 3)}
        if r.skipped:
            rows.append({**base, "skipped": r.skipped})
        elif r.task == "segmentation":
            rows.append({**base, **{c: r.scores.get(c) for c in MASK_COLUMNS}, "threshold": r.threshold})
        else:
            rows += [{**base, "lead_minutes": lead, **{c: s.get(c) for c in LEAD_COLUMNS}}
                     for lead, s in r.scores.items()]
    return rows


def mask_table(results: list[RungResult]) -> str:
    head = ["rung", "Dice", "Tversky", "IoU", "POD", "FAR", "CSI", "accuracy", "threshold", "train s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.skipped:
            rows.append(f"| {r.name} | skipped: {r.skipped} |" + " |" * (len(head) - 2))
            continue
        vals = [_fmt(r.scores.get(c)) for c in MASK_COLUMNS] + [_fmt(r.threshold, 2), f"{r.seconds:.1f}"]
        rows.append(f"| {r.name} | " + " | ".join(vals) + " |")
    return "\n".join(rows)


def forecast_table(results: list[RungResult]) -> str:
    head = ["rung", "lead (min)", "RMSE (nT)", "MAE (nT)", "R2", "skill vs persistence", "RMSE storm (nT)",
            "lag (min)", "train s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.skipped:
            rows.append(f"| {r.name} | skipped: {r.skipped} |" + " |" * (len(head) - 2))
            continue
        for lead, s in r.scores.items():
            vals = [_fmt(s["rmse"], 2), _fmt(s["mae"], 2), _fmt(s["r2"]), _fmt(s["skill"]),
                    _fmt(s.get("rmse_storm"), 2), _fmt(s.get("lag_minutes"), 0), f"{r.seconds:.1f}"]
            rows.append(f"| {r.name} | {lead} | " + " | ".join(vals) + " |")
    return "\n".join(rows)


def storm_table(results: list[RungResult], storms: dict) -> str:
    """Per test storm and lead: each rung's RMSE and its ratio to persistence's."""
    ran = [r for r in _ran(results) if r.by_storm]
    head = ["storm", "min (nT)", "lead (min)"] + [r.name for r in ran]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    pers = next((r for r in ran if r.kind == "persistence"), None)
    for name, info in storms.items():
        for lead in (pers.by_storm.get(name, {}) if pers else {}):
            p = pers.by_storm[name][lead]["rmse"]
            cells = [f"{_fmt(r.by_storm[name][lead]['rmse'], 2)} ({_fmt(r.by_storm[name][lead]['rmse'] / p, 2)})"
                     for r in ran]
            rows.append(f"| {name} | {_fmt(info['min'], 0)} | {lead} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def storm_verdict(results: list[RungResult], storms: dict, ratio: float = 0.8) -> tuple[list[str], dict]:
    """Per test storm and lead: is the top rung at most ``ratio`` of persistence's RMSE and below
    every other rung?  Pooled is the whole test split (see :func:`forecast_verdict`)."""
    ran = [r for r in _ran(results) if r.by_storm]
    if not ran:
        return [], {}
    top = ran[-1]
    pers = next((r for r in ran if r.kind == "persistence"), None)
    lines, flags = [], {}
    for name in storms:
        for lead, s in top.by_storm.get(name, {}).items():
            p = pers.by_storm[name][lead]["rmse"] if pers else float("nan")
            others = {r.kind: r.by_storm[name][lead]["rmse"] for r in ran[:-1] if r is not pers}
            beaten = [k for k, v in others.items() if not s["rmse"] < v]
            flags.setdefault(name, {})[str(lead)] = {
                "ratio_to_persistence": s["rmse"] / p if p else float("nan"),
                "beats_every_rung_below": not beaten, "lag_minutes": s.get("lag_minutes")}
            lines.append(f"Storm {name} at {lead} min: the {top.name} RMSE {_fmt(s['rmse'], 2)} nT is "
                         f"{_fmt(s['rmse'] / p, 2)} of persistence's ({_fmt(p, 2)} nT; "
                         f"{'within' if s['rmse'] <= ratio * p else 'NOT within'} {ratio:g})"
                         + ("; it beats every rung below it." if not beaten else
                            f"; it does NOT beat {', '.join(beaten)}."))
    return lines, {"per_storm": flags}
