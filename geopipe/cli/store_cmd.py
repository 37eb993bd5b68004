"""``geopipe store info|repair STORE``."""

from __future__ import annotations

from geopipe.cli.common import emit
from geopipe.lazy import lazy_import

store = lazy_import("geopipe.store")


def register(sub) -> None:
    p = sub.add_parser("store", help="inspect or repair a Zarr store")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    ip = ssub.add_parser("info", help="dimensions, variables and provenance of a store")
    ip.add_argument("store")
    ip.add_argument("--json", action="store_true")
    ip.set_defaults(func=cmd_info)
    rp = ssub.add_parser("repair", help="finish an append a killed writer left unpublished")
    rp.add_argument("store")
    rp.set_defaults(func=cmd_repair)


def cmd_info(args) -> int:
    ds = store.open_store(args.store)
    info = {"store": args.store, "dims": dict(ds.sizes), "variables": list(ds.data_vars),
            "sources": store.sources_of(args.store), "history": ds.attrs.get("history", "")}
    emit(info, as_json=args.json, text=None if args.json else str(ds))
    return 0


def cmd_repair(args) -> int:
    had = store.repair(args.store)
    print(f"{args.store}: {'finished an interrupted append' if had else 'nothing to repair'}")
    return 0
