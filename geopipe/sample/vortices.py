"""Planted cyclones of the generated archive: seeded tracks and the fields of one vortex.

A storm is a Gaussian pressure deficit ``dp(r) = -DP a(t) exp(-r^2 / 2R^2)`` moving along a
track; its wind is the gradient wind of that profile, ``V = -|f| r/2 + sqrt((f r/2)^2 +
(r/rho) dp/dr)`` (cyclonic: counter-clockwise in the northern hemisphere, clockwise in the
southern), and its moist core adds ``PWAT_BOOST a(t) exp(-r^2 / 2(1.5R)^2)`` kg m-2.
``a(t) = sin(pi s)^1.5`` (``s`` the fraction of its life) gives genesis, a peak and decay.

Tropical cyclones (in IBTrACS) start over the tropical oceans and drift west-north-west,
turning poleward, at 3-8 m/s (east-south-east for the South Pacific ones); extratropical
cyclones (not in IBTrACS: the heuristic detector's class 2) are broader, shallower, drier
and run east at 8-15 m/s between 38 and 58 degrees.  Tracks are anchored, not launched: the
storm is put at a chosen place at a chosen time and its track integrated both ways from
there, which lets the generator make two storms cross the dateline inside the window (one
westward in the North Pacific, one eastward in the South Pacific) and one sit in the GOES
CONUS sector at the first scan.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from geopipe.geometry import EARTH_RADIUS_KM, coriolis, distance_deg

RHO = 1.15  # boundary-layer air density, kg m-3
A_M = EARTH_RADIUS_KM * 1000.0  # Earth radius, m
DEG_M = np.pi * A_M / 180.0  # metres per degree of great circle
INFLOW_DEG = 20.0  # 10 m winds cross the isobars toward the centre by this angle
NAMES = ("AMARA", "BORIS", "CELINE", "DARIO", "ELENA", "FARID", "GRETA", "HUGO", "INES", "JONAS", "KAIA",
         "LEON", "MIRA", "NILS", "OLGA", "PAVEL", "QUINN", "ROSA", "SAMI", "TARA", "UDO", "VERA", "WANDA", "XAVI")

#: where tropical cyclones are put, in the order used: (genesis basin, lat range, lon range 0..360 east,
#: heading, anchor); anchor "goes": at the first GOES scan, "dateline": on 180 at a time inside the window
TC_BASINS = (
    ("NA", (17.0, 24.0), (287.0, 294.0), "wnw", "goes"),
    ("WP", (12.0, 17.0), (180.0, 180.0), "wnw", "dateline"),  # from the central Pacific into the WP
    ("SP", (-18.0, -14.0), (180.0, 180.0), "ese", "dateline"),
    ("WP", (12.0, 20.0), (128.0, 155.0), "wnw", "any"),
    ("EP", (12.0, 17.0), (230.0, 250.0), "wnw", "any"),
    ("SI", (-17.0, -11.0), (62.0, 95.0), "wnw", "any"),
    ("NA", (12.0, 18.0), (305.0, 330.0), "wnw", "any"),
)


@dataclasses.dataclass
class Storm:
    """One planted cyclone; ``hours`` (n,) since the archive start, hourly; ``lat``/``lon``/``a`` (n,)."""

    kind: str  # "tropical" or "extratropical"
    name: str
    basin: str  # IBTrACS genesis basin (tropical) or "NH"/"SH" (extratropical)
    dp_max: float  # peak central pressure deficit, Pa
    radius: float  # e-folding radius R of the deficit, degrees
    pwat_boost: float  # peak moist-core PWAT excess, kg m-2
    hours: np.ndarray
    lat: np.ndarray
    lon: np.ndarray  # continuous (may pass 360 or go below 0 when crossing the meridian), degrees east
    a: np.ndarray  # intensity fraction 0..1

    def state(self, hour: float) -> tuple[float, float, float] | None:
        """``(lat, lon, intensity)`` at ``hour`` (linear in time), or None outside the storm's life."""
        if not self.hours[0] <= hour <= self.hours[-1]:
            return None
        return (float(np.interp(hour, self.hours, self.lat)), float(np.interp(hour, self.hours, self.lon)),
                float(np.interp(hour, self.hours, self.a)))


def _steer(heading: str, c: float, theta0: float, turn: float, s: np.ndarray, south: bool) -> tuple:
    """Storm motion (u, v) in m/s at life fractions ``s`` (n,): a heading that turns poleward with age."""
    th = np.deg2rad(theta0 + turn * s)
    poleward = -1.0 if south else 1.0
    if heading == "e":  # extratropical: east, drifting poleward
        return c * np.cos(th), poleward * c * np.sin(th)
    if heading == "ese":  # the South Pacific: east-south-east, across the dateline from the west
        return c * np.cos(th), -c * np.sin(th)
    return -c * np.cos(th), poleward * c * np.sin(th)  # west-north-west (west-south-west in the south)


def _integrate(step: np.ndarray, k: int, start: float) -> np.ndarray:
    """Positions from per-hour increments ``step`` (n,), fixed at ``start`` at index ``k``."""
    out = np.concatenate([[0.0], np.cumsum(step[:-1])])
    return start + out - out[k]


def _track(heading, south, c, theta0, turn, life, t_anchor, lat0, lon0, max_lat):
    """Hourly life fractions and (lat, lon) of a storm at (lat0, lon0) ``t_anchor`` hours after genesis."""
    n = life + 1
    s = np.arange(n) / (n - 1)
    k = t_anchor
    u, v = _steer(heading, c, theta0, turn, s, south)
    lat = _integrate(v * 3600.0 / DEG_M, k, lat0)
    # keep the storm equatorward of max_lat: shrink its poleward excursion, keep the track's shape
    sgn = -1.0 if south else 1.0
    far = (sgn * lat).max()
    if far > max_lat:
        lat = lat0 + (lat - lat0) * (max_lat - sgn * lat0) / (far - sgn * lat0)
    lon = _integrate(u * 3600.0 / (DEG_M * np.cos(np.deg2rad(lat))), k, lon0)
    return s, lat, lon


def make_storms(rng: np.random.Generator, hours: float, n_tropical: int, n_extratropical: int,
                goes_hour: float | None = 0.0) -> list[Storm]:
    """Seeded storms active somewhere in ``[0, hours]`` (hours since the archive start).

    Storms are kept apart (see :func:`_apart`; detectors merge close lows); a storm that cannot
    be placed in 50 draws is left out.
    """
    storms: list[Storm] = []
    specs = [("tropical", i) for i in range(n_tropical)] + [("extratropical", i) for i in range(n_extratropical)]
    for kind, i in specs:
        for _attempt in range(50):
            storm = _draw(rng, kind, i, hours, goes_hour, len(storms))
            if all(_apart(storm, other) for other in storms):
                storms.append(storm)
                break
    return storms


def _draw(rng, kind: str, i: int, hours: float, goes_hour, number: int) -> Storm:
    if kind == "tropical":
        basin, lat_r, lon_r, heading, anchor = TC_BASINS[i % len(TC_BASINS)]
        if i >= len(TC_BASINS):  # the second round: anywhere in the basin, at any time
            anchor, lon_r = "any", (lon_r[0] - 15.0, lon_r[1] + 15.0) if anchor == "dateline" else lon_r
        life = rng.uniform(3.0, 7.0) * 24
        c, theta0, turn = rng.uniform(3.0, 8.0), rng.uniform(8.0, 20.0), rng.uniform(5.0, 30.0)
        dp, radius, boost = rng.uniform(2000.0, 6000.0), rng.uniform(2.0, 3.5), rng.uniform(15.0, 25.0)
        if heading == "ese":
            theta0 = rng.uniform(30.0, 50.0)
        max_lat = 33.0
    else:
        south = i % 2 == 1  # alternate hemispheres
        lat_r, lon_r, heading, anchor = ((-58.0, -38.0) if south else (38.0, 58.0)), (0.0, 360.0), "e", "any"
        basin = "SH" if south else "NH"
        life = rng.uniform(3.0, 6.0) * 24
        c, theta0, turn = rng.uniform(8.0, 15.0), rng.uniform(2.0, 10.0), 0.0
        dp, radius, boost = rng.uniform(1500.0, 3000.0), rng.uniform(5.0, 7.0), rng.uniform(4.0, 7.0)
        max_lat = 75.0
    lat0, lon0 = rng.uniform(*lat_r), rng.uniform(*lon_r)
    # when the anchor fix happens, in hours since the archive start, and how far into the storm's life
    if anchor == "goes" and goes_hour is not None:
        t_abs, frac = goes_hour, rng.uniform(0.4, 0.6)
    else:
        t_abs, frac = rng.uniform(0.1, 0.9) * hours, rng.uniform(0.3, 0.7)
    life = round(life)
    t_anchor = round(frac * life)
    s, lat, lon = _track(heading, lat0 < 0, c, theta0, turn, life, t_anchor, lat0, lon0, max_lat)
    start = round(t_abs) - t_anchor
    return Storm(kind=kind, name=NAMES[number % len(NAMES)], basin=basin, dp_max=float(dp), radius=float(radius),
                 pwat_boost=float(boost), hours=start + np.arange(s.size, dtype="f8"), lat=lat, lon=lon,
                 a=np.sin(np.pi * s) ** 1.5)


def _apart(a: Storm, b: Storm) -> bool:
    """Whether two storms stay at least 15 degrees and 2.5 radii apart whenever both are alive."""
    min_deg = max(15.0, 2.5 * (a.radius + b.radius))
    lo, hi = max(a.hours[0], b.hours[0]), min(a.hours[-1], b.hours[-1])
    if lo > hi:
        return True
    ia = slice(int(lo - a.hours[0]), int(hi - a.hours[0]) + 1)
    ib = slice(int(lo - b.hours[0]), int(hi - b.hours[0]) + 1)
    return bool(distance_deg(a.lat[ia], a.lon[ia], b.lat[ib], b.lon[ib]).min() >= min_deg)


# ----------------------------------------------------------------------------- one vortex


def gradient_wind(r_m, dp: float, radius_m: float, f_abs: float) -> np.ndarray:
    """Gradient wind speed (m/s) at ``r_m`` metres of a Gaussian low of depth ``dp`` Pa, radius ``radius_m``."""
    dpdr = dp * r_m / radius_m**2 * np.exp(-0.5 * (r_m / radius_m) ** 2)
    half = 0.5 * f_abs * r_m
    return -half + np.sqrt(half**2 + r_m * dpdr / RHO)


def vortex(lat, lon, clat: float, clon: float, dp: float, radius: float, south: bool):
    """Fields of one vortex at points ``lat``/``lon`` (degrees, broadcastable arrays).

    Returns ``(pressure anomaly Pa, gradient wind speed m/s, tangential unit vector (east, north),
    radial outward unit vector (east, north), r in degrees)``; the tangent is cyclonic.
    """
    r_deg = distance_deg(lat, lon, clat, clon)
    rad = r_deg * DEG_M
    radius_m = radius * DEG_M
    p = -dp * np.exp(-0.5 * (rad / radius_m) ** 2)
    speed = gradient_wind(rad, dp, radius_m, abs(float(coriolis(clat))))
    # bearing from each point to the centre; the outward radial unit vector points the other way
    p1, p2 = np.deg2rad(lat), np.deg2rad(clat)
    dl = np.deg2rad(clon - np.asarray(lon, dtype="f8"))
    bearing = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    out_e, out_n = -np.sin(bearing), -np.cos(bearing)
    sign = -1.0 if south else 1.0  # counter-clockwise in the north, clockwise in the south
    return p, speed, (-sign * out_n, sign * out_e), (out_e, out_n), r_deg
