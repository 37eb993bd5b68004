"""The bundled sample archive.

``REAL`` holds real files copied from public archives (see ``data/SOURCES.md`` for their
origins and licences; keep the Kyoto and GFZ attributions).  ``geopipe.sample.generate``
writes a larger archive in the same real formats from a seed.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE / "data"
NATURAL_EARTH = HERE / "naturalearth"


def real(*parts: str) -> Path:
    """Path of a bundled real sample file, e.g. ``real("gfs", "gfs.t12z.pgrbf120.2p5deg.grib2")``."""
    path = REAL.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"no bundled sample {path}")
    return path
