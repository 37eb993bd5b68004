"""``geopipe ingest SOURCE INPUT... --store STORE``: one sub-command per registered reader.

The verbs are generated from the reader registry (:data:`geopipe.sources.READERS`): a new source
is its reader module (with ``add_arguments``/``options``) plus its catalog entry, and no edit
here.  Each verb's parser is filled only when that verb is used, so ``geopipe ingest --help``
does not import every reader.
"""

from __future__ import annotations

import os

from geopipe.cli.common import emit
from geopipe.cli.parser import LazyParser, add_lazy_parser


def add_common_arguments(p) -> None:
    """The options every ``geopipe ingest SOURCE`` verb has (the reader adds its own)."""
    p.add_argument("inputs", nargs="*", metavar="SOURCE", help="files, folders, globs or URLs")
    p.add_argument("--store", help="output store (name under the data root, path or URL); default: the catalog product")
    p.add_argument("--keep-going", action="store_true",
                   help="quarantine bad files and ingest the rest (default when given several inputs)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--dry-run", action="store_true",
                   help="print every URL (GOES: bucket prefix) it would fetch, one per line, and stop")


def _fill_source(name: str):
    def fill(p) -> None:
        from geopipe.sources import reader_class

        add_common_arguments(p)
        reader_class(name).add_arguments(p)
        p.set_defaults(func=cmd_ingest, reader=name)

    return fill


def _fill_ingest(p) -> None:
    from geopipe.sources import READERS, describe

    isub = p.add_subparsers(dest="source", metavar="SOURCE", required=True, parser_class=LazyParser)
    for name in READERS:
        add_lazy_parser(isub, name, _fill_source(name), help=describe(name))


def register(sub) -> None:
    add_lazy_parser(sub, "ingest", _fill_ingest, help="ingest raw files or URLs into a Zarr store")


def cmd_ingest(args) -> int:
    from geopipe.catalog import load
    from geopipe.ingest import ingest
    from geopipe.sources import reader_class

    cls = reader_class(args.reader)
    options = cls.options(args)
    plan = options.pop("remote_inputs", None)
    if args.dry_run:  # touches no network
        print("\n".join(plan.lines() if plan else list(args.inputs or [])))
        return 0
    inputs = options.pop("inputs", None) or args.inputs
    if plan:
        inputs = list(inputs or []) + plan.resolve()
        options.setdefault("remote_options", plan.storage_options or None)
    if not inputs:
        raise SystemExit(f"geopipe ingest {args.reader}: give at least one SOURCE (file, folder, glob or URL)")
    store = args.store or load().store_path(load().source(args.reader).product)
    # one file named on its own: fail loudly; folders, globs and batches: quarantine and go on
    strict = not args.keep_going and len(inputs) == 1 and os.path.isfile(inputs[0])
    report = ingest(args.reader, inputs, store, strict=strict, storage_options=options.pop("storage_options", None), **options)
    emit(report.to_dict(), as_json=args.json, text=report.summary())
    return 1 if report.quarantined else 0
