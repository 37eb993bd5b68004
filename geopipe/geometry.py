"""Great-circle geometry on the sphere and on regular latitude/longitude grids.

Angles are degrees, distances great-circle degrees or km.  Grids are regular in each axis;
latitude may run either way (GFS files run 90 -> -90), longitude 0..360 or -180..180.
Everything broadcasts, so a call can measure from ``k`` storms to ``ny x nx`` pixels at once.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
OMEGA = 7.2921159e-5  # Earth's rotation rate, rad s-1
KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


def wrap180(lon):
    """Longitude in [-180, 180)."""
    return (np.asarray(lon, dtype="f8") + 180.0) % 360.0 - 180.0


def distance_deg(lat1, lon1, lat2, lon2):
    """Great-circle distance in degrees (haversine: exact near 0, the distances that matter)."""
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dlat = p2 - p1
    dlon = np.deg2rad(np.asarray(lon2, dtype="f8") - lon1)
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.rad2deg(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def distance_km(lat1, lon1, lat2, lon2):
    return distance_deg(lat1, lon1, lat2, lon2) * KM_PER_DEG


def destination(lat, lon, bearing, dist):
    """Point ``dist`` great-circle degrees from (lat, lon) along ``bearing`` (degrees from north)."""
    p1, l1 = np.deg2rad(lat), np.deg2rad(lon)
    b, d = np.deg2rad(bearing), np.deg2rad(dist)
    p2 = np.arcsin(np.clip(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b), -1.0, 1.0))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.rad2deg(p2), wrap180(np.rad2deg(l2))


def coriolis(lat):
    """Coriolis parameter f = 2 Omega sin(lat), s-1."""
    return 2.0 * OMEGA * np.sin(np.deg2rad(lat))


class Grid:
    """A regular latitude/longitude grid: fractional indices of points, distances to all pixels.

    ``lat`` (ny,) and ``lon`` (nx,) are the grid's coordinate values in degrees.
    """

    def __init__(self, lat, lon):
        self.lat = np.asarray(lat, dtype="f8")
        self.lon = np.asarray(lon, dtype="f8")
        self.ny, self.nx = self.lat.size, self.lon.size
        self.dlat = float(self.lat[1] - self.lat[0]) if self.ny > 1 else 1.0
        self.dlon = float(self.lon[1] - self.lon[0]) if self.nx > 1 else 1.0
        for name, axis, step in (("latitude", self.lat, self.dlat), ("longitude", self.lon, self.dlon)):
            if axis.size > 1 and not np.allclose(np.diff(axis), step, atol=1e-6 * max(1.0, abs(step))):
                raise ValueError(f"the {name} axis is not regular (steps {np.unique(np.round(np.diff(axis), 6))[:4]})")
        if self.dlon <= 0:
            raise ValueError("longitude must increase along the grid")
        #: the grid closes on itself in longitude (wrap around instead of clipping)
        self.periodic = abs(self.nx * self.dlon - 360.0) < 1e-6 * 360

    def row(self, lat):
        """Fractional row index of latitude(s), clipped to the grid."""
        f = (np.asarray(lat, dtype="f8") - self.lat[0]) / self.dlat
        return np.clip(f, 0, self.ny - 1)

    def col(self, lon):
        """Fractional column index of longitude(s); on a periodic grid in [0, nx)."""
        f = ((np.asarray(lon, dtype="f8") - self.lon[0]) % 360.0) / self.dlon
        if self.periodic:
            return f % self.nx
        # a regional grid: a point west of the first column is at a negative index
        return np.where(f > (self.nx - 1 + 360.0 / self.dlon) / 2, f - 360.0 / self.dlon, f)

    def sample(self, field, lat, lon):
        """Bilinear values of ``field`` (ny, nx) at points of any shape; wraps in longitude on
        periodic grids, clamps at the edges of regional ones."""
        fr, fc = self.row(lat), self.col(lon)
        r0 = np.clip(np.floor(fr).astype(int), 0, max(self.ny - 2, 0))
        wr = np.clip(fr - r0, 0.0, 1.0)
        if self.periodic:
            c0 = np.floor(fc).astype(int) % self.nx
            wc = fc - np.floor(fc)
            c1 = (c0 + 1) % self.nx
        else:
            fc = np.clip(fc, 0, self.nx - 1)
            c0 = np.clip(np.floor(fc).astype(int), 0, max(self.nx - 2, 0))
            wc = np.clip(fc - c0, 0.0, 1.0)
            c1 = np.minimum(c0 + 1, self.nx - 1)
        r1 = np.minimum(r0 + 1, self.ny - 1)
        top = field[r0, c0] * (1 - wc) + field[r0, c1] * wc
        bottom = field[r1, c0] * (1 - wc) + field[r1, c1] * wc
        return top * (1 - wr) + bottom * wr

    def cos_distance(self, lat, lon, rows=slice(None)):
        """cos(great-circle distance) from points (k,) to the pixels (k, ny', nx) of ``rows``.

        Separable in latitude and longitude, so it costs one multiply-add per pixel.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype="f8"))
        lon = np.atleast_1d(np.asarray(lon, dtype="f8"))
        glat = np.deg2rad(self.lat[rows])
        p = np.deg2rad(lat)
        cos_dlon = np.cos(np.deg2rad(self.lon[None, :] - lon[:, None]))  # (k, nx)
        return (np.sin(p)[:, None, None] * np.sin(glat)[None, :, None]
                + np.cos(p)[:, None, None] * np.cos(glat)[None, :, None] * cos_dlon[:, None, :])

    def rays(self, lat, lon, radius, n_dir=16, n_r=None, centre=True):
        """Points on ``n_dir`` great-circle rays from each of ``k`` points out to ``radius`` degrees.

        Returns (lat, lon), each (k, n_dir, n_r): radii evenly spaced at about half a grid step,
        so the rays see every pixel they cross.
        """
        if n_r is None:
            n_r = max(2, int(np.ceil(radius / (0.5 * min(abs(self.dlat), self.dlon)))))
        radii = np.linspace(0.0 if centre else radius / n_r, radius, n_r)
        bearings = np.arange(n_dir) * 360.0 / n_dir
        lat = np.asarray(lat, dtype="f8")[:, None, None]
        lon = np.asarray(lon, dtype="f8")[:, None, None]
        return destination(lat, lon, bearings[None, :, None], radii[None, None, :])
