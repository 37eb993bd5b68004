"""``geopipe predict --model DIR --store STORE --out PRED``: segmentation maps or index forecasts."""

from __future__ import annotations

from geopipe.cli.common import emit


def register(sub) -> None:
    p = sub.add_parser("predict", help="run a model folder over a store into a prediction store",
                       description="Segmentation models (config task=segmentation) write probability and mask "
                                   "on the input's grid; forecast models (task=forecast) write forecast, observed "
                                   "and persistence with dims (time=issue time, lead=minutes).  Times already in "
                                   "--out are skipped.")
    p.add_argument("--model", required=True, help="model folder (model.keras, config.json, normalization.json)")
    p.add_argument("--store", required=True, help="input store: a grid store, or the ISGI index store")
    p.add_argument("--out", required=True, help="prediction store to create or extend")
    p.add_argument("--drivers", help="solar-wind driver store (e.g. omni.zarr) for a forecast model trained with drivers")
    p.add_argument("--times", help="START/END (ISO 8601, both included), e.g. 2011-01-10T00/2011-01-12T18")
    p.add_argument("--threshold", type=float, help="probability -> mask (default: config threshold, else 0.7)")
    p.add_argument("--time-block", type=int, help="times per model call (default: the input's time chunk, memory-capped)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args) -> int:
    from geopipe.predict import predict

    extra = {"time_block": args.time_block} if args.time_block else {}
    if args.drivers:
        extra["drivers"] = args.drivers
    summary = predict(args.model, args.store, args.out, times=args.times, threshold=args.threshold, **extra)
    emit(summary, as_json=args.json,
         text=None if args.json else f"{summary['store']}: wrote {summary['written']} times, "
                                     f"{summary['skipped']} already there ({summary['seconds']} s)"
                                     + "".join(f"; no forecast at {n} issue times ({why.replace('_', ' ')})"
                                               for why, n in (summary.get("no_forecast") or {}).items() if n)
                                     + (f"; {summary['driver_filled']} forecasts with a driver filled past a gap"
                                        if summary.get("driver_filled") else ""))
    return 0
