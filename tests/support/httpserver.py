"""The loopback file server used by remote-access tests (it lives in geopipe.sample.server)."""

from geopipe.sample.server import FileServer

__all__ = ["FileServer"]
