"""The data root's figures over HTTP, read-only, on 127.0.0.1, so the Prefect UI can show them inline.

``geopipe serve`` starts :func:`serve` beside the Prefect server and tells the flows where it
is (``$GEOPIPE_FIGURES_URL``); :func:`markdown_image` then writes a markdown image that points
at ``http://127.0.0.1:PORT/figures/<path under the data root>`` instead of embedding the PNG.
Only GET and HEAD of image files (:data:`SUFFIXES`) under the root are answered: no listings,
no writes, nothing outside the root.  Without a figure server the image is embedded as a
``data:`` URI (the Prefect UI renders both; a URL keeps the artifact small).
"""

from __future__ import annotations

import argparse
import base64
import mimetypes
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

URL_ENV = "GEOPIPE_FIGURES_URL"
PREFIX = "/figures/"
SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
MAX_INLINE = 4_000_000  #: bytes of PNG embedded as a data URI at most


class _Handler(BaseHTTPRequestHandler):
    server: "FigureServer"

    def log_message(self, *args):
        pass

    def _file(self) -> Path | None:
        path = urllib.parse.unquote(self.path.split("?", 1)[0])
        if not path.startswith(PREFIX):
            return None
        target = (self.server.root / path[len(PREFIX):]).resolve()
        if self.server.root not in target.parents or target.suffix.lower() not in SUFFIXES or not target.is_file():
            return None
        return target

    def _answer(self, body: bool) -> None:
        target = self._file()
        if target is None:
            self.send_error(404)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - the http.server API
        self._answer(True)

    def do_HEAD(self):  # noqa: N802
        self._answer(False)


class FigureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root).resolve()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def serve(root, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve ``root``'s figures until interrupted."""
    with FigureServer(root, host, port) as srv:
        srv.serve_forever()


def figure_url(path, root=None, base: str | None = None) -> str | None:
    """The figure server's URL of ``path`` (None without a server or for a path outside the root)."""
    from geopipe.config import data_root

    base = base or os.environ.get(URL_ENV)
    if not base:
        return None
    root = Path(data_root(root)).resolve()
    target = Path(path).resolve()
    if root not in target.parents:
        return None
    return base.rstrip("/") + PREFIX + urllib.parse.quote(str(target.relative_to(root)))


def markdown_image(path, alt: str, root=None) -> str:
    """Markdown showing the image ``path``: from the figure server, else inline as a data URI."""
    url = figure_url(path, root)
    if url is None:
        data = Path(path).read_bytes()
        if len(data) > MAX_INLINE:
            return f"*{alt}*: `{path}` ({len(data)} bytes, too large to embed; run `geopipe serve` to see it)"
        mime = mimetypes.guess_type(str(path))[0] or "image/png"
        url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return f"![{alt}]({url})\n\n`{path}`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geopipe.figures", description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        serve(args.root, args.host, args.port)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
