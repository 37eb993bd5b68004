"""One time step of a store: the step at a time, or the nearest within half a step.

Shared by the maps and the saliency maker (neither imports the other).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from geopipe.errors import GeopipeError


def select_time(ds: xr.Dataset, time, where: str) -> xr.Dataset:
    """The step of ``ds`` at ``time``, or the nearest within half a step; else a clear error."""
    t = pd.Timestamp(time)
    index = pd.DatetimeIndex(ds["time"].values)
    if not len(index):
        raise GeopipeError(f"{where}: holds no times")
    pos = int(np.argmin(np.abs((index - t).asi8)))
    step = pd.Timedelta(np.median(np.diff(index.asi8))) if len(index) > 1 else pd.Timedelta(0)
    if abs(index[pos] - t) > step / 2:
        raise GeopipeError(f"{where}: no time near {t} (it holds {index.min()} to {index.max()}; nearest {index[pos]})")
    return ds.isel(time=pos)
