"""geopipe.cartopy_data: Cartopy draws coastlines and borders from the bundled Natural Earth files.

Every test here runs with the network cut (``no_network``): any attempt to open a URL or a
socket fails the test, so a map that only works online cannot pass.
"""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import cartopy
import cartopy.io
import cartopy.io.shapereader as shpreader
import numpy as np
import pytest

from geopipe.cartopy_data import use_bundled_natural_earth, user_configured
from geopipe.errors import GeopipeError
from geopipe.sample import NATURAL_EARTH

NE_KEY = ("shapefiles", "natural_earth")


class NetworkUsed(AssertionError):
    pass


@pytest.fixture()
def no_network(monkeypatch):
    """Fail on any URL open or socket connection (Cartopy's downloader uses urllib's urlopen)."""
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(cartopy.io, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def _draw(tmp_path, name: str, coastlines: bool) -> np.ndarray:
    import cartopy.crs as ccrs
    import cartopy.feature as cfeature
    import matplotlib.image
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot(1, 1, 1, projection=ccrs.PlateCarree())
    ax.set_extent([-60, -30, -40, -15], crs=ccrs.PlateCarree())
    if coastlines:
        ax.coastlines("50m", color="black")
        ax.add_feature(cfeature.NaturalEarthFeature("cultural", "admin_0_boundary_lines_land", "50m"),
                       facecolor="none", edgecolor="black")
    path = tmp_path / name
    fig.savefig(path, dpi=80)
    return matplotlib.image.imread(path)


def _dark(img: np.ndarray) -> int:
    """Number of dark (line-coloured) pixels of an RGB(A) image."""
    return int((img[..., :3].max(axis=-1) < 0.35).sum())


def test_without_geopipe_cartopy_would_try_the_network(no_network, monkeypatch, tmp_path):
    """The guard works: an unconfigured Cartopy with an empty cache goes for the network."""
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", tmp_path / "empty")
    monkeypatch.setitem(cartopy.config, "data_dir", tmp_path / "cache")
    monkeypatch.setitem(cartopy.config["downloaders"], NE_KEY, shpreader.NEShpDownloader.default_downloader())
    with pytest.warns(cartopy.io.DownloadWarning), pytest.raises(NetworkUsed):
        shpreader.natural_earth("110m", "physical", "coastline")


def test_bundled_files_draw_coastlines_and_borders_offline(no_network, monkeypatch, tmp_path):
    monkeypatch.delenv("CARTOPY_DATA_DIR", raising=False)
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", Path("."))
    monkeypatch.setitem(cartopy.config, "data_dir", tmp_path / "cache")  # nothing cached to fall back on
    monkeypatch.setitem(cartopy.config["downloaders"], NE_KEY, shpreader.NEShpDownloader.default_downloader())
    assert use_bundled_natural_earth() == NATURAL_EARTH
    for scale in ("110m", "50m"):
        path = Path(shpreader.natural_earth(scale, "physical", "coastline"))
        assert NATURAL_EARTH in path.parents and path.exists()
        assert len(list(shpreader.Reader(path).geometries())) > 100
    with_lines = _draw(tmp_path, "coast.png", coastlines=True)
    blank = _draw(tmp_path, "blank.png", coastlines=False)
    assert _dark(with_lines) > _dark(blank) + 200  # the Brazilian coast and borders are really drawn


def test_a_scale_that_is_not_bundled_fails_clearly_without_downloading(no_network, monkeypatch, tmp_path):
    monkeypatch.delenv("CARTOPY_DATA_DIR", raising=False)
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", Path("."))
    monkeypatch.setitem(cartopy.config, "data_dir", tmp_path / "cache")
    monkeypatch.setitem(cartopy.config["downloaders"], NE_KEY, shpreader.NEShpDownloader.default_downloader())
    use_bundled_natural_earth()
    with pytest.raises(GeopipeError, match="ne_10m_coastline.shp is not bundled"):
        shpreader.natural_earth("10m", "physical", "coastline")


def test_a_users_own_data_folder_is_left_alone(monkeypatch, tmp_path):
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", Path("."))
    monkeypatch.setenv("CARTOPY_DATA_DIR", str(tmp_path))
    assert user_configured() and use_bundled_natural_earth() is None
    assert cartopy.config["pre_existing_data_dir"] == Path(".")
    monkeypatch.delenv("CARTOPY_DATA_DIR")
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", tmp_path)
    assert use_bundled_natural_earth() is None and cartopy.config["pre_existing_data_dir"] == tmp_path
