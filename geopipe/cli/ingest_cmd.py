"""``geopipe ingest SOURCE INPUT... --store STORE``: one sub-command per registered reader."""

from __future__ import annotations

import os

from geopipe.cli.common import emit
from geopipe.ingest import ingest
from geopipe.sources import READERS, reader_class


def register(sub) -> None:
    p = sub.add_parser("ingest", help="ingest raw files or URLs into a Zarr store")
    isub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name in READERS:
        cls = reader_class(name)
        sp = isub.add_parser(name, help=(cls.__doc__ or name).strip().splitlines()[0])
        sp.add_argument("inputs", nargs="*", metavar="SOURCE", help="files, folders, globs or URLs")
        sp.add_argument("--store", help="output store (name under the data root, path or URL); default: the catalog product")
        sp.add_argument("--keep-going", action="store_true",
                        help="quarantine bad files and ingest the rest (default when given several inputs)")
        sp.add_argument("--json", action="store_true", help="print the report as JSON")
        sp.add_argument("--allow-out-of-range", action="store_true",
                        help="keep values outside catalog/valid_ranges.yaml, flagged in the store's provenance")
        cls.add_arguments(sp)
        sp.set_defaults(func=cmd_ingest, reader=name)


def cmd_ingest(args) -> int:
    from geopipe.catalog import load

    cls = reader_class(args.reader)
    options = cls.options(args)
    inputs = options.pop("inputs", None) or args.inputs
    if not inputs:
        raise SystemExit(f"geopipe ingest {args.reader}: give at least one SOURCE (file, folder, glob or URL)")
    store = args.store or load().store_path(load().source(args.reader).product)
    # one file named on its own: fail loudly; folders, globs and batches: quarantine and go on
    strict = not args.keep_going and len(inputs) == 1 and os.path.isfile(inputs[0])
    report = ingest(args.reader, inputs, store, strict=strict, storage_options=options.pop("storage_options", None),
                    allow_out_of_range=args.allow_out_of_range, **options)
    emit(report.to_dict(), as_json=args.json, text=report.summary())
    return 1 if report.quarantined else 0
