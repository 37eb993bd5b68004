"""The ``geopipe`` command: parses arguments, calls the library, prints one-line errors.

Each verb lives in its own module with ``register(subparsers)``; :data:`COMMANDS` lists them.
Verb modules import nothing heavy at module level (``geopipe --help`` starts at once; see
``tests/test_startup.py``): the library is imported inside the ``cmd_*`` functions.
The options every verb shares are declared once, in :func:`add_global_options`.
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

import geopipe  # noqa: E402,F401  (installs the pyproj-before-eccodes guard; see geopipe/__init__.py)
from geopipe.cli.parser import LazyParser, chosen, flag_of  # noqa: E402
from geopipe.errors import GeopipeError, ParameterError, reason  # noqa: E402

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
    "geopipe.cli.sources_cmd",
]


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"geopipe {geopipe.__version__}")
        parser.exit()


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The options of every verb (given before the verb): the one place to add another."""
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument("--root", help="data root (default: $GEOPIPE_ROOT or ./data)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks, debug logs and what TensorFlow/eccodes print")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress, errors only")


def apply_global_options(args: argparse.Namespace, whole_process: bool = True) -> None:
    """The data root, logging, native stderr lines and progress display from the global options.

    Only the ``geopipe`` command itself (``whole_process``) takes over logging and fd 2; a
    ``main([...])`` called inside another program (a test) leaves them to that program.
    """
    from geopipe import logs, progress

    if args.root:
        os.environ["GEOPIPE_ROOT"] = args.root
    if whole_process:
        logs.setup(quiet=args.quiet, verbose=args.verbose, debug=args.debug)
    progress.configure("off" if args.quiet else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geopipe",
        description="Raw geoscience archives to Zarr, labels, patches, Keras models and maps.",
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=LazyParser)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def error_line(exc: BaseException, verb: argparse.ArgumentParser | None = None) -> str:
    """The one line a user reads: the library's message with parameter names spelled as this
    verb's flags, and never an exception class name."""
    if isinstance(exc, ParameterError):
        return exc.describe(lambda name: (flag_of(verb, name) if verb is not None else None) or name)
    if isinstance(exc, GeopipeError):
        return str(exc)
    return f"{reason(exc)} (an unexpected error: run with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except GeopipeError as exc:  # a verb filled from the catalog (ingest SOURCE) met a bad catalog
        print(f"geopipe: error: {error_line(exc)}", file=sys.stderr)
        return 2
    apply_global_options(args, whole_process=argv is None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("geopipe: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a raw traceback for users; --debug shows it
        if args.debug:
            raise
        print(f"geopipe: error: {error_line(exc, chosen(parser, args))}", file=sys.stderr)
        return 2 if isinstance(exc, GeopipeError) else 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
