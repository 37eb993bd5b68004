"""Solar-wind driver channels for index forecasts: choice, couplings, cadence, gaps.

OMNI is already propagated to the bow-shock nose, so the solar wind of the last 30-60 min
before an issue time is what drives the index over the next hour.  The same recipe turns a
driver store (``geopipe ingest omni``) into model channels for the window builder
(:mod:`geopipe.datasets.windows`) and for prediction (:mod:`geopipe.predict.forecast`), so
a model sees the same thing in both:

1. the driver variables on the index's 1-minute grid (``DEFAULT_DRIVERS`` present in the
   store; ``REQUIRED`` must all be there), and the couplings computed minute by minute, NaN
   where an input is missing:

   - ``vbs`` = V max(0, -Bz) (mV/m, the dawn-dusk electric field of Burton et al. 1975);
   - ``newell`` = V^(4/3) Bt^(2/3) sin^(8/3)(theta/2) / 1000 (Newell et al. 2007);
   - ``phi_pc``, the transpolar potential of the Hill-Siscoe model (Siscoe et al. 2002,
     JGR 107(A6), 1075), kV: Phi = Phi_M Phi_S / (Phi_M + Phi_S) with the unsaturated
     Phi_M = 57.6 E P^(-1/6) and the saturation limit Phi_S = 1600 P^(1/3) / Sigma_P,
     E = V max(0, -Bz) in mV/m, P = pdyn in nPa, Sigma_P = 10 S.  It grows like V Bs for
     moderate driving and saturates near 200 kV in superstorms, as the potential does.

   ``DEFAULT_COUPLINGS`` (``phi_pc``) are added unless couplings are named.  The saturating
   one is the default because the unsaturated ones grow without bound: a model fitted on
   moderate storms (V Bs up to ~18 mV/m in the 2024 training months) extrapolates them
   linearly into a superstorm (33 mV/m in May 2024) and over-forecasts its main phase and
   early recovery (on the held-out 2024 storms the ARX rung went from 0.79-0.91 of
   persistence's RMSE with ``vbs``+``newell`` to 0.75-0.78 with ``phi_pc``);
2. every channel (index and drivers) averaged over blocks of the target cadence (5 min in
   the literature), labelled at the block's *end*: the value at ``t`` is the mean of the
   minutes ``t - cadence + 1 .. t``, so a window issued at ``t`` holds only data known at
   ``t``.  A block with fewer than half of its minutes is missing;
3. one mask channel per instrument group (``imf_missing``, ``plasma_missing``): 1 where any
   of the group's channels was missing in that block, before filling;
4. a bounded forward fill (``fill_steps`` blocks), then the remaining gaps set to the
   channel's fill value (its median over the driver store, recorded so that prediction
   uses the same).  Drivers never hold NaN afterwards; the mask says where they were
   invented.  The index channels are never filled: a window with a gap in its index
   history is dropped and counted.
"""

from __future__ import annotations

import numpy as np

from geopipe.errors import InputError

#: driver variables used when none are named (those the store has)
DEFAULT_DRIVERS = ("bz_gsm", "by_gsm", "b_mag", "speed", "proton_density", "pdyn")
#: the minimum a driver model needs
REQUIRED = ("bz_gsm", "speed", "proton_density", "pdyn")
#: couplings computed from the drivers, and what they need
DERIVED = {"vbs": ("speed", "bz_gsm"), "newell": ("speed", "by_gsm", "bz_gsm"), "phi_pc": ("speed", "bz_gsm", "pdyn")}
#: couplings added when none are named
DEFAULT_COUPLINGS = ("phi_pc",)
#: the couplings of models whose recipe predates the ``couplings`` key (every derivable one of these)
LEGACY_COUPLINGS = ("vbs", "newell")
#: Pedersen conductance of the Hill-Siscoe saturation limit (S)
SIGMA_P = 10.0
#: instrument groups that share a mask channel (OMNI's magnetometer and plasma gaps differ)
#: (a coupling is missing when either instrument is: the two masks cover it)
GROUPS = {"imf": ("b_mag", "bx_gse", "by_gse", "bz_gse", "by_gsm", "bz_gsm"),
          "plasma": ("speed", "proton_density", "temperature", "pdyn")}
DEFAULT_FILL_MINUTES = 60


def choose(available, wanted=None, where: str = "driver store") -> tuple[list[str], list[str]]:
    """(raw driver variables, couplings): ``wanted`` (each variable must exist; couplings among
    them are computed, and when none is named the default ones), else the defaults present
    (then every ``REQUIRED`` one must be there).  Errors name the missing channel."""
    have = set(map(str, available))
    if wanted:
        missing = [v for v in wanted if v not in have and v not in DERIVED]
        if missing:
            raise InputError(where, f"lacks driver channel(s) {', '.join(missing)} (has {', '.join(sorted(have))})")
        variables = [v for v in wanted if v not in DERIVED or v in have]
        named = [v for v in wanted if v in DERIVED and v not in have]
        for c in named:
            need = [v for v in DERIVED[c] if v not in variables]
            if need:
                raise InputError(where, f"coupling {c} needs driver channel(s) {', '.join(need)}: name them too")
        return variables, named or derivable(DEFAULT_COUPLINGS, variables)
    missing = [v for v in REQUIRED if v not in have]
    if missing:
        raise InputError(where, f"lacks driver channel(s) {', '.join(missing)} needed for solar-wind drivers "
                                f"(has {', '.join(sorted(have))})")
    variables = [v for v in DEFAULT_DRIVERS if v in have]
    return variables, derivable(DEFAULT_COUPLINGS, variables)


def derivable(names, variables) -> list[str]:
    """The couplings of ``names`` whose inputs are all among ``variables``."""
    return [d for d in names if set(DERIVED[d]) <= set(variables)]


def hill_siscoe(speed, bz, pdyn, sigma_p: float = SIGMA_P) -> np.ndarray:
    """Transpolar potential (kV) of the Hill-Siscoe model from V (km/s), Bz (nT), Pdyn (nPa)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.abs(speed) * np.maximum(0.0, -bz) * 1e-3  # mV/m
        p = np.where(pdyn > 0, pdyn, np.nan)
        phi_m = 57.6 * e * p ** (-1 / 6)
        phi_s = 1600.0 * p ** (1 / 3) / sigma_p
        return phi_m * phi_s / (phi_m + phi_s)  # NaN wherever an input is NaN


def couplings(raw: dict[str, np.ndarray], names=tuple(DERIVED)) -> dict[str, np.ndarray]:
    """The couplings ``names`` from 1-minute raw drivers (NaN where an input is NaN)."""
    out = {}
    have = set(raw)
    with np.errstate(invalid="ignore"):
        if "vbs" in names and {"speed", "bz_gsm"} <= have:
            out["vbs"] = (raw["speed"] * np.maximum(0.0, -raw["bz_gsm"]) * 1e-3).astype("f4")  # NaN stays NaN
        if "newell" in names and {"speed", "by_gsm", "bz_gsm"} <= have:
            bt = np.hypot(raw["by_gsm"], raw["bz_gsm"])
            theta = np.arctan2(raw["by_gsm"], raw["bz_gsm"])
            out["newell"] = (np.abs(raw["speed"]) ** (4 / 3) * bt ** (2 / 3)
                             * np.abs(np.sin(theta / 2)) ** (8 / 3) / 1e3).astype("f4")
        if "phi_pc" in names and {"speed", "bz_gsm", "pdyn"} <= have:
            out["phi_pc"] = hill_siscoe(raw["speed"], raw["bz_gsm"], raw["pdyn"]).astype("f4")
    return out


def block_mean(grid: np.ndarray, values: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Means over ``factor`` consecutive rows of a regular grid, labelled at the block's last
    row, which is on the clock of the new cadence (steps since 1970 divisible by ``factor``).  A block with fewer than half its rows finite is NaN.
    ``values`` (T, C) -> (times (N,), means (N, C))."""
    if factor == 1:
        return grid, values
    step = grid[1] - grid[0]
    steps = ((grid - np.datetime64(0, "ns")) // step).astype(np.int64)
    ends = np.flatnonzero((steps % factor == 0) & (np.arange(grid.size) >= factor - 1))
    if not ends.size:
        return grid[:0], values[:0]
    first = int(ends[0])
    n = (grid.size - 1 - first) // factor + 1
    a = first - factor + 1
    block = values[a:a + n * factor].reshape(n, factor, values.shape[1])
    count = np.isfinite(block).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(block, axis=1) / count
    mean[count * 2 < factor] = np.nan
    return grid[first:first + n * factor:factor], mean.astype("f4")


def ffill(values: np.ndarray, limit: int) -> np.ndarray:
    """Forward fill each column of (T, C) over at most ``limit`` rows."""
    out = values.copy()
    t = np.arange(len(values))
    for j in range(values.shape[1]):
        ok = np.isfinite(values[:, j])
        last = np.maximum.accumulate(np.where(ok, t, -1))
        use = ~ok & (last >= 0) & (t - last <= limit)
        out[use, j] = values[last[use], j]
    return out


def mask_channels(channels) -> list[str]:
    return [f"{g}_missing" for g, members in GROUPS.items() if set(members) & set(channels)]


def finish(channels: list[str], values: np.ndarray, fill_steps: int, fill_values: dict | None = None
           ) -> tuple[list[str], np.ndarray, dict]:
    """Driver block values (T, C) -> (channels + mask channels, filled values, fill values used)."""
    missing = ~np.isfinite(values)
    masks = []
    for g, members in GROUPS.items():
        cols = [j for j, c in enumerate(channels) if c in members]
        if cols:
            masks.append(missing[:, cols].any(axis=1).astype("f4"))
    filled = ffill(values, fill_steps)
    if fill_values is None:
        fill_values = {c: float(np.nanmedian(values[:, j])) if np.isfinite(values[:, j]).any() else 0.0
                       for j, c in enumerate(channels)}
    for j, c in enumerate(channels):
        hole = ~np.isfinite(filled[:, j])
        filled[hole, j] = fill_values[c]
    out = np.concatenate([filled, np.stack(masks, axis=1)], axis=1) if masks else filled
    return channels + mask_channels(channels), out.astype("f4"), fill_values


def driver_values(grid: np.ndarray, raw: dict[str, np.ndarray], variables: list[str],
                  coupled=DEFAULT_COUPLINGS) -> tuple[list[str], np.ndarray]:
    """(driver + coupling channel names, (T, C) raw 1-minute values) on ``grid``; ``coupled``:
    the couplings to add (those whose inputs are among ``variables``)."""
    wanted = derivable(coupled, variables)
    derived = couplings(raw, wanted)
    names = list(variables) + [d for d in wanted if d in derived]
    cols = [raw[v] for v in variables] + [derived[d] for d in names[len(variables):]]
    return names, np.stack(cols, axis=1).astype("f4") if cols else np.zeros((grid.size, 0), "f4")
