"""``geopipe demo [--json]``: both pipelines end to end on the bundled sample archive, offline."""

from __future__ import annotations

import json
import os


def register(sub) -> None:
    p = sub.add_parser("demo", help="run both pipelines end to end on the bundled sample archive (offline)")
    p.add_argument("--json", action="store_true", help="print one JSON object: product -> path, plus metrics")
    p.add_argument("--dask-address", default="local",
                   help="Dask scheduler for the heavy work ('local': a LocalCluster; 'none': threads)")
    p.set_defaults(func=cmd_demo)


def _summary(result: dict) -> str:
    import xarray as xr

    lines = [f"geopipe demo: data root {result['root']}", "", "STORES"]
    for key, path in result["products"].items():
        if key in ("maps", "archive") or not str(path).endswith(".zarr"):
            continue
        try:
            ds = xr.open_zarr(path, consolidated=False)
            dims = ", ".join(f"{d}={n}" for d, n in ds.sizes.items())
            lines.append(f"  {key:<17} {path}  ({dims}; {', '.join(list(ds.data_vars)[:6])})")
        except Exception as exc:  # a store that fails to open is reported, not hidden
            lines.append(f"  {key:<17} {path}  (does not open: {exc})")
    for key in ("unet_model", "lstm_model", "lstm_drivers_model", "unet_era5_model"):
        if key in result["products"]:
            lines.append(f"  {key:<17} {result['products'][key]}")
    lines += ["", "METRICS"]
    for name in ("cyclones", "symh", "symh_drivers", "era5"):
        m = result["metrics"].get(name) or {}
        report = m.get("report")
        if report and os.path.exists(report):
            lines.append(f"--- {name}: {report}")
            lines.append(open(report).read().strip())
    skill = result["metrics"].get("heuristic_skill")
    if skill:
        lines.append(f"--- heuristic detector against IBTrACS: {json.dumps(skill)}")
    lines += ["", "MAPS"] + [f"  {p}" for p in result["products"].get("maps", [])]
    lines += ["", "TIMINGS " + json.dumps(result["timings"])]
    return "\n".join(lines)


def cmd_demo(args) -> int:
    from flows.demo import run_demo

    address = None if args.dask_address in ("none", "") else args.dask_address
    result = run_demo(dask_address=address)
    if args.json:
        out = {k: v for k, v in result["products"].items()}
        out["metrics"] = result["metrics"]
        out["timings"] = result["timings"]
        print(json.dumps(out, default=str))
    else:
        print(_summary(result))
    return 0
