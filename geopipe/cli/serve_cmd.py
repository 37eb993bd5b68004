"""``geopipe serve``: a Prefect server on 127.0.0.1, the work pools, the deployments and a worker."""

from __future__ import annotations

import os
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("serve", help="start a Prefect server + worker on this machine and register the deployments")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: not exposed)")
    p.add_argument("--port", type=int, default=4200)
    p.add_argument("--home", default=None, help="Prefect home (default: <data root>/prefect)")
    p.add_argument("--pools", default="cpu", help="pools to start process workers for (cpu,gpu)")
    p.add_argument("--no-deploy", action="store_true", help="do not register deploy/prefect.yaml")
    p.add_argument("--figures-port", type=int, default=4201,
                   help="port of the read-only figure server the UI's artifacts show images from (default 4201)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from geopipe.config import data_root
    from geopipe.serve import LocalPrefect

    home = Path(args.home or os.path.join(data_root(), "prefect"))
    prefect = LocalPrefect(home, host=args.host, port=args.port, data_root=data_root())
    print(f"starting the Prefect server on {prefect.url} (home {home}) ...", flush=True)
    prefect.start_server()
    try:
        prefect.create_pools()
        print(f"figures of {data_root()} served read-only on {prefect.start_figures(args.figures_port)}/figures/",
              flush=True)
        if not args.no_deploy:
            prefect.deploy()
            print("registered the deployments of deploy/prefect.yaml", flush=True)
        for pool in [p.strip() for p in args.pools.split(",") if p.strip()]:
            prefect.start_worker(pool)
            print(f"worker for pool {pool!r} started (logs in {prefect.log_dir})", flush=True)
        print(f"Prefect UI: {prefect.url}   (Ctrl-C stops the server and workers)", flush=True)
        while all(p.poll() is None for p in prefect.procs):
            time.sleep(2)
        print("a server or worker process exited; stopping", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        prefect.stop()
