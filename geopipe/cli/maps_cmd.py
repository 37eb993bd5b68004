"""``geopipe map`` (prediction maps, forecast plots) and ``geopipe explain`` (saliency maps)."""

from __future__ import annotations

from geopipe.cli.common import csv_list
from geopipe.errors import GeopipeError


def register(sub) -> None:
    p = sub.add_parser("map", help="draw a prediction map or a SYM-H forecast plot (offline Cartopy)",
                       description="--pred: probability, threshold contour, truth contours, best tracks at --time. "
                                   "--forecasts: observed, forecast at --lead and persistence against valid time.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--pred", help="prediction store (geopipe predict of a segmentation model)")
    what.add_argument("--forecasts", help="forecast store (geopipe predict of a forecast model)")
    what.add_argument("--goes", help="GOES store: draw the scene at --time on its geostationary projection")
    p.add_argument("--time", help="valid time of the map (ISO 8601, UTC)")
    p.add_argument("--tracks", help="best-track store (ibtracs) for positions and names")
    p.add_argument("--labels", help="labels store: truth contours")
    p.add_argument("--label-var", help="variable of the labels store (default mask)")
    p.add_argument("--projection", default="auto", choices=["auto", "platecarree", "robinson", "geostationary"])
    p.add_argument("--fields", default="auto", help="grid store with prmsl and the background (default: the store "
                                                    "the predictions were made from; 'none': no fields)")
    p.add_argument("--background", default="auto", help="field shaded under the pressure contours: pwat, absv850, "
                                                        "auto (the first the store has) or none")
    p.add_argument("--nodes", help="heuristic labels store: mark the detector's nodes")
    p.add_argument("--around", help="zoom on this storm of --tracks (name or SID)")
    p.add_argument("--extent", help="W,E,S,N in degrees: draw only this region (write --extent=-100,-60,10,40)")
    p.add_argument("--var", help="GOES scene variable (default: the first on the fixed grid)")
    p.add_argument("--start", help="forecast plot: first valid time")
    p.add_argument("--end", help="forecast plot: last valid time")
    p.add_argument("--lead", type=int, default=60, help="forecast plot: lead in minutes (default 60)")
    p.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    p.set_defaults(func=cmd_map)

    e = sub.add_parser("explain", help="saliency map (gradient x input) of a segmentation model at one time")
    e.add_argument("--model", required=True, help="model folder")
    e.add_argument("--store", required=True, help="input grid store")
    e.add_argument("--time", required=True, help="time to explain (ISO 8601, UTC)")
    e.add_argument("--out", required=True, help="FILE.png (map) or STORE.zarr (saliency fields)")
    e.add_argument("--zarr", help="also append the saliency fields to this store")
    e.add_argument("--region", help="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX: explain this box, not the predicted mask "
                                          "(write --region=-30,-10,175,-175 when it starts with a minus)")
    e.set_defaults(func=cmd_explain)


def cmd_map(args) -> int:
    from geopipe import maps

    if args.pred:
        if not args.time:
            raise GeopipeError("geopipe map --pred needs --time")
        path = maps.render_map(args.pred, args.time, args.out, tracks=args.tracks, labels=args.labels,
                               projection=args.projection, label_var=args.label_var,
                               fields=None if args.fields == "none" else args.fields,
                               background=None if args.background == "none" else args.background,
                               nodes=args.nodes, extent=_extent(args.extent), around=args.around)
    elif args.goes:
        if not args.time:
            raise GeopipeError("geopipe map --goes needs --time")
        path = maps.render_goes_scene(args.goes, args.time, args.out, var=args.var, tracks=args.tracks,
                                      extent=_extent(args.extent))
    else:
        path = maps.render_forecast_plot(args.forecasts, args.out, start=args.start, end=args.end, lead=args.lead)
    print(path)
    return 0


def _extent(text: str | None) -> list[float] | None:
    if not text:
        return None
    values = [float(v) for v in csv_list(text)]
    if len(values) != 4:
        raise GeopipeError(f"--extent {text!r}: expected W,E,S,N in degrees")
    return values


def cmd_explain(args) -> int:
    region = None
    if args.region:
        try:
            region = [float(v) for v in csv_list(args.region)]
        except ValueError:
            region = []
        if len(region) != 4:
            raise GeopipeError(f"--region {args.region!r}: expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX")
    from geopipe import explain

    found = explain.saliency_at(args.model, args.store, args.time, region=region)
    to_zarr = str(args.out).endswith(".zarr")
    for zarr in dict.fromkeys(z for z in (args.zarr, args.out if to_zarr else None) if z):
        explain.write(found, zarr)
    if to_zarr:
        path = str(args.out)
    else:
        from geopipe.saliency_map import draw

        path = draw(found, args.out)
    print(path)
    return 0
