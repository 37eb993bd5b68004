"""Run a geopipe flow with its heavy work on a SLURM cluster through dask-jobqueue.

    pip install dask-jobqueue
    python deploy/slurm/dask_jobqueue_cluster.py --jobs 8 -- cyclone-pipeline --config deploy/configs/cyclone.yaml

Each SLURM job is one Dask worker process; the flow connects to the cluster's scheduler
(``--dask-address``), so Zarr chunks are written by the workers directly (each task owns whole
chunks).  Put GEOPIPE_ROOT on a shared filesystem (Lustre/GPFS) or on s3://.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--queue", default="compute")
    p.add_argument("--account", default=None)
    p.add_argument("--cores", type=int, default=8)
    p.add_argument("--memory", default="32GB")
    p.add_argument("--walltime", default="02:00:00")
    p.add_argument("pipeline", nargs=argparse.REMAINDER, help="geopipe run arguments after --")
    args = p.parse_args()
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(queue=args.queue, account=args.account, cores=args.cores, processes=args.cores // 2,
                           memory=args.memory, walltime=args.walltime,
                           job_extra_directives=["--exclusive"], local_directory="$TMPDIR")
    cluster.scale(jobs=args.jobs)
    try:
        cmd = ["geopipe", "run", *[a for a in args.pipeline if a != "--"], "--dask-address", cluster.scheduler_address]
        return subprocess.call(cmd)
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
