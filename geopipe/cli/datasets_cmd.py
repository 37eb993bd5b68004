"""``geopipe patches`` and ``geopipe windows``: training datasets split by time blocks."""

from __future__ import annotations

from geopipe.cli.common import csv_list, emit, store_vars
from geopipe.datasets.defaults import PATCHES, WINDOWS
from geopipe.parsing import driver_store
from geopipe.errors import ParameterError


def register(sub) -> None:
    p = sub.add_parser("patches", help="balanced image patches from grid stores and a label store")
    p.add_argument("--inputs", nargs="+", action="extend", required=True, metavar="STORE:VAR[,VAR...]",
                   help="input stores and their variables (channels, in this order); repeatable")
    p.add_argument("--labels", required=True, help="label store with a mask (time, latitude, longitude)")
    p.add_argument("--out", required=True, help="patch dataset to write (replaced whole)")
    p.add_argument("--size", type=int, default=PATCHES.size, help="patch side in grid points (default %(default)s)")
    p.add_argument("--neg-ratio", type=float, default=PATCHES.neg_ratio,
                   help="negative patches per positive, per split (default %(default)s)")
    p.add_argument("--split", dest="splits", default=None,
                   help="time blocks START/END:NAME,... (default 2017-2018 train, 2019H1 val, 2019H2 test)")
    p.add_argument("--gap", default=PATCHES.gap, help="minimum time between split blocks (default %(default)s)")
    p.add_argument("--seed", type=int, default=PATCHES.seed)
    p.add_argument("--pos-threshold", type=float, default=PATCHES.pos_threshold,
                   help="label fraction of a positive patch (default %(default)s)")
    p.add_argument("--stride", type=int, default=None, help="candidate spacing in grid points (default size/4)")
    p.add_argument("--label-var", default=PATCHES.label_var)
    p.add_argument("--label-class", type=int, default=None, help="count only this mask value as positive")
    p.add_argument("--chunk", type=int, default=None, help="samples per chunk (default: the catalog's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_patches)

    w = sub.add_parser("windows", help="forecast windows of a 1-minute index, split by whole storms")
    w.add_argument("--store", required=True, help="ISGI store (dim time)")
    w.add_argument("--var", default=WINDOWS.var, help="target variable (first channel)")
    w.add_argument("--extra", default=None, help="more variables of the same store as channels, e.g. asy_h")
    w.add_argument("--drivers", nargs="+", action="extend", default=None, metavar="STORE[:VAR,...]",
                   help="solar-wind driver stores (e.g. omni.zarr, or omni.zarr:bz_gsm,speed); "
                        "mask channels and a bounded forward fill cover their gaps")
    w.add_argument("--cadence", default=None, help="average every channel to this cadence first (e.g. 5min)")
    w.add_argument("--fill-minutes", type=int, default=60, help="longest driver gap forward-filled (default 60)")
    w.add_argument("--history", type=int, default=WINDOWS.history, help="history steps (default %(default)s)")
    w.add_argument("--horizon", type=int, default=WINDOWS.horizon, help="forecast steps (default %(default)s)")
    w.add_argument("--leads", default=None, help="only these leads, minutes (e.g. 10,30,60)")
    w.add_argument("--stride", type=int, default=WINDOWS.stride, help="steps between issue times (default %(default)s)")
    w.add_argument("--out", required=True, help="window dataset to write (replaced whole)")
    w.add_argument("--split", dest="splits", default=None, help="time blocks START/END:NAME,... (default: by storms 60/20/20)")
    w.add_argument("--fractions", default=",".join(map(str, WINDOWS.fractions)),
                   help="share of storms in train,val,test (default %(default)s)")
    w.add_argument("--gap", default=WINDOWS.gap, help="minimum time between split blocks (default %(default)s)")
    w.add_argument("--storms", default=None, help="storm store or CSV (default: detected in the target)")
    w.add_argument("--quiet-ratio", type=float, default=WINDOWS.quiet_ratio,
                   help="quiet windows per storm window, per split (default %(default)s)")
    w.add_argument("--seed", type=int, default=WINDOWS.seed)
    w.add_argument("--chunk", type=int, default=None, help="samples per chunk (default: the catalog's)")
    w.add_argument("--json", action="store_true")
    w.set_defaults(func=cmd_windows)


def _chunk(args) -> dict:
    return {"chunk": args.chunk} if args.chunk else {}


def _balance_text(s: dict, a: str, b: str) -> str:
    text = "; ".join(f"{k} {v[a]} {a} / {v[b]} {b}" for k, v in s["by_split"].items())
    return text + (f"; WARNING: no sample in {', '.join(s['empty_splits'])}" if s["empty_splits"] else "")


def cmd_patches(args) -> int:
    from geopipe.datasets.patches import build_patches

    s = build_patches([store_vars(v, "inputs") for v in args.inputs], args.labels, args.out, size=args.size,
                      neg_ratio=args.neg_ratio, splits=args.splits or PATCHES.splits, seed=args.seed,
                      pos_threshold=args.pos_threshold, gap=args.gap, stride=args.stride,
                      label_var=args.label_var, label_class=args.label_class, **_chunk(args))
    emit(s, as_json=args.json, text=f"{s['store']}: {s['samples']} patches ({_balance_text(s, 'positive', 'negative')})")
    return 0


def cmd_windows(args) -> int:
    from geopipe.datasets.windows import build_windows

    try:
        fractions = tuple(float(f) for f in csv_list(args.fractions))
        leads = [float(v) for v in csv_list(args.leads)] if args.leads else None
    except ValueError:
        raise ParameterError(("fractions", "leads"), "expect comma-separated numbers") from None
    s = build_windows(args.store, args.out, var=args.var, extra=csv_list(args.extra) or (),
                      drivers=[driver_store(v) for v in args.drivers or []], history=args.history,
                      horizon=args.horizon, stride=args.stride, leads=leads, splits=args.splits,
                      fractions=fractions, gap=args.gap, quiet_ratio=args.quiet_ratio, seed=args.seed,
                      storms=args.storms, **_chunk(args), cadence=args.cadence, fill_minutes=args.fill_minutes)
    emit(s, as_json=args.json, text=f"{s['store']}: {s['samples']} windows from {s['storms']} storms "
                                     f"({_balance_text(s, 'storm', 'quiet')}); dropped: "
                                     + ", ".join(f"{k} {v}" for k, v in s["dropped"].items() if k != "candidates"))
    return 0
