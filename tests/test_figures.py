"""The figure server: the data root's images, read-only, on loopback; markdown images for artifacts."""

from __future__ import annotations

import base64
import threading
import urllib.error
import urllib.request

import pytest

from geopipe import figures
from tests.reliability.corpus import png


@pytest.fixture()
def server(root):
    (root / "maps").mkdir()
    (root / "maps" / "cyclones 2024.png").write_bytes(png())
    (root / "secret.json").write_text("{}")
    srv = figures.FigureServer(root)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _get(url, method="GET"):
    return urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10)


def test_serves_images_under_the_root_and_nothing_else(server, root):
    url = figures.figure_url(root / "maps" / "cyclones 2024.png", base=server.url)
    assert url == f"{server.url}/figures/maps/cyclones%202024.png"
    with _get(url) as r:
        assert r.headers["Content-Type"] == "image/png" and r.read() == png()
    for bad in ("/figures/secret.json", "/figures/../secret.json", "/figures/%2e%2e/%2e%2e/etc/passwd",
                "/maps/cyclones%202024.png", "/figures/maps/"):
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(server.url + bad)
        assert err.value.code == 404, bad
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(url, method="PUT")
    assert err.value.code == 501  # read-only: no method but GET and HEAD


def test_markdown_image_points_at_the_server_or_embeds(root, monkeypatch, tmp_path):
    path = root / "maps" / "m.png"
    path.parent.mkdir()
    path.write_bytes(png())
    monkeypatch.delenv(figures.URL_ENV, raising=False)
    inline = figures.markdown_image(path, "a map")
    assert inline.startswith("![a map](data:image/png;base64,")
    assert base64.b64decode(inline.split("base64,")[1].split(")")[0]) == png()
    monkeypatch.setenv(figures.URL_ENV, "http://127.0.0.1:4201")
    assert figures.markdown_image(path, "a map").startswith("![a map](http://127.0.0.1:4201/figures/maps/m.png)")
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(png())
    assert figures.markdown_image(outside, "x").startswith("![x](data:image/png;base64,")  # not under the root
