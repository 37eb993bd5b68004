"""Run ``geopipe`` commands as separate processes without paying the start-up each time.

Starting ``geopipe`` costs seconds of imports (xarray, zarr, dask, eccodes, netCDF4...) on
these machines; the reliability tests start dozens of commands.  The launcher is one
process that imports the CLI once and then *forks* a child per command.  Each child is a
real, separate process: its own file descriptors 1 and 2 (redirected to files, so C
libraries writing to fd 2 are caught too), its own exit status, killable with SIGKILL,
and it leaves through ``sys.exit(main())`` -- the console script's exit, interpreter
shutdown included.  Only the imports are shared.  ``tests/reliability/test_bad_inputs.py``
checks that the real ``geopipe`` executable answers like a launcher child.

Protocol (JSON lines on stdin/stdout)::

    {"argv": [...], "stdout": PATH, "stderr": PATH, "env": {...}}  ->  {"pid": PID}
    {"wait": PID, "timeout": SECONDS}          ->  {"pid": PID, "returncode": RC, "seconds": S}

``returncode`` is negative for a signal (as :mod:`subprocess` reports it); a child still
running at its timeout is killed and reported with ``"timed_out": true``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _status(raw: int) -> int:
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def _child(request: dict) -> None:
    """In the forked child: become ``geopipe ARGV`` and exit like the console script."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.environ.update(request.get("env") or {})
    sys.argv = ["geopipe", *request["argv"]]
    from geopipe.cli import main

    sys.exit(main())


def serve() -> None:
    # what every command needs, imported once (nothing here starts a thread or opens a store:
    # a forked child must not inherit a running event loop)
    import geopipe.cli
    import geopipe.ingest
    import geopipe.sources.gfs
    import geopipe.sources.goes
    import geopipe.sources.ibtracs
    import geopipe.sources.isgi
    import geopipe.sources.omni
    import geopipe.store

    geopipe.cli.build_parser()
    started: dict[int, float] = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "argv" in request:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(request)  # never returns
            started[pid] = time.monotonic()
            reply = {"pid": pid}
        else:
            pid, timed_out = int(request["wait"]), False
            deadline = time.monotonic() + float(request.get("timeout", 300))
            while True:
                done, raw = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    _, raw = os.waitpid(pid, 0)
                    timed_out = True
                    break
                time.sleep(0.01)
            reply = {"pid": pid, "returncode": _status(raw), "seconds": time.monotonic() - started.pop(pid),
                     "timed_out": timed_out}
        print(json.dumps(reply), flush=True)


# ----------------------------------------------------------------------------- client


@dataclasses.dataclass
class Result:
    """A finished command: exit status (negative: killed by that signal), its output, wall time."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def stderr_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


@dataclasses.dataclass
class Running:
    pid: int
    argv: list[str]
    stdout: Path
    stderr: Path


class Launcher:
    """Client of one launcher process (a context manager); ``logs`` holds the children's output files."""

    def __init__(self, logs: Path):
        self.logs = Path(logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self._n = 0
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.launcher"], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError("the launcher exited before it was ready")

    def _ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the launcher died")
        return json.loads(line)

    def start(self, argv: list[str], env: dict | None = None) -> Running:
        """Start ``geopipe ARGV`` (argv without the program name)."""
        self._n += 1
        out, err = self.logs / f"{self._n:04d}.out", self.logs / f"{self._n:04d}.err"
        reply = self._ask({"argv": [str(a) for a in argv], "stdout": str(out), "stderr": str(err), "env": env or {}})
        return Running(reply["pid"], [str(a) for a in argv], out, err)

    def wait(self, run: Running, timeout: float = 300) -> Result:
        reply = self._ask({"wait": run.pid, "timeout": timeout})
        return Result(run.argv, reply["returncode"], run.stdout.read_text(errors="replace"),
                      run.stderr.read_text(errors="replace"), reply["seconds"], reply["timed_out"])

    def run(self, argv: list[str], env: dict | None = None, timeout: float = 300) -> Result:
        return self.wait(self.start(argv, env), timeout)

    def run_many(self, argvs: list[list[str]], parallel: int = 3, timeout: float = 300) -> list[Result]:
        """Run independent commands, ``parallel`` at a time; results in the order given."""
        results: list[Result | None] = [None] * len(argvs)
        running: list[tuple[int, Running]] = []
        for i, argv in enumerate(argvs):
            running.append((i, self.start(argv)))
            if len(running) >= parallel:
                j, run = running.pop(0)
                results[j] = self.wait(run, timeout)
        for j, run in running:
            results[j] = self.wait(run, timeout)
        return results

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def __enter__(self) -> Launcher:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    serve()
