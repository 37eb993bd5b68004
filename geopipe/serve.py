"""A Prefect server, work pools, deployments and a process worker on one machine.

``geopipe serve`` uses it so a scientist sees the schedules and runs in the Prefect UI; the
end-to-end test uses it to drive a real server and worker.  The server binds to 127.0.0.1
unless told otherwise.  Everything runs as child processes with their own PREFECT_HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from geopipe.errors import GeopipeError

PROJECT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _prefect_bin() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else (shutil.which("prefect") or "prefect")


class LocalPrefect:
    """Start/stop a Prefect server (SQLite under ``home``), create pools, deploy, run workers."""

    def __init__(self, home: str | os.PathLike, host: str = "127.0.0.1", port: int | None = None,
                 data_root: str | None = None, log_dir: str | os.PathLike | None = None):
        self.home = Path(home)
        self.host = host
        self.port = port or free_port(host)
        self.data_root = data_root
        self.log_dir = Path(log_dir or self.home / "logs")
        self.procs: list[subprocess.Popen] = []
        self.figures_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home / 'prefect.db'}",
            "PREFECT_UI_API_URL": self.api_url,
            "PREFECT_LOGGING_EXTRA_LOGGERS": "geopipe",  # geopipe's step logs on the flow-run page
            "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",  # records of Dask workers: no run there
            "GEOPIPE_HOME": str(PROJECT),
            "PYTHONUNBUFFERED": "1",
        })
        if self.data_root:
            env["GEOPIPE_ROOT"] = str(self.data_root)
        if self.figures_url:
            env["GEOPIPE_FIGURES_URL"] = self.figures_url
        env.setdefault("GEOPIPE_ROOT", str(Path("data").resolve()))
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env=self.env(), cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        out = subprocess.run([_prefect_bin(), *args], env=self.env(), cwd=PROJECT, capture_output=True,
                             text=True, timeout=timeout)
        if check and out.returncode:
            raise GeopipeError(f"prefect {' '.join(args)} failed: {(out.stderr or out.stdout).strip()[-500:]}")
        return out.stdout

    def start_server(self, timeout: float = 180) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        proc = self._spawn("server", [_prefect_bin(), "server", "start", "--host", self.host, "--port", str(self.port)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise GeopipeError(f"the Prefect server exited (see {self.log_dir / 'server.log'})")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(1)
        raise GeopipeError(f"the Prefect server did not answer on {self.url} within {timeout:.0f} s")

    def start_figures(self, port: int | None = None) -> str:
        """Serve the data root's figures read-only on this host (see :mod:`geopipe.figures`); returns the URL.

        Start it before the workers: they learn the URL from their environment."""
        port = port or free_port(self.host)
        root = self.env()["GEOPIPE_ROOT"]
        os.makedirs(root, exist_ok=True)
        self._spawn("figures", [sys.executable, "-m", "geopipe.figures", root, "--host", self.host, "--port", str(port)])
        url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/figures/", timeout=2)
            except urllib.error.HTTPError:  # 404 for the bare prefix: it answers
                self.figures_url = url
                return url
            except OSError:
                time.sleep(0.5)
        raise GeopipeError(f"the figure server did not answer on {url} within 60 s")

    def create_pools(self) -> None:
        for pool in ("cpu", "gpu"):
            self.run("work-pool", "create", pool, "--type", "process", "--overwrite")

    def deploy(self, prefect_file: str | os.PathLike = PROJECT / "deploy" / "prefect.yaml") -> str:
        return self.run("--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file), timeout=600)

    def start_worker(self, pool: str = "cpu") -> subprocess.Popen:
        return self._spawn(f"worker-{pool}", [_prefect_bin(), "worker", "start", "--pool", pool, "--type", "process"])

    def api(self, method: str, path: str, body: dict | None = None) -> dict | list:
        req = urllib.request.Request(f"{self.api_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def run_deployment(self, name: str, parameters: dict | None = None) -> str:
        """Create a run of ``flow-name/deployment-name`` now; returns the flow run id."""
        flow_name, dep_name = name.split("/", 1)
        dep = self.api("GET", f"/deployments/name/{flow_name}/{dep_name}")
        run = self.api("POST", f"/deployments/{dep['id']}/create_flow_run", {"parameters": parameters or {}})
        return run["id"]

    def wait_for_run(self, run_id: str, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.api("GET", f"/flow_runs/{run_id}")
            if run["state"] and run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(2)
        raise GeopipeError(f"flow run {run_id} did not finish within {timeout:.0f} s")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def __enter__(self) -> "LocalPrefect":
        self.start_server()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
