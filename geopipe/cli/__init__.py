"""The ``geopipe`` command: parses arguments, calls the library, prints one-line errors.

Each verb lives in its own module with ``register(subparsers)``; :data:`COMMANDS` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# geopipe's own log records reach the flow-run page of the Prefect UI (they are INFO, not prints)
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "geopipe")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
# on a loaded machine the ephemeral server of `geopipe demo` takes longer than Prefect's 20 s
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import geopipe  # noqa: E402  (loads pyproj before eccodes; see geopipe/__init__.py)
from geopipe.errors import GeopipeError  # noqa: E402

#: the verb modules, in the order ``geopipe --help`` lists them
COMMANDS = [
    "geopipe.cli.catalog_cmd",
    "geopipe.cli.ingest_cmd",
    "geopipe.cli.labels_cmd",
    "geopipe.cli.datasets_cmd",
    "geopipe.cli.train_cmd",
    "geopipe.cli.predict_cmd",
    "geopipe.cli.maps_cmd",
    "geopipe.cli.run_cmd",
    "geopipe.cli.sample_cmd",
    "geopipe.cli.demo_cmd",
    "geopipe.cli.serve_cmd",
    "geopipe.cli.store_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geopipe",
        description="Raw geoscience archives to Zarr, labels, patches, Keras models and maps.",
    )
    parser.add_argument("--version", action="version", version=f"geopipe {geopipe.__version__}")
    parser.add_argument("--root", help="data root (default: $GEOPIPE_ROOT or ./data)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks, debug logs and what TensorFlow/eccodes print")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress, errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def _console(args, whole_process: bool) -> None:
    """Logging, native stderr lines and progress display from the global options.

    Only the ``geopipe`` command itself (``whole_process``) takes over logging and fd 2; a
    ``main([...])`` called inside another program (a test) leaves them to that program.
    """
    from geopipe import logs, progress

    if whole_process:
        logs.setup(quiet=args.quiet, verbose=args.verbose, debug=args.debug)
    progress.configure("off" if args.quiet else None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.root:
        os.environ["GEOPIPE_ROOT"] = args.root
    _console(args, whole_process=argv is None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
    except GeopipeError as exc:
        if args.debug:
            raise
        print(f"geopipe: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geopipe: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a raw traceback for users; --debug shows it
        if args.debug:
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"geopipe: error: {type(exc).__name__}: {msg} (run with --debug for the traceback)", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
