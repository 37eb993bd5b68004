"""Loopback servers that behave like the remote services geopipe fetches from.

:class:`ServiceServer` serves a folder like :class:`geopipe.sample.server.FileServer` (ranges,
ETags, faults) and adds what the real services do:

* ``routes``: a path answered by a function of the query (Kyoto's ``aeasy-cgi``, ISGI's ``ws``
  with its ``user`` token and zip bodies, GFZ's JSON API);
* ``published(path) -> bool``: a file that is not out yet answers 404 (a GFS hour before NOMADS
  has it), so a test can publish files one by one on a simulated clock;
* ``throttle``: the first N requests under a path prefix answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import io
import random
import threading
import urllib.parse
import zipfile

from geopipe.sample.server import FileServer, _Handler, _Server


class _ServiceHandler(_Handler):
    def _serve(self, head: bool) -> None:
        srv = self.server
        parts = urllib.parse.urlsplit(self.path)
        rel = parts.path.lstrip("/")
        for prefix, left in list(srv.throttle.items()):
            if ("/" + rel).startswith(prefix) and left > 0:
                with srv.lock:
                    srv.throttle[prefix] = left - 1
                    srv.requests.append({"method": self.command, "path": "/" + rel, "range": None, "status": 429})
                self._answer(429, b"Too Many Requests", {"Retry-After": str(srv.retry_after)})
                return
        route = srv.routes.get("/" + rel)
        if route is not None:
            query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            status, body, headers = route(query)
            with srv.lock:
                srv.requests.append({"method": self.command, "path": self.path, "range": None, "status": status})
            self._answer(status, b"" if head else body, headers, length=len(body))
            return
        if not srv.published("/" + rel):
            with srv.lock:
                srv.requests.append({"method": self.command, "path": "/" + rel, "range": None, "status": 404})
            self.send_error(404)
            return
        super()._serve(head)

    def _answer(self, status: int, body: bytes, headers: dict | None = None, length: int | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
            self.wfile.write(body)


class ServiceServer(FileServer):
    def __init__(self, folder, routes=None, published=None, throttle=None, retry_after: int = 30, **kw):
        super().__init__(folder, **kw)
        self.routes = dict(routes or {})
        self.published = published or (lambda path: True)
        self.throttle = dict(throttle or {})
        self.retry_after = retry_after

    def __enter__(self) -> "ServiceServer":
        httpd = _Server(("127.0.0.1", 0), _ServiceHandler)
        httpd.folder = self.folder
        httpd.faults = self.faults
        httpd.rng = random.Random(self.seed)
        httpd.lock = threading.Lock()
        httpd.requests = []
        httpd.injected = {"503": 0, "reset": 0, "truncate": 0}
        httpd.bytes_sent = 0
        httpd.routes = self.routes
        httpd.published = self.published
        httpd.throttle = self.throttle
        httpd.retry_after = self.retry_after
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self


def zipped(name: str, data: bytes) -> bytes:
    """``data`` as the one member ``name`` of a zip archive (as ISGI's web service answers)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def isgi_ws(files: dict[str, bytes], token: str):
    """ISGI's ``/ws``: the ``user`` token checked (401 text otherwise, as a refused request), the
    ``index`` looked up in ``files``, the IAGA-2002 answer in a zip."""

    def route(q: dict) -> tuple[int, bytes, dict]:
        if q.get("user") != token:
            return 401, b"Error: unknown user or token\n", {"Content-Type": "text/plain"}
        if q.get("index") not in files or "StartTime" not in q or "EndTime" not in q:
            return 400, b"Error: bad parameters\n", {"Content-Type": "text/plain"}
        name = f"{q['index']}_{q['StartTime']}_{q['EndTime']}.txt"
        return 200, zipped(name, files[q["index"]]), {"Content-Type": "application/zip"}

    return route


def kyoto_cgi(body_for):
    """Kyoto's ``aeasy-cgi``: checks spacepy's parameter set, answers ``body_for(query)`` as text."""
    needed = ("Tens", "Year", "Month", "Day_Tens", "Days", "Hour", "min", "Dur_Day_Tens", "Dur_Day", "Dur_Hour",
              "Dur_Min", "Output", "Out format")

    def route(q: dict) -> tuple[int, bytes, dict]:
        missing = [k for k in needed if k not in q]
        if missing or q.get("Out format") != "IAGA2002" or q.get("Output") != "ASY":
            return 200, f"<html><body>Bad request: {missing}</body></html>".encode(), {"Content-Type": "text/html"}
        return 200, body_for(q), {"Content-Type": "text/plain"}

    return route
