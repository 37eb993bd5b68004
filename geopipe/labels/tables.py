"""Best-track tables as the label makers use them: one row per fix, ``sid, time, lat, lon``.

The IBTrACS store (dim ``obs``) holds many more columns; :func:`track_table` keeps the ones
the labels need, drops fixes without a time or position, and drops IBTrACS *spur* tracks
(alternative branches that would mark a storm twice).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from geopipe.geometry import wrap180

COLUMNS = ["sid", "time", "lat", "lon"]


def track_table(tracks) -> pd.DataFrame:
    """``tracks``: an IBTrACS-layout Dataset (dim ``obs``), a DataFrame, or a store path.

    Returns columns ``sid`` (str), ``time`` (datetime64[ns]), ``lat``, ``lon`` (-180..180),
    sorted by sid then time, one fix per (sid, time).  Raises ``KeyError`` naming a missing column.
    """
    if isinstance(tracks, str):
        from geopipe import store

        tracks = store.open_store(tracks)
    if isinstance(tracks, xr.Dataset):
        missing = [c for c in COLUMNS if c not in tracks.variables]
        if missing:
            raise KeyError(f"it has no {', '.join(missing)} variable(s)")
        extra = [c for c in ("track_type",) if c in tracks.variables]
        table = pd.DataFrame({c: np.asarray(tracks[c].values) for c in COLUMNS + extra})
    else:
        missing = [c for c in COLUMNS if c not in tracks.columns]
        if missing:
            raise KeyError(f"it has no {', '.join(missing)} column(s)")
        table = tracks.copy()
    if "track_type" in table.columns:
        table = table[~table["track_type"].astype(str).str.lower().str.startswith("spur")]
    table = table[COLUMNS].copy()
    table["sid"] = table["sid"].astype(str)
    table["time"] = pd.to_datetime(table["time"])
    table["lat"] = table["lat"].astype("f8")
    table["lon"] = wrap180(table["lon"].astype("f8"))
    table = table.dropna(subset=["time", "lat", "lon"])
    table = table.drop_duplicates(["sid", "time"]).sort_values(["sid", "time"], ignore_index=True)
    return table
