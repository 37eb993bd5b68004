"""Maps of predictions with Cartopy, and the SYM-H forecast-against-observation plot.

:func:`render_map` draws one time of a prediction store: probability shading, the model's
threshold contour, truth contours from a labels store, best-track positions and names,
coastlines and borders, a colour bar and a title with the valid time and the model.
Latitude/longitude grids are drawn on PlateCarree or Robinson (``auto``: Robinson for a
global grid, PlateCarree for a regional one); GOES fixed-grid stores on the satellite's own
geostationary projection, in its native scan-angle coordinates (no resampling).

With the input grid store (``fields``; by default the store the prediction was made from) the
map also has what a forecaster reads the probability against: sea-level pressure contours
every :data:`PRESSURE_STEP` hPa over the moisture (``pwat``) or 850 hPa vorticity field, and
the heuristic detector's nodes (``nodes``, a ``geopipe labels heuristic`` store).  ``extent``
(W, E, S, N in degrees) or ``around`` (a storm's name or SID in ``tracks``) zooms on a region.
:func:`render_goes_scene` draws a GOES scene itself on its geostationary projection with a
perceptual colour map.

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
PRESSURE_STEP = 4.0      #: hPa between sea-level pressure contours
PRESSURE_COLOUR = "#202020"
NODE_COLOURS = {1: "#7a00cc", 2: "#008060"}   #: heuristic node kinds: tropical, extratropical
#: background fields: (colour map, scale to display units, display units, label, centred on zero)
BACKGROUNDS = {
    "pwat": ("GnBu", 1.0, "kg m-2", "precipitable water", False),
    "absv850": ("PuOr_r", 1e5, "1e-5 s-1", "850 hPa absolute vorticity", True),
}
#: GOES scenes: perceptual maps (brightness temperature: cold cloud tops bright; reflectance: grey)
GOES_CMAPS = {"K": "magma_r", "1": "gray"}
STORM_RADIUS = 15.0      #: degrees around a storm for ``around``


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


def map_axes(grid: MapGrid, projection: str = "auto", figsize=(11, 6.5), extent=None):
    """A Figure and a GeoAxes for ``grid`` with land, coastlines and borders drawn.

    ``extent`` (W, E, S, N in degrees) draws only that region (on PlateCarree for ``auto``).
    """
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
        mid = float(np.mean(extent[:2])) if extent is not None else 0.0 if grid.is_global else \
            float(np.mean(grid.extent()[:2]))
        robinson = projection == "robinson" or (projection == "auto" and grid.is_global and extent is None)
        target = ccrs.Robinson(central_longitude=mid) if robinson else ccrs.PlateCarree(central_longitude=mid)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot(1, 1, 1, projection=target)
    if extent is not None:
        ax.set_extent(list(extent), crs=ccrs.PlateCarree())
    elif grid.is_global:
        ax.set_global()
    else:
        ax.set_extent(grid.extent(), crs=grid.crs)
    scale = "110m" if grid.is_global and extent is None else "50m"
    ax.add_feature(cfeature.NaturalEarthFeature("physical", "land", scale), facecolor="#ececec", edgecolor="none", zorder=0)
    ax.coastlines(scale, linewidth=0.6, zorder=3)
    ax.add_feature(cfeature.NaturalEarthFeature("cultural", "admin_0_boundary_lines_land", scale),
                   facecolor="none", edgecolor="#555555", linewidth=0.4, zorder=3)
    gl = ax.gridlines(draw_labels=isinstance(target, ccrs.PlateCarree), linewidth=0.3, color="grey", alpha=0.6,
                      zorder=3)
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
               projection: str = "auto", label_var: str | None = None, track_window: str = "3h",
               fields: str | None = "auto", background: str | None = "auto", nodes: str | None = None,
               extent=None, around: str | None = None) -> str:
    """Draw the prediction store ``pred`` at ``time`` into ``out`` (PNG, PDF, SVG); returns the path.

    ``fields``: the grid store holding ``prmsl`` (Pa) and the background (``"auto"``: the store
    the predictions were made from, when it is there; None: none).  ``background``: ``pwat``,
    ``absv850``, ``"auto"`` (the first of them the store has) or None.  ``nodes``: a heuristic
    labels store whose detected nodes are marked.  ``extent`` (W, E, S, N degrees) or ``around``
    (a storm name or SID of ``tracks``, :data:`STORM_RADIUS` degrees around it) zoom in.
    """
    from matplotlib.lines import Line2D

    ds = _store.open_store(pred)
    if "probability" not in ds:
        raise GeopipeError(f"{pred}: no probability variable (is it a geopipe prediction store?)")
    step = select_time(ds, time, pred)
    grid = map_grid(ds, pred)
    if around:
        if not tracks:
            raise GeopipeError(f"--around {around}: give the best-track store (--tracks) that holds the storm")
        extent = storm_extent(tracks, around, step["time"].values)
    fig, ax = map_axes(grid, projection, extent=extent)
    field_notes = _synoptic_fields(fig, ax, ds, step["time"].values, fields, background, pred)
    prob = grid.field(step["probability"])
    thr = float(ds.attrs.get("threshold", step["mask"].attrs.get("threshold", 0.5)))
    import matplotlib

    # transparent below MIN_SHADED and where NaN (white in the colour bar's extension)
    # the opacity grows with the probability, so the fields beneath show through low values; an
    # artist-wide alpha would also make the transparent "under" colour opaque white
    colours = matplotlib.colormaps[PROB_CMAP](np.linspace(0.0, 1.0, 256))
    colours[:, 3] = np.linspace(0.35, 0.9, 256)
    cmap = matplotlib.colors.ListedColormap(colours).with_extremes(under=(1, 1, 1, 0), bad=(1, 1, 1, 0))
    mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(prob), cmap=cmap, vmin=MIN_SHADED, vmax=1.0,
                         shading="nearest", transform=grid.crs, zorder=2)
    handles = [Line2D([], [], color=PRESSURE_COLOUR, lw=0.7, label=f"sea-level pressure (every {PRESSURE_STEP:g} hPa)")] \
        if "prmsl" in field_notes else []
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
    if nodes:
        handles += _nodes(ax, nodes, step["time"].values)
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
    over = f" over {field_notes['background']}" if field_notes.get("background") else ""
    ax.set_title(f"{label}: valid {valid:%Y-%m-%d %H:%M} UTC{over}\nmodel {model}"
                 + (f"  ({'; '.join(notes + field_notes.get('notes', []))})" if notes or field_notes.get("notes") else ""),
                 fontsize=10)
    return save_figure(fig, out)


# ----------------------------------------------------------------------------- synoptic context


def _fields_store(ds: xr.Dataset, fields: str | None) -> str | None:
    """The grid store to take pressure and background from (``auto``: the prediction's input store)."""
    if fields != "auto":
        return fields
    source = ds.attrs.get("input_store")
    return source if source and _store.exists(source) else None


def _synoptic_fields(fig, ax, ds: xr.Dataset, time, fields, background, where: str) -> dict:
    """Shade the background field and contour sea-level pressure; returns what was drawn."""
    source = _fields_store(ds, fields)
    if not source:
        return {}
    grid_ds = _store.open_store(source)
    try:
        step = select_time(grid_ds, time, source)
    except GeopipeError:
        return {"notes": [f"no fields at this time in {str(source).rstrip('/').rsplit('/', 1)[-1]}"]}
    grid = map_grid(grid_ds, source)
    drawn: dict = {}
    name = next((n for n in BACKGROUNDS if n in grid_ds), None) if background == "auto" else background
    if name:
        if name not in grid_ds:
            raise GeopipeError(f"{source}: no background field {name!r} (have {', '.join(map(str, grid_ds.data_vars))})")
        cmap, scale, units, text, centred = BACKGROUNDS.get(name, ("cividis", 1.0, grid_ds[name].attrs.get("units", ""),
                                                                   name, False))
        values = grid.field(step[name]) * scale
        lo, hi = np.nanpercentile(values, [2, 98]) if np.isfinite(values).any() else (0.0, 1.0)
        if centred:
            lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
        mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(values), cmap=cmap, vmin=lo, vmax=hi,
                             shading="nearest", transform=grid.crs, zorder=1, alpha=0.85)
        fig.colorbar(mesh, ax=ax, orientation="vertical", shrink=0.7, pad=0.02, label=f"{text} ({units})")
        drawn["background"] = text
    if "prmsl" in grid_ds:
        units = str(grid_ds["prmsl"].attrs.get("units", "Pa"))
        hpa = grid.field(step["prmsl"]) / (1.0 if units in ("hPa", "mbar", "mb") else 100.0)
        if np.isfinite(hpa).any():
            levels = np.arange(np.floor(np.nanmin(hpa) / PRESSURE_STEP) * PRESSURE_STEP,
                               np.nanmax(hpa) + PRESSURE_STEP, PRESSURE_STEP)
            cs = ax.contour(grid.x, grid.y, hpa, levels=levels, colors=PRESSURE_COLOUR, linewidths=0.7,
                            transform=grid.crs, zorder=4)
            ax.clabel(cs, levels=levels[::2], fmt="%d", fontsize=7, inline=True)
            drawn["prmsl"] = True
    return drawn


def _nodes(ax, nodes: str, time) -> list:
    """Mark the heuristic detector's nodes at ``time`` (kind: tropical / extratropical)."""
    import cartopy.crs as ccrs
    from matplotlib.lines import Line2D

    from geopipe.labels.heuristic import read_tables, tables_path

    table = tables_path(nodes) if "mask" in _store.open_store(nodes).data_vars else nodes
    frame, _ = read_tables(table)
    now = frame[pd.DatetimeIndex(frame["time"]) == pd.Timestamp(time)]
    handles = []
    for kind, text in ((1, "tropical"), (2, "extratropical")):
        sel = now[now["kind"] == kind]
        ax.scatter(sel["lon"], sel["lat"], marker="^", s=42, facecolor=NODE_COLOURS[kind], edgecolor="white",
                   linewidth=0.6, transform=ccrs.PlateCarree(), zorder=8)
        handles.append(Line2D([], [], color=NODE_COLOURS[kind], marker="^", ls="none",
                              label=f"detected {text} nodes ({len(sel)})"))
    return handles


def storm_extent(tracks: str, storm: str, time, radius: float = STORM_RADIUS) -> list[float]:
    """W, E, S, N (degrees) of a box ``radius`` degrees around ``storm`` (name or SID) at ``time``."""
    from geopipe import tracks as _tracks_mod

    now = _tracks_mod.positions([pd.Timestamp(time)], _tracks_mod.load(tracks), window="6h")
    hit = now[(now["sid"].astype(str) == storm) | (now["name"].astype(str).str.upper() == storm.upper())]
    if hit.empty:
        names = ", ".join(sorted({str(n) for n in now["name"]})) or "none"
        raise GeopipeError(f"{tracks}: no storm {storm!r} near {pd.Timestamp(time)} (active then: {names})")
    lat, lon = float(hit["lat"].iloc[0]), float(hit["lon"].iloc[0])
    lon = (lon + 180.0) % 360.0 - 180.0
    return [lon - radius, lon + radius, max(-90.0, lat - radius * 0.75), min(90.0, lat + radius * 0.75)]


def render_goes_scene(store: str, time, out, var: str | None = None, tracks: str | None = None,
                      extent=None) -> str:
    """Draw one GOES scene of ``store`` (a ``geopipe ingest goes`` store) on its geostationary projection.

    Brightness temperatures (K) are drawn with a reversed magma map (cold cloud tops bright),
    reflectances with grey; both are perceptually uniform.  ``var`` defaults to the first
    data variable on the fixed grid.
    """
    import matplotlib

    ds = _store.open_store(store)
    grid = map_grid(ds, store)
    if not grid.geostationary:
        raise GeopipeError(f"{store}: not a GOES fixed-grid store (no goes_imager_projection)")
    names = [n for n, v in ds.data_vars.items() if {"y", "x"} <= set(v.dims) and "time" in v.dims]
    var = var or (names[0] if names else None)
    if var not in ds.data_vars:
        raise GeopipeError(f"{store}: no scene variable {var!r} (have {', '.join(names) or 'none'})")
    step = select_time(ds, time, store)
    values = grid.field(step[var])
    units = str(ds[var].attrs.get("units", ""))
    cmap = matplotlib.colormaps[GOES_CMAPS.get(units, "cividis")].with_extremes(bad=(1, 1, 1, 0))
    fig, ax = map_axes(grid, "auto", figsize=(10, 7), extent=extent)
    lo, hi = np.nanpercentile(values, [1, 99]) if np.isfinite(values).any() else (0.0, 1.0)
    mesh = ax.pcolormesh(grid.x, grid.y, np.ma.masked_invalid(values), cmap=cmap, vmin=lo, vmax=hi,
                         shading="nearest", transform=grid.crs, zorder=1)
    if tracks:
        _tracks(ax, tracks, step["time"].values)
    long_name = ds[var].attrs.get("long_name") or var
    fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.6, pad=0.03, label=f"{long_name} ({units})")
    sat = ds.attrs.get("platform_ID") or ds.attrs.get("platform") or "GOES"
    fig.suptitle(f"{sat} {var}: {pd.Timestamp(step['time'].values):%Y-%m-%d %H:%M} UTC, geostationary view from "
                 f"{float(ds['goes_imager_projection'].attrs['longitude_of_projection_origin']):g}°", fontsize=10)
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
