"""``geopipe train KIND (--patches P | --windows W) --out DIR``: one rung of the model ladder, or all.

Segmentation (``--patches``): zero, climatology, threshold, logreg, mlp, unet.
Forecast (``--windows``): persistence, ar, burton, mlp, lstm.
``ladder`` trains every rung of the task into ``DIR/<kind>`` plus a combined report in ``DIR``.
The training options are generated from the parameter dataclasses
(:mod:`geopipe.training.params`): a new parameter there is a new option here.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing

from geopipe.cli.common import emit
from geopipe.errors import GeopipeError, ParameterError
from geopipe.training.params import FORECAST_LADDER, PARAMS, SEGMENTATION_LADDER

_GROUPS = {"segmentation": "segmentation (U-Net and its ladder)", "forecast": "forecast (LSTM and its ladder)"}


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not comma-separated whole numbers") from None


def _cli_fields() -> dict[str, dict]:
    """Parameter name -> {field, type, tasks, defaults} over both dataclasses, in declaration order."""
    out: dict[str, dict] = {}
    for task, cls in PARAMS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.metadata.get("cli", True):
                continue
            entry = out.setdefault(f.name, {"field": f, "type": hints[f.name], "tasks": [], "defaults": {}})
            entry["tasks"].append(task)
            entry["defaults"][task] = f.default
    return out


def _scalar(tp):
    """``float | None`` -> ``float``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _add_option(group, name: str, entry: dict) -> None:
    meta, tp = entry["field"].metadata, _scalar(entry["type"])
    defaults = entry["defaults"]
    text = {t: "none" if v is None else ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
            for t, v in defaults.items()}
    shown = next(iter(text.values())) if len(set(text.values())) == 1 else "; ".join(f"{t} {v}" for t, v in text.items())
    flag = "--" + name.replace("_", "-")
    if tp is bool:  # default True: --no-NAME turns it off; default False: --NAME turns it on
        on = next(iter(defaults.values()))
        group.add_argument(f"--no-{name.replace('_', '-')}" if on else flag, dest=name, action="store_const",
                           const=not on, default=None,
                           help=meta["help"] + (" (on by default: this turns it off)" if on else ""))
        return
    kind = _int_tuple if tp is tuple else tp
    group.add_argument(flag, dest=name, type=kind, choices=meta.get("choices"), default=None,
                       help=f"{meta['help']} (default {shown})")


def register(sub) -> None:
    kinds = list(dict.fromkeys([*SEGMENTATION_LADDER, *FORECAST_LADDER, "ladder"]))
    p = sub.add_parser("train", help="train a model of the ladder (or all of it) on a patch or window store",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=kinds, help="the rung to train (the report always includes the rungs below it)")
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--patches", help="patch store (segmentation)")
    data.add_argument("--windows", help="window store (forecast)")
    p.add_argument("--out", required=True, help="model folder to write (for 'ladder': the root of the folders)")
    groups = {"both": p.add_argument_group("training"), **{t: p.add_argument_group(g) for t, g in _GROUPS.items()}}
    for name, entry in _cli_fields().items():
        _add_option(groups["both" if len(entry["tasks"]) > 1 else entry["tasks"][0]], name, entry)
    p.add_argument("--json", action="store_true", help="print metrics.json instead of the verdict")
    p.set_defaults(func=cmd_train)


def _params(args, task: str) -> dict:
    params = {}
    for name, entry in _cli_fields().items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if task not in entry["tasks"]:
            raise ParameterError(name, f"applies to {entry['tasks'][0]} models only")
        params[name] = value
    return params


def cmd_train(args) -> int:
    from geopipe import training

    task = "segmentation" if args.patches else "forecast"
    ladder = SEGMENTATION_LADDER if task == "segmentation" else FORECAST_LADDER
    if args.kind != "ladder" and args.kind not in ladder:
        flag = "--windows" if task == "segmentation" else "--patches"
        raise GeopipeError(f"{args.kind} is a {'forecast' if task == 'segmentation' else 'segmentation'} model: "
                           f"give {flag}")
    params = _params(args, task)
    source = args.patches or args.windows
    if task == "segmentation":
        metrics = (training.train_ladder_segmentation(source, args.out, **params) if args.kind == "ladder"
                   else training.train_segmentation(source, args.out, kind=args.kind, **params))
    else:
        metrics = (training.train_ladder_forecast(source, args.out, **params) if args.kind == "ladder"
                   else training.train_forecast(source, args.out, kind=args.kind, **params))
    text = "\n".join([f"{k}: {v}" for k, v in metrics["folders"].items()] + metrics["verdict"])
    emit(metrics, as_json=args.json, text=text)
    return 0
