"""The generated weather: a zonal-mean background, seeded large-scale noise and planted vortices.

Every field is a function of (latitude, longitude, hour) evaluated point by point, so the GFS
writer samples it on the regular grid and the GOES writer on the ABI pixels of the same
moment.  Only the 850 hPa vorticity needs neighbours: it is the finite-difference curl of the
850 hPa wind on the regular grid (:func:`relative_vorticity`), so ABSV = curl + f is exactly
what a reader would compute back from the winds.

Background (symmetric about the equator, September-like):

* PRMSL: 1012 hPa, subtropical highs +7 hPa at +-30, subpolar lows -14 hPa at +-62, polar
  highs, a weak equatorial trough (Gaussians in latitude);
* wind: the geostrophic wind of that profile, ``u_g = -(1 / rho f a) dP/dphi`` (finite at the
  equator because P is even and f odd, and slowed near it), at 10 m to 70 % and turned
  25 degrees toward low pressure (trade easterlies, mid-latitude westerlies, polar easterlies), at 850 hPa full
  strength plus a westerly jet;
* PWAT: 5 + 45 exp(-((lat - 6) / 22)^2) kg m-2, the moist band a little north of the equator.
"""

from __future__ import annotations

import numpy as np

from geopipe.geometry import coriolis
from geopipe.sample.vortices import A_M, INFLOW_DEG, RHO, Storm, vortex

P_BASE = 101200.0  # Pa
#: (amplitude Pa, centre latitude, width degrees), mirrored about the equator
P_BANDS = ((700.0, 30.0, 12.0), (-1400.0, 62.0, 10.0), (600.0, 90.0, 10.0), (-150.0, 0.0, 8.0))
SURFACE_FRACTION, CROSS_ISOBAR_DEG = 0.7, 25.0
EQUATOR_SLOWDOWN = 0.7  # the doldrums: geostrophy overstates the wind where f -> 0
WIND_850 = {"tropical": 0.9, "extratropical": 1.15}  # warm cores weaken with height, cold cores strengthen


def prmsl_zonal(lat) -> np.ndarray:
    """Zonal-mean mean-sea-level pressure (Pa) at ``lat`` (degrees)."""
    lat = np.asarray(lat, dtype="f8")
    out = np.full_like(lat, P_BASE)
    for amp, c, w in P_BANDS:
        out += amp * (np.exp(-0.5 * ((lat - c) / w) ** 2) + np.exp(-0.5 * ((lat + c) / w) ** 2))
    return out


def geostrophic_u(lat) -> np.ndarray:
    """Zonal geostrophic wind (m/s) of :func:`prmsl_zonal`; even in latitude, finite at the equator."""
    lat = np.asarray(lat, dtype="f8")
    phi = np.where(np.abs(lat) < 1.0, 1.0, np.abs(lat))  # u_g is even: evaluate the northern side
    dpdphi = np.zeros_like(phi)
    for amp, c, w in P_BANDS:
        for centre in (c, -c):
            dpdphi += amp * -(phi - centre) / w**2 * np.exp(-0.5 * ((phi - centre) / w) ** 2)
    return -np.rad2deg(dpdphi) / (RHO * A_M * coriolis(phi))


def pwat_zonal(lat) -> np.ndarray:
    """Zonal-mean precipitable water (kg m-2)."""
    return 5.0 + 45.0 * np.exp(-(((np.asarray(lat, dtype="f8") - 6.0) / 22.0) ** 2))


class Modes:
    """A few seeded travelling Fourier modes: ``sum A cos(m (lon - c t) + p) cos(n lat + q) cos(lat)``.

    ``amp`` (lo, hi) in the field's units, zonal wavenumbers ``m`` and meridional ``n`` drawn
    from the given ranges, eastward drift ``c`` 3-10 degrees a day.
    """

    def __init__(self, rng: np.random.Generator, k: int, amp, m, n):
        self.amp = rng.uniform(*amp, size=k)
        self.m = rng.integers(m[0], m[1] + 1, size=k)
        self.n = rng.integers(n[0], n[1] + 1, size=k)
        self.c = np.deg2rad(rng.uniform(3.0, 10.0, size=k)) / 24.0  # rad per hour
        self.p, self.q = rng.uniform(0, 2 * np.pi, size=k), rng.uniform(0, 2 * np.pi, size=k)

    def __call__(self, lat, lon, hour: float) -> np.ndarray:
        phi, lam = np.deg2rad(lat), np.deg2rad(lon)
        out = 0.0
        for a, m, n, c, p, q in zip(self.amp, self.m, self.n, self.c, self.p, self.q):
            out = out + a * np.cos(m * (lam - c * hour) + p) * np.cos(n * phi + q) * np.cos(phi)
        return out


class Weather:
    """The generated atmosphere: call :meth:`at` for point fields, :meth:`on_grid` for GFS fields."""

    def __init__(self, rng: np.random.Generator, storms: list[Storm]):
        self.storms = storms
        self.noise = {"prmsl": Modes(rng, 5, (60.0, 140.0), (1, 5), (1, 4)),
                      "pwat": Modes(rng, 6, (0.06, 0.14), (2, 8), (2, 6)),
                      "u": Modes(rng, 4, (0.5, 1.5), (1, 6), (1, 5)),
                      "v": Modes(rng, 4, (0.5, 1.5), (1, 6), (1, 5)),
                      "cloud": Modes(rng, 8, (0.1, 0.25), (8, 24), (6, 18))}

    def at(self, lat, lon, hour: float) -> dict[str, np.ndarray]:
        """Point fields at ``lat``/``lon`` (degrees, broadcastable; result shape the broadcast shape).

        Keys: ``prmsl`` (Pa), ``pwat`` (kg m-2), ``u10``/``v10``/``u850``/``v850`` (m/s) and
        ``cloud`` (0..1, deep cloud cover: scattered, and the storms' cores; for the satellite scenes).
        Zonal and noise terms are computed on the unbroadcast axes (cheap for a grid's
        ``lat[:, None]``, ``lon[None, :]``); vortices only within 6 radii of their centres.
        """
        lat, lon = np.asarray(lat, dtype="f8"), np.asarray(lon, dtype="f8")
        shape = np.broadcast_shapes(lat.shape, lon.shape)
        ug = geostrophic_u(lat) * (1.0 - EQUATOR_SLOWDOWN * np.exp(-((lat / 10.0) ** 2)))
        turn = np.deg2rad(CROSS_ISOBAR_DEG)
        nu, nv = self.noise["u"](lat, lon, hour), self.noise["v"](lat, lon, hour)
        out = {
            "prmsl": prmsl_zonal(lat) + self.noise["prmsl"](lat, lon, hour),
            "pwat": pwat_zonal(lat) * (1.0 + self.noise["pwat"](lat, lon, hour)),
            "u10": SURFACE_FRACTION * ug * np.cos(turn) + nu,
            "v10": SURFACE_FRACTION * ug * np.sin(turn) * np.sign(lat) + nv,
            "u850": ug + 8.0 * np.exp(-0.5 * ((np.abs(lat) - 45.0) / 10.0) ** 2) + 1.3 * nu,
            "v850": 1.3 * nv,
        }
        # scattered cloud where the small-scale modes peak, more of it in moist air
        texture = self.noise["cloud"](lat, lon, hour)
        out["cloud"] = np.clip(1.5 * (texture - 0.1), 0.0, 0.8) * np.clip((out["pwat"] - 5.0) / 30.0, 0.0, 1.0)
        out = {k: np.array(np.broadcast_to(v, shape)) for k, v in out.items()}
        lat, lon = np.broadcast_to(lat, shape), np.broadcast_to(lon, shape)
        for storm in self.storms:
            centre = self.centre(storm, hour)
            if centre is not None:
                self._add_vortex(out, lat, lon, storm, *centre)
        out["pwat"] = np.maximum(out["pwat"], 0.5)
        return out

    def centre(self, storm: Storm, hour: float) -> tuple[float, float, float] | None:
        """``(lat, lon, intensity)`` of the vortex centre that puts the PRMSL minimum on the track.

        A Gaussian low on a sloping background has its minimum moved down the slope by about
        ``|grad P| R^2 / dp`` (degrees: ~2 for a broad mid-latitude low), so the vortex is set
        that far up the slope: ``s exp(-s^2/2) = |grad P| R / dp`` with ``s`` = shift / R
        (solved by fixed point; capped at ``s = 1`` where a weak low cannot hold its minimum).
        """
        st = storm.state(hour)
        if st is None or st[2] <= 0.0:
            return None
        lat, lon, a = st
        h = 0.25  # degrees
        coslat = np.cos(np.deg2rad(lat))
        pts_lat = np.array([lat + h, lat - h, lat, lat])
        pts_lon = np.array([lon, lon, lon + h / coslat, lon - h / coslat])
        p = prmsl_zonal(pts_lat) + self.noise["prmsl"](pts_lat, pts_lon, hour)
        gn, ge = (p[0] - p[1]) / (2 * h), (p[2] - p[3]) / (2 * h)  # Pa per degree of great circle
        g = float(np.hypot(gn, ge))
        q = g * storm.radius / (storm.dp_max * a)
        s = 1.0
        if q < 0.6:
            s = q
            for _ in range(30):
                s = q * np.exp(0.5 * s * s)
        shift = s * storm.radius / max(g, 1e-12)
        return lat + shift * gn, lon + shift * ge / coslat, a

    @staticmethod
    def _add_vortex(out: dict, lat, lon, storm: Storm, clat: float, clon: float, a: float) -> None:
        near = np.abs(lat - clat) < 6.0 * storm.radius
        la, lo = lat[near], lon[near]
        p, speed, (te, tn), (re, rn), r = vortex(la, lo, clat, clon, storm.dp_max * a, storm.radius, clat < 0)
        r2 = (r / storm.radius) ** 2
        inflow = np.deg2rad(INFLOW_DEG)
        out["prmsl"][near] += p
        out["u10"][near] += 0.8 * speed * (np.cos(inflow) * te - np.sin(inflow) * re)
        out["v10"][near] += 0.8 * speed * (np.cos(inflow) * tn - np.sin(inflow) * rn)
        out["u850"][near] += WIND_850[storm.kind] * speed * te
        out["v850"][near] += WIND_850[storm.kind] * speed * tn
        out["pwat"][near] += storm.pwat_boost * a * np.exp(-0.5 * r2 / 1.5**2)
        width, depth = (0.8, 1.0) if storm.kind == "tropical" else (1.0, 0.7)
        out["cloud"][near] = np.maximum(out["cloud"][near], depth * a * np.exp(-0.5 * r2 / width**2))

    def on_grid(self, lat: np.ndarray, lon: np.ndarray, hour: float) -> dict[str, np.ndarray]:
        """GFS fields on the regular grid ``lat`` (ny,) x ``lon`` (nx,): ``prmsl``, ``pwat``,
        ``u10``, ``v10`` and ``absv850`` (s-1, relative vorticity of the 850 hPa wind plus f), each (ny, nx)."""
        f = self.at(lat[:, None], lon[None, :], hour)
        zeta = relative_vorticity(f["u850"], f["v850"], lat, lon)
        return {"prmsl": f["prmsl"], "pwat": f["pwat"], "u10": f["u10"], "v10": f["v10"],
                "absv850": zeta + coriolis(lat)[:, None]}


def relative_vorticity(u: np.ndarray, v: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Relative vorticity (s-1) of winds (ny, nx) on a global regular grid, by centred differences.

    ``zeta = (dv/dlambda - d(u cos phi)/dphi) / (a cos phi)``; longitude is periodic; at a pole
    (cos phi = 0) the value is the mean of the next row, the circulation around the polar cap.
    """
    phi, dlam = np.deg2rad(lat), np.deg2rad(lon[1] - lon[0])
    dv = (np.roll(v, -1, axis=1) - np.roll(v, 1, axis=1)) / (2 * dlam)
    du = np.gradient(u * np.cos(phi)[:, None], phi, axis=0)
    cos = np.cos(phi)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        zeta = (dv - du) / (A_M * cos)
    for row, nxt in ((0, 1), (-1, -2)):
        if abs(abs(lat[row]) - 90.0) < 1e-9:
            zeta[row] = zeta[nxt].mean()
    return zeta
