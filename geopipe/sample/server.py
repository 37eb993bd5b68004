"""A loopback HTTP file server (127.0.0.1 only) for the sample archive and the tests.

The demo serves the generated archive with it, laid out like NOAA's and ISGI's servers, so
the same remote code path (``.idx`` byte ranges over fsspec HTTP) reads it.  It serves a folder, honours ``Range: bytes=a-b`` (206 with Content-Range), records every
request, and can inject faults at random, seeded: 503 answers, connection resets and
truncated bodies.  Use it as a context manager::

    with FileServer(folder, faults={"503": 0.2, "reset": 0.1, "truncate": 0.1}, seed=0) as srv:
        url = srv.url + "/gfs.20240926/00/atmos/gfs.t00z.pgrb2.0p25.f000"

``latency`` (seconds added before each answer) and ``bandwidth`` (bytes/s shared by all
connections, as on one network link) make it behave like a server far away.
"""

from __future__ import annotations

import os
import random
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):  # keep test output clean
        pass

    def _fault(self) -> str | None:
        srv = self.server
        with srv.lock:
            r = srv.rng.random()
        acc = 0.0
        for kind in ("503", "reset", "truncate"):
            acc += srv.faults.get(kind, 0.0)
            if r < acc:
                return kind
        return None

    def _serve(self, head: bool) -> None:
        srv = self.server
        rel = self.path.split("?", 1)[0].lstrip("/")
        path = (srv.folder / rel).resolve()
        rng_header = self.headers.get("Range")
        with srv.lock:
            srv.requests.append({"method": self.command, "path": "/" + rel, "range": rng_header})
        if srv.folder not in path.parents and path != srv.folder or not path.is_file():
            self.send_error(404)
            return
        if srv.latency:
            time.sleep(srv.latency)
        fault = None if head else self._fault()
        if fault == "503":
            with srv.lock:
                srv.injected["503"] += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        if fault == "reset":
            with srv.lock:
                srv.injected["reset"] += 1
            # RST instead of FIN: the client sees "connection reset by peer".  rfile holds a
            # reference to the socket: close it first, or close() leaves the connection open
            # (the client would stall until its timeout instead of seeing a reset)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.rfile.close()
            self.connection.close()
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        status = 200
        if rng_header:
            m = _RANGE.fullmatch(rng_header.strip())
            if not m:
                self.send_error(416)
                return
            a, b = m.groups()
            if a == "":
                start, end = max(0, size - int(b)), size - 1
            else:
                start, end = int(a), min(size - 1, int(b) if b else size - 1)
            if start > end or start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", f'"{int(path.stat().st_mtime)}-{size}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        with open(path, "rb") as fh:
            fh.seek(start)
            body = fh.read(length)
        with srv.lock:
            srv.bytes_sent += len(body) if fault != "truncate" else len(body) // 2
        if fault == "truncate":
            with srv.lock:
                srv.injected["truncate"] += 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.connection.close()
            return
        if srv.link is None:
            self.wfile.write(body)
            return
        view = memoryview(body)
        for a in range(0, len(body), _PIECE):
            srv.link.take(min(_PIECE, len(body) - a))
            self.wfile.write(view[a:a + _PIECE])

    def do_GET(self):  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self):  # noqa: N802
        self._serve(head=True)


_PIECE = 64 * 1024


class _Link:
    """A shared bandwidth limit: each piece sent books its time on one clock."""

    def __init__(self, bandwidth: float):
        self.bandwidth = float(bandwidth)
        self.lock = threading.Lock()
        self.free_at = 0.0

    def take(self, nbytes: int) -> None:
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + nbytes / self.bandwidth
            wait = self.free_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: seconds before each answer, and the shared bandwidth limit (:class:`_Link` or None)
    latency = 0.0
    link = None


class FileServer:
    """Serve ``folder`` on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, folder: str | os.PathLike, faults: dict[str, float] | None = None, seed: int = 0,
                 latency: float = 0.0, bandwidth: float | None = None):
        self.folder = Path(folder).resolve()
        self.faults = dict(faults or {})
        self.seed = seed
        self.latency = float(latency)
        self.bandwidth = bandwidth
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "FileServer":
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.folder = self.folder
        httpd.faults = self.faults
        httpd.rng = random.Random(self.seed)
        httpd.lock = threading.Lock()
        httpd.requests = []
        httpd.injected = {"503": 0, "reset": 0, "truncate": 0}
        httpd.bytes_sent = 0
        httpd.latency = self.latency
        httpd.link = _Link(self.bandwidth) if self.bandwidth else None
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[dict]:
        return list(self._httpd.requests)

    @property
    def injected(self) -> dict[str, int]:
        return dict(self._httpd.injected)

    @property
    def bytes_sent(self) -> int:
        return self._httpd.bytes_sent

    def set_faults(self, **faults: float) -> None:
        self._httpd.faults = dict(faults)
