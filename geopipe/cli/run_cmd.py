"""``geopipe run cyclone-pipeline|symh-pipeline --config FILE [--dask-address ADDR]``."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("run", help="run a pipeline flow locally from a YAML config")
    p.add_argument("pipeline", choices=["cyclone-pipeline", "symh-pipeline"])
    p.add_argument("--config", required=True, help="YAML file with the pipeline's parameters")
    p.add_argument("--dask-address", help="Dask scheduler address, or 'local' for a LocalCluster")
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from flows.pipelines import cyclone_pipeline, load_config, symh_pipeline

    kind = "cyclone" if args.pipeline == "cyclone-pipeline" else "symh"
    config = load_config(args.config, kind)
    if args.dask_address:
        config = config.model_copy(update={"dask_address": args.dask_address})
    result = (cyclone_pipeline if kind == "cyclone" else symh_pipeline)(config)
    print(json.dumps(result.get("stores", result), indent=1, default=str))
    return 0
