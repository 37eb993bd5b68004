"""The saliency map: the predicted-mask contour over the gradient x input saliency of one time.

Builds on :mod:`geopipe.explain` (the science) and :mod:`geopipe.maps` (the drawing); neither of
those imports the other.
"""

from __future__ import annotations

import numpy as np

from geopipe import explain as _explain
from geopipe import maps


def render_saliency(model_dir, store: str, time, out, zarr: str | None = None, region=None) -> str:
    """Draw the saliency of ``model_dir`` at ``time`` of ``store`` to the image ``out`` (``.png``,
    ``.pdf``, ``.svg``); ``zarr`` also appends the fields to that store.  Returns ``out``."""
    e = _explain.saliency_at(model_dir, store, time, region)
    if zarr:
        _explain.write(e, zarr)
    return draw(e, out)


def draw(e: _explain.Explanation, out) -> str:
    one = e.result.isel(time=0)
    grid = maps.map_grid(e.ds, "saliency")
    fig, ax = maps.map_axes(grid)
    sal = grid.field(one["saliency"])
    vmax = float(np.nanpercentile(np.abs(sal), 99.5)) or float(np.nanmax(np.abs(sal))) or 1.0
    mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(sal), cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                         shading="nearest", transform=grid.crs, zorder=2, alpha=0.9)
    prob = grid.field(one["probability"])
    if np.nanmax(prob, initial=0.0) >= e.threshold:
        ax.contour(grid.x, grid.y, np.nan_to_num(prob), levels=[e.threshold], colors="black", linewidths=1.2,
                   transform=grid.crs, zorder=5)
    share = np.array([np.nansum(np.abs(one[f"saliency_{c}"].values)) for c in e.channels])
    share = share / share.sum() if share.sum() > 0 else share
    fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.6, pad=0.02,
                 label="gradient x input (probability), summed over channels")
    parts = ", ".join(f"{c} {100 * s:.0f}%" for c, s in zip(e.channels, share))
    ax.set_title(f"saliency of mean p over {e.target}; valid {e.valid:%Y-%m-%d %H:%M} UTC\n"
                 f"model {e.config.get('kind', 'model')} {e.digest[:10]}; |saliency| by channel: {parts}", fontsize=9)
    return maps.save_figure(fig, out)
