"""Burton-type ring-current model (Burton, McPherron & Russell 1975) as a forecast rung.

Burton et al.: ``dDst*/dt = Q(VBs) - Dst*/tau`` with the pressure-corrected index
``Dst* = Dst - b sqrt(Pdyn) + c`` and injection ``Q`` proportional to the dawn-dusk
electric field ``VBs`` (V the solar-wind speed, Bs = max(0, -Bz)).  One history step
(cadence dt) of that equation is linear in its unknowns:

    dSYM = a VBs + k SYM + k_p sqrt(Pdyn) + k_0 + b d sqrt(Pdyn)

(``a = dt * injection rate``, ``k = -dt / tau``, ``k_p = dt b / tau``, ``k_0 = -dt c / tau``),
so the coefficients are fitted by least squares on consecutive steps of the train
windows.  A forecast integrates the equation from the last observed value, the drivers
held at their last observed values (``d sqrt(Pdyn) = 0``).  SYM-H stands in for Dst.
Units: SYM-H nT, speed km/s, Bz nT (so VBs in mV/m), Pdyn nPa.
"""

from __future__ import annotations

import numpy as np

from geopipe.models.simple import Rung, last_value

#: channel names (lower case, substrings) that hold each driver
DRIVERS = {"bz": ("bz",), "speed": ("speed", "velocity", "vsw", "v_sw", "flow_speed"),
           "pdyn": ("pdyn", "pressure", "p_dyn")}


def driver_channels(channels) -> tuple[list[int] | None, str]:
    """Indices of the (bz, speed, pdyn) channels, or None and why the rung cannot run."""
    names = [str(c).lower() for c in channels]
    found, missing = [], []
    for driver, keys in DRIVERS.items():
        idx = next((i for i, n in enumerate(names) if i and any(k in n for k in keys)), None)
        (missing.append(driver) if idx is None else found.append(idx))
    if missing:
        return None, (f"no solar-wind drivers: the Burton model needs {', '.join(DRIVERS)} channels; "
                      f"the store has {', '.join(map(str, channels))} (missing {', '.join(missing)})")
    return found, ""


def _drivers(x, idx):
    """VBs (mV/m) and sqrt(Pdyn) per step: (sample, step) arrays, NaN where a driver is missing."""
    bz, v, p = (np.asarray(x[:, :, i], "f8") for i in idx)
    with np.errstate(invalid="ignore"):
        return v * np.maximum(0.0, -bz) * 1e-3, np.sqrt(np.where(p >= 0, p, np.nan))


class Burton(Rung):
    """Coefficients ``coef`` = (a, k, k_p, k_0, b), driver channel indices ``drivers``,
    ``lead_steps`` (lead) = lead / cadence."""

    kind, task = "burton", "forecast"

    @classmethod
    def fit(cls, x, drivers, lead_steps):
        x = np.asarray(x, "f8")
        vbs, sp = _drivers(x, drivers)
        sym = x[:, :, 0]
        rows = np.stack([vbs[:, :-1], sym[:, :-1], sp[:, :-1], np.ones_like(sp[:, :-1]),
                         sp[:, 1:] - sp[:, :-1]], axis=-1).reshape(-1, 5)
        target = (sym[:, 1:] - sym[:, :-1]).reshape(-1)
        ok = np.isfinite(rows).all(axis=1) & np.isfinite(target)
        if ok.sum() < 20:
            raise ValueError(f"only {int(ok.sum())} history steps have every driver; the Burton model needs 20")
        coef, *_ = np.linalg.lstsq(rows[ok], target[ok], rcond=None)
        return cls(coef=coef, drivers=np.asarray(drivers, "int64"), lead_steps=np.asarray(lead_steps, "int64"))

    def tau_steps(self) -> float:
        """Decay time of the ring current in history steps (-1/k); inf if the fit found no decay."""
        k = float(self.coef[1])
        return -1.0 / k if k < 0 else float("inf")

    def predict(self, x):
        x = np.asarray(x, "f8")
        vbs, sp = _drivers(x, self.drivers)
        vbs = last_value(vbs[..., None])
        sp = last_value(sp[..., None])
        sym = last_value(x)
        a, k, kp, k0, _ = (float(c) for c in self.coef)
        have = np.isfinite(vbs) & np.isfinite(sp)
        out = np.empty((len(x), len(self.lead_steps)), "f8")
        state = sym.copy()
        done = 0
        for j in np.argsort(self.lead_steps):  # integrate once, reading off each lead on the way
            steps = int(self.lead_steps[j])
            for _ in range(steps - done):
                state = state + a * np.nan_to_num(vbs) + k * state + kp * np.nan_to_num(sp) + k0
            done = steps
            out[:, j] = np.where(have, state, sym)  # no drivers in the window: persistence
        return out.astype("float32")
