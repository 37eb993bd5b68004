"""Maps of predictions with Cartopy, and the SYM-H forecast-against-observation plot.

:func:`render_map` draws one time of a prediction store: probability shading, the model's
threshold contour, truth contours from a labels store, best-track positions and names,
coastlines and borders, a colour bar and a title with the valid time and the model.
Latitude/longitude grids are drawn on PlateCarree or Robinson (``auto``: Robinson for a
global grid, PlateCarree for a regional one); GOES fixed-grid stores on the satellite's own
geostationary projection, in its native scan-angle coordinates (no resampling).

Everything draws offline from the Natural Earth files bundled with geopipe
(:mod:`geopipe.cartopy_data`).  Figures are written whole (a temporary file renamed into
place), never half.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from geopipe import store as _store
from geopipe.atomic import atomic_path
from geopipe.cartopy_data import use_bundled_natural_earth
from geopipe.errors import GeopipeError, ParameterError
from geopipe.steps import select_time  # noqa: F401  (maps.select_time: one place, geopipe/steps.py)

PROJECTIONS = ("auto", "platecarree", "robinson", "geostationary")
PROB_CMAP = "YlOrRd"
MIN_SHADED = 0.05        #: probabilities below this are left unshaded, so the basemap shows
THRESHOLD_COLOUR = "#c00000"
TRUTH_COLOUR = "#0070ff"


# ----------------------------------------------------------------------------- grids


@dataclasses.dataclass
class MapGrid:
    """How to draw fields of one store: the data CRS, its coordinates and display order."""

    crs: object                  #: cartopy CRS the coordinates are in
    x: np.ndarray                #: (nx,) display-order x (longitude, or metres on the fixed grid)
    y: np.ndarray                #: (ny,) y (latitude, or metres)
    dims: tuple[str, str]        #: the store's (y dim, x dim)
    order: np.ndarray | None     #: column order for display (global grids rolled to -180..180)
    geostationary: bool
    is_global: bool

    def field(self, da: xr.DataArray) -> np.ndarray:
        """A 2-D field of this grid as float (ny, nx) in display order."""
        values = np.asarray(da.transpose(*self.dims).values, dtype="f8")
        return values[:, self.order] if self.order is not None else values

    def extent(self) -> list[float]:
        return [float(np.nanmin(self.x)), float(np.nanmax(self.x)), float(np.nanmin(self.y)), float(np.nanmax(self.y))]


def map_grid(ds: xr.Dataset, where: str = "") -> MapGrid:
    """The :class:`MapGrid` of a store on a lat/lon grid or the GOES fixed grid."""
    import cartopy.crs as ccrs

    proj = ds["goes_imager_projection"].attrs if "goes_imager_projection" in ds.variables else None
    if proj is not None and "x" in ds.dims and "y" in ds.dims:
        h = float(proj["perspective_point_height"])
        globe = ccrs.Globe(semimajor_axis=float(proj["semi_major_axis"]),
                           semiminor_axis=float(proj["semi_minor_axis"]), ellipse=None)
        crs = ccrs.Geostationary(central_longitude=float(proj["longitude_of_projection_origin"]),
                                 satellite_height=h, sweep_axis=str(proj.get("sweep_angle_axis", "x")), globe=globe)
        # scan angles (rad) times the perspective point height are the projection's metres
        return MapGrid(crs, np.asarray(ds["x"].values, "f8") * h, np.asarray(ds["y"].values, "f8") * h,
                       ("y", "x"), None, True, False)
    if "latitude" in ds.dims and "longitude" in ds.dims:
        lat = np.asarray(ds["latitude"].values, "f8")
        lon = np.asarray(ds["longitude"].values, "f8")
        step = float(np.median(np.abs(np.diff(lon)))) if len(lon) > 1 else 360.0
        is_global = (np.nanmax(lon) - np.nanmin(lon)) + step >= 359.0
        order = None
        if is_global:  # roll 0..360 to -180..180 so contours and shading do not jump at 180
            lon = (lon + 180.0) % 360.0 - 180.0
            order = np.argsort(lon, kind="stable")
            lon = lon[order]
        return MapGrid(ccrs.PlateCarree(), lon, lat, ("latitude", "longitude"), order, False, is_global)
    raise GeopipeError(f"{where}: dims {tuple(ds.dims)} are neither (latitude, longitude) nor a GOES fixed grid (y, x)")


def map_axes(grid: MapGrid, projection: str = "auto", figsize=(11, 6.5)):
    """A Figure and a GeoAxes for ``grid`` with land, coastlines and borders drawn."""
    import cartopy.crs as ccrs
    import cartopy.feature as cfeature
    from matplotlib.figure import Figure

    use_bundled_natural_earth()
    if projection not in PROJECTIONS:
        raise GeopipeError(f"projection {projection!r}: choose one of {', '.join(PROJECTIONS)}")
    if grid.geostationary:
        if projection not in ("auto", "geostationary"):
            raise ParameterError("projection", "a GOES fixed-grid store is drawn on its geostationary projection (auto)", projection)
        target = grid.crs
    elif projection == "geostationary":
        raise ParameterError("projection", "needs a GOES fixed-grid store", projection)
    else:
        mid = 0.0 if grid.is_global else float(np.mean(grid.extent()[:2]))
        robinson = projection == "robinson" or (projection == "auto" and grid.is_global)
        target = ccrs.Robinson(central_longitude=mid) if robinson else ccrs.PlateCarree(central_longitude=mid)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot(1, 1, 1, projection=target)
    if grid.is_global:
        ax.set_global()
    else:
        ax.set_extent(grid.extent(), crs=grid.crs)
    scale = "110m" if grid.is_global else "50m"
    ax.add_feature(cfeature.NaturalEarthFeature("physical", "land", scale), facecolor="#ececec", edgecolor="none", zorder=0)
    ax.coastlines(scale, linewidth=0.6, zorder=3)
    ax.add_feature(cfeature.NaturalEarthFeature("cultural", "admin_0_boundary_lines_land", scale),
                   facecolor="none", edgecolor="#555555", linewidth=0.4, zorder=3)
    gl = ax.gridlines(draw_labels=isinstance(target, ccrs.PlateCarree), linewidth=0.3, color="grey", alpha=0.6)
    if hasattr(gl, "top_labels"):
        gl.top_labels = gl.right_labels = False
    return fig, ax


def save_figure(fig, out) -> str:
    """Write ``fig`` to ``out`` (format from the suffix) through a temporary file renamed into place."""
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=130, format=out.suffix.lstrip(".") or "png")
    return str(out)


# ----------------------------------------------------------------------------- overlays


def _truth_contour(ax, labels: str, time, label_var: str | None) -> bool:
    """Contour (label > 0) of the labels store at ``time``; False when it has no such time."""
    ds = _store.open_store(labels)
    name = label_var or ("mask" if "mask" in ds.data_vars else None)
    if name is None or name not in ds.data_vars:
        raise GeopipeError(f"{labels}: no label variable {label_var or 'mask'!r} (have {', '.join(map(str, ds.data_vars))})")
    try:
        step = select_time(ds, time, labels)
    except GeopipeError:
        return False
    grid = map_grid(ds, labels)
    field = (grid.field(step[name]) > 0).astype("f4")
    if field.any():
        ax.contour(grid.x, grid.y, field, levels=[0.5], colors=TRUTH_COLOUR, linewidths=1.4,
                   linestyles="--", transform=grid.crs, zorder=5)
    return True


def _tracks(ax, tracks: str, time, window: str = "3h", history: str = "48h") -> int:
    """Best-track positions at ``time`` (markers and names) and their tracks within ``history``."""
    import cartopy.crs as ccrs

    from geopipe import tracks as _tracks_mod

    table = _tracks_mod.load(tracks)
    t = pd.Timestamp(time)
    now = _tracks_mod.positions([t], table, window=window)
    span = pd.date_range(t - pd.Timedelta(history), t + pd.Timedelta(history), freq="3h")
    path = _tracks_mod.positions(span, table, window=window)
    for sid, rows in path.groupby("sid"):
        if sid in set(now["sid"]):
            ax.plot(rows["lon"], rows["lat"], color="black", linewidth=0.8, transform=ccrs.Geodetic(), zorder=6)
    for _, row in now.iterrows():
        ax.plot(row["lon"], row["lat"], marker="o", markersize=6, markerfacecolor="white", markeredgecolor="black",
                transform=ccrs.PlateCarree(), zorder=7)
        name = row["name"] if row["name"] and row["name"] not in ("NOT_NAMED", "UNNAMED", "nan") else row["sid"]
        ax.text(row["lon"], row["lat"], f"  {name}", fontsize=8, transform=ccrs.PlateCarree(), zorder=7,
                clip_on=True, va="center")
    return len(now)


# ----------------------------------------------------------------------------- the maps


def render_map(pred: str, time, out, tracks: str | None = None, labels: str | None = None,
               projection: str = "auto", label_var: str | None = None, track_window: str = "3h") -> str:
    """Draw the prediction store ``pred`` at ``time`` into ``out`` (PNG, PDF, SVG); returns the path."""
    from matplotlib.lines import Line2D

    ds = _store.open_store(pred)
    if "probability" not in ds:
        raise GeopipeError(f"{pred}: no probability variable (is it a geopipe prediction store?)")
    step = select_time(ds, time, pred)
    grid = map_grid(ds, pred)
    fig, ax = map_axes(grid, projection)
    prob = grid.field(step["probability"])
    thr = float(ds.attrs.get("threshold", step["mask"].attrs.get("threshold", 0.5)))
    import matplotlib

    # transparent below MIN_SHADED and where NaN (white in the colour bar's extension)
    cmap = matplotlib.colormaps[PROB_CMAP].with_extremes(under=(1, 1, 1, 0), bad=(1, 1, 1, 0))
    mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(prob), cmap=cmap, vmin=MIN_SHADED, vmax=1.0,
                         shading="nearest", transform=grid.crs, zorder=2, alpha=0.9)
    handles = []
    if np.nanmax(prob, initial=0.0) >= thr:
        ax.contour(grid.x, grid.y, np.nan_to_num(prob), levels=[thr], colors=THRESHOLD_COLOUR, linewidths=1.6,
                   transform=grid.crs, zorder=5)
    handles.append(Line2D([], [], color=THRESHOLD_COLOUR, lw=1.6, label=f"predicted (p >= {thr:g})"))
    notes = []
    if labels:
        if _truth_contour(ax, labels, step["time"].values, label_var):
            handles.append(Line2D([], [], color=TRUTH_COLOUR, lw=1.4, ls="--", label="truth (labels)"))
        else:
            notes.append("no labels at this time")
    if tracks:
        n = _tracks(ax, tracks, step["time"].values, window=track_window)
        handles.append(Line2D([], [], color="black", marker="o", markerfacecolor="white", lw=0.8,
                              label=f"best track ({n} active)"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.8)
    label = str(ds.attrs.get("label") or "event").replace("_", " ")
    fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.6, pad=0.02, extend="min",
                 label=f"probability of {label}")
    valid = pd.Timestamp(step["time"].values)
    model = f"{ds.attrs.get('model_kind', 'model')} {str(ds.attrs.get('model_hash', ''))[:10]}"
    ax.set_title(f"{label}: valid {valid:%Y-%m-%d %H:%M} UTC\nmodel {model}"
                 + (f"  ({'; '.join(notes)})" if notes else ""), fontsize=10)
    return save_figure(fig, out)


def render_forecast_plot(forecasts: str, out, start=None, end=None, lead: int = 60) -> str:
    """Observed index, the forecast at ``lead`` minutes and persistence, against valid time."""
    from matplotlib.figure import Figure

    ds = _store.open_store(forecasts)
    for name in ("forecast", "observed", "persistence"):
        if name not in ds:
            raise GeopipeError(f"{forecasts}: no {name} variable (is it a geopipe forecast store?)")
    leads = [int(v) for v in ds["lead"].values]
    if int(lead) not in leads:
        raise GeopipeError(f"{forecasts}: no lead {lead} min (it has {', '.join(map(str, leads))})")
    one = ds.sel(lead=int(lead))
    valid = pd.DatetimeIndex(one["time"].values) + pd.Timedelta(int(lead), "min")
    keep = np.ones(len(valid), bool)
    if start is not None:
        keep &= valid >= pd.Timestamp(start)
    if end is not None:
        keep &= valid <= pd.Timestamp(end)
    if not keep.any():
        raise GeopipeError(f"{forecasts}: no forecasts valid between {start} and {end}")
    sel = one.isel(time=np.flatnonzero(keep)).load()
    valid = valid[keep]
    obs, fc, pers = (np.asarray(sel[n].values, "f8") for n in ("observed", "forecast", "persistence"))
    ok = np.isfinite(obs) & np.isfinite(fc) & np.isfinite(pers)
    rmse = {n: float(np.sqrt(np.mean((v[ok] - obs[ok]) ** 2))) if ok.any() else float("nan")
            for n, v in (("forecast", fc), ("persistence", pers))}
    target = str(ds.attrs.get("target", "sym_h")).replace("_", "-").upper()
    units = ds["observed"].attrs.get("units", "nT")
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(valid, obs, color="black", lw=1.2, label="observed")
    ax.plot(valid, fc, color="#d62728", lw=1.0, label=f"forecast, {lead} min ahead (RMSE {rmse['forecast']:.1f} {units})")
    ax.plot(valid, pers, color="grey", lw=1.0, ls="--", label=f"persistence (RMSE {rmse['persistence']:.1f} {units})")
    ax.set_xlabel("valid time (UTC)")
    ax.set_ylabel(f"{target} ({units})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)
    model = f"{ds.attrs.get('model_kind', 'model')} {str(ds.attrs.get('model_hash', ''))[:10]}"
    ax.set_title(f"{target} forecast {lead} min ahead against observation, {valid[0]:%Y-%m-%d %H:%M} to "
                 f"{valid[-1]:%Y-%m-%d %H:%M} UTC; model {model}", fontsize=10)
    return save_figure(fig, out)
