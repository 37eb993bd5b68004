"""``geopipe sources check``: is every configured remote reachable from this machine?"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("sources", help="the catalog's remote sources")
    ssub = p.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    c = ssub.add_parser("check", help="try each configured remote with one small request")
    c.add_argument("names", nargs="*", metavar="SOURCE", help="sources to check (default: all)")
    c.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from geopipe.sources.check import check_all

    results = check_all(args.names or None)
    for r in results:
        print(r.line())
    return 0 if all(r.status == "reachable" for r in results) else 1
