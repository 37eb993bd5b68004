"""``geopipe catalog list|show NAME``."""

from __future__ import annotations

from geopipe.cli.common import emit
from geopipe.errors import CatalogError


def register(sub) -> None:
    p = sub.add_parser("catalog", help="list and show catalog sources, products and grids")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    lp = csub.add_parser("list", help="list sources (with their products), products and grids")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=cmd_list)
    sp = csub.add_parser("show", help="show one source, product or grid")
    sp.add_argument("name")
    sp.add_argument("--json", action="store_true",
                    help="as JSON (a product: its declared layout, dims, chunks, coords, variables)")
    sp.set_defaults(func=cmd_show)


def cmd_list(args) -> int:
    from geopipe.catalog import load

    cat = load()
    if args.json:
        emit({"sources": {n: s.product for n, s in cat.sources.items()}, "products": {n: p.store for n, p in cat.products.items()},
              "grids": list(cat.grids)}, as_json=True)
        return 0
    lines = ["SOURCES"]
    for n, s in cat.sources.items():
        lines.append(f"  {n:<10} -> product {s.product:<10} {s.title}")
    lines.append("PRODUCTS")
    for n, p in cat.products.items():
        lines.append(f"  {n:<18} {p.store:<24} dims ({', '.join(p.dims)})")
    lines.append("GRIDS")
    for n, g in cat.grids.items():
        lines.append(f"  {n:<18} {g.lat.size} x {g.lon.size} (lat x lon), {abs(g.lat.step)} deg")
    print("\n".join(lines))
    return 0


def cmd_show(args) -> int:
    import yaml

    from geopipe import layout
    from geopipe.catalog import load

    cat = load()
    for kind, table in (("source", cat.sources), ("product", cat.products), ("grid", cat.grids)):
        if args.name in table:
            entry = layout.declaration(args.name) if kind == "product" else table[args.name].model_dump()
            if getattr(args, "json", False):
                emit(entry, as_json=True)
                return 0
            print(f"# {kind} {args.name}")
            print(yaml.safe_dump(entry, sort_keys=False).rstrip())
            return 0
    raise CatalogError(f"nothing named {args.name!r} in the catalog (sources: {', '.join(cat.sources)}; "
                       f"products: {', '.join(cat.products)}; grids: {', '.join(cat.grids)})")
