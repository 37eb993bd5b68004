"""``geopipe labels ibtracs|heuristic|tracks|storms``: label stores from best tracks, a detector, SYM-H."""

from __future__ import annotations

from geopipe.cli.common import emit


def register(sub) -> None:
    p = sub.add_parser("labels", help="make label stores (best-track masks, heuristic cyclones, geomagnetic storms)")
    lsub = p.add_subparsers(dest="labels_command", metavar="KIND", required=True)

    ip = lsub.add_parser("ibtracs", help="masks of the best-track storms active at each time of a grid store")
    ip.add_argument("--grid-store", default=None, help="gridded store whose time/latitude/longitude to label (default: catalog gfs)")
    ip.add_argument("--tracks", default=None, help="IBTrACS store (default: catalog ibtracs)")
    ip.add_argument("--out", default=None, help="labels store (default: catalog labels_ibtracs)")
    shape = ip.add_mutually_exclusive_group()
    shape.add_argument("--box", type=int, default=None, help="square box of N x N grid pixels (catalog default: 25)")
    shape.add_argument("--radius-km", type=float, default=None, help="great-circle disc of this radius instead")
    ip.add_argument("--window", default=None, help="a storm is active within this time of a fix (e.g. 3h)")
    ip.add_argument("--chunk", type=int, default=None, help="times per Dask task and per chunk")
    ip.add_argument("--json", action="store_true")
    ip.set_defaults(func=cmd_ibtracs)

    hp = lsub.add_parser("heuristic", help="detect, track and mask cyclones in a GFS store (TempestExtremes-like)")
    hp.add_argument("--store", default=None, help="gridded store with prmsl (default: catalog gfs)")
    hp.add_argument("--out", default=None, help="labels store (default: catalog labels_heuristic)")
    hp.add_argument("--tracks", default=None, help="IBTrACS store: score the tropical tracks (POD/FAR/CSI)")
    hp.add_argument("--mask", choices=["contour", "radius"], default=None, help="node region (catalog default: contour)")
    hp.add_argument("--mask-radius-km", type=float, default=None)
    hp.add_argument("--min-duration-h", type=float, default=None, help="drop shorter tracks (catalog default: 24)")
    hp.add_argument("--diag-connect", action="store_true", default=None, help="8-neighbour grid graph (TempestExtremes --diag_connect)")
    hp.add_argument("--nodes-out", default=None, help="also write the nodes as a TempestExtremes DetectNodes file")
    hp.add_argument("--tracks-out", default=None, help="also write the paths as a TempestExtremes StitchNodes GFDL file")
    hp.add_argument("--chunk", type=int, default=None, help="times per Dask task and per chunk (default: the catalog's)")
    hp.add_argument("--json", action="store_true")
    hp.set_defaults(func=cmd_heuristic)

    tp = lsub.add_parser("tracks", help="disc masks around the nodes of a TempestExtremes track or node file")
    tp.add_argument("--tracks", required=True, help="StitchNodes GFDL track file or DetectNodes node file")
    tp.add_argument("--grid-store", default=None, help="gridded store whose times and grid to label (default: catalog gfs)")
    tp.add_argument("--out", required=True, help="labels store")
    tp.add_argument("--radius-km", type=float, default=500.0)
    tp.add_argument("--columns", default=None, help="names of the value columns after lon,lat (e.g. MSL,VOS850)")
    tp.add_argument("--chunk", type=int, default=8)
    tp.add_argument("--json", action="store_true")
    tp.set_defaults(func=cmd_tracks)

    sp = lsub.add_parser("storms", help="geomagnetic storm events and a class per minute from SYM-H")
    sp.add_argument("--store", default=None, help="ISGI store with sym_h (default: catalog isgi)")
    sp.add_argument("--out", default=None, help="storms store (default: catalog storms)")
    sp.add_argument("--variable", default="sym_h")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_storms)


def _product(value: str | None, product: str) -> str:
    if value:
        return value
    from geopipe.catalog import load

    return load().store_path(product)


def cmd_ibtracs(args) -> int:
    from geopipe.labels.roi import label_ibtracs

    s = label_ibtracs(_product(args.grid_store, "gfs"), _product(args.tracks, "ibtracs"),
                      _product(args.out, "labels_ibtracs"), box=args.box, radius_km=args.radius_km,
                      window=args.window, chunk=args.chunk)
    shape = f"{s['radius_km']:g} km discs" if s.get("radius_km") else f"{s.get('box')}-pixel boxes"
    emit(s, as_json=args.json, text=f"{s['store']}: {s['written']} times written, {s['skipped']} already there; "
                                     f"{s['storms']} storms marked as {shape}")
    return 0


def cmd_heuristic(args) -> int:
    from geopipe.labels.heuristic import heuristic_labels

    detect = {k: v for k, v in (("mask", args.mask), ("mask_radius_km", args.mask_radius_km),
                                ("diag_connect", args.diag_connect)) if v is not None}
    stitch = {"min_duration_h": args.min_duration_h} if args.min_duration_h is not None else None
    s = heuristic_labels(_product(args.store, "gfs"), _product(args.out, "labels_heuristic"), tracks=args.tracks,
                         detect=detect or None, stitch_params=stitch, nodes_out=args.nodes_out,
                         tracks_out=args.tracks_out, **({"chunk": args.chunk} if args.chunk else {}))
    k = s["tracks_by_kind"]
    kinds = ", ".join(f"{k[n]} {n}" for n in ("tropical", "extratropical", "cyclone") if n != "cyclone" or k[n])
    text = (f"{s['store']}: {s['written']} times written, {s['skipped']} already there; {s['nodes']} nodes, "
            f"{s['tracks']} tracks ({kinds}); tables in {s['tables']}")
    for key in ("nodes_out", "tracks_out"):
        if key in s:
            text += f"\nTempestExtremes {key.split('_')[0]} file: {s[key]}"
    if "skill" in s:
        sk = s["skill"]
        fmt = lambda v: "n/a" if v is None else f"{v:.2f}"
        text += (f"\nskill vs best tracks: POD {fmt(sk['pod'])}  FAR {fmt(sk['far'])}  CSI {fmt(sk['csi'])} "
                 f"(hits {sk['hits']}, misses {sk['misses']}, false alarms {sk['false_alarms']}); {s['skill_json']}")
    emit(s, as_json=args.json, text=text)
    return 0


def cmd_tracks(args) -> int:
    from geopipe.labels.te_labels import label_te_tracks

    columns = [c for c in args.columns.split(",") if c] if args.columns else None
    s = label_te_tracks(_product(args.grid_store, "gfs"), args.tracks, args.out, radius_km=args.radius_km,
                        columns=columns, chunk=args.chunk)
    emit(s, as_json=args.json, text=f"{s['store']}: {s['written']} times written, {s['skipped']} already there; "
                                     f"{s['nodes']} nodes of {s['tracks']} tracks marked as {s['radius_km']:g} km discs "
                                     f"(from the {s['kind']} file {s['source']})")
    return 0


def cmd_storms(args) -> int:
    from geopipe.labels.storms import label_storms

    s = label_storms(_product(args.store, "isgi"), _product(args.out, "storms"), variable=args.variable)
    c = s["by_class"]
    deep = s["deepest"]
    text = (f"{s['store']}: {s['events']} storms ({c['moderate']} moderate, {c['intense']} intense, {c['super']} super) "
            f"over {s['minutes']} steps" + (f"; deepest {deep['peak_nt']:g} nT at {deep['peak_time']}" if deep else "")
            + f"; events in {s['csv']}")
    emit(s, as_json=args.json, text=text)
    return 0
