"""``geopipe train KIND (--patches P | --windows W) --out DIR``: one rung of the model ladder, or all.

Segmentation (``--patches``): zero, climatology, threshold, logreg, mlp, unet.
Forecast (``--windows``): persistence, ar, burton, mlp, lstm.
``ladder`` trains every rung of the task into ``DIR/<kind>`` plus a combined report in ``DIR``.
"""

from __future__ import annotations

from geopipe.cli.common import csv_list, emit
from geopipe.errors import GeopipeError
from geopipe.training.ladder import FORECAST_LADDER, SEGMENTATION_LADDER

#: options that only one task understands (dest name -> task)
_ONLY = {"loss": "segmentation", "depth": "segmentation", "filters": "segmentation", "noise": "segmentation",
         "upsample": "segmentation", "max_pixels": "segmentation", "units": "forecast",
         "residual": "forecast", "max_windows": "forecast", "alpha": "forecast"}
_COMMON = ("epochs", "batch_size", "lr", "optimizer", "clipnorm", "patience", "device", "seed", "dropout", "hidden")


def register(sub) -> None:
    kinds = list(dict.fromkeys([*SEGMENTATION_LADDER, *FORECAST_LADDER, "ladder"]))
    p = sub.add_parser("train", help="train a model of the ladder (or all of it) on a patch or window store",
                       description=__doc__)
    p.add_argument("kind", choices=kinds, help="the rung to train (the report always includes the rungs below it)")
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--patches", help="patch store (segmentation)")
    data.add_argument("--windows", help="window store (forecast)")
    p.add_argument("--out", required=True, help="model folder to write (for 'ladder': the root of the folders)")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--lr", type=float, help="learning rate")
    g.add_argument("--optimizer", choices=["adam", "rmsprop"])
    g.add_argument("--clipnorm", type=float, help="gradient clipping by norm")
    g.add_argument("--patience", type=int, help="epochs without validation improvement before stopping")
    g.add_argument("--device", choices=["cpu", "gpu", "auto"], help="default auto: all GPUs if any")
    g.add_argument("--seed", type=int)
    g.add_argument("--dropout", type=float)
    g.add_argument("--hidden", type=int, help="hidden units of the one-hidden-layer MLP rung")
    s = p.add_argument_group("segmentation (U-Net)")
    s.add_argument("--loss", choices=["bce", "dice", "bce_dice", "tversky", "focal"])
    s.add_argument("--depth", type=int, help="poolings of the U-Net (4-6)")
    s.add_argument("--filters", type=int, help="filters of the first U-Net level")
    s.add_argument("--noise", type=float, help="GaussianNoise stddev on the normalised input")
    s.add_argument("--upsample", choices=["transpose", "bilinear"])
    s.add_argument("--max-pixels", type=int, help="train pixels sampled for the scikit-learn rungs")
    f = p.add_argument_group("forecast (LSTM)")
    f.add_argument("--units", help="LSTM layer sizes, comma-separated (e.g. 64,32)")
    f.add_argument("--no-residual", dest="residual", action="store_const", const=False,
                   help="predict the value itself, not its change from the last observation")
    f.add_argument("--max-windows", type=int, help="train windows for the scikit-learn rungs")
    f.add_argument("--alpha", type=float, help="ridge penalty of the AR rung")
    p.add_argument("--json", action="store_true", help="print metrics.json instead of the verdict")
    p.set_defaults(func=cmd_train)


def _params(args, task: str) -> dict:
    params = {}
    for name in (*_COMMON, *_ONLY):
        value = getattr(args, name, None)
        if value is None:
            continue
        if _ONLY.get(name, task) != task:
            raise GeopipeError(f"--{name.replace('_', '-')} applies to {_ONLY[name]} models only")
        params[name] = tuple(int(u) for u in csv_list(value)) if name == "units" else value
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
