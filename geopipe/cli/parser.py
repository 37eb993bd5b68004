"""Argument parsers that are filled in only when they are used.

``geopipe --help`` needs the verb names, not every option of every source reader; a
:class:`LazyParser` calls its ``fill`` function (which adds the arguments, and may import the
module that declares them) the first time it parses or formats its help.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


class LazyParser(argparse.ArgumentParser):
    def __init__(self, *args, fill: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._fill = fill

    def fill(self) -> LazyParser:
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self)
        return self

    def parse_known_args(self, args=None, namespace=None):
        self.fill()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.fill()
        return super().format_help()

    def format_usage(self) -> str:
        self.fill()
        return super().format_usage()


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def walk(parser: argparse.ArgumentParser):
    """Every parser of the tree (filling lazy ones): what the tests use to check every verb."""
    if isinstance(parser, LazyParser):
        parser.fill()
    yield parser
    sub = subcommands(parser)
    for child in dict.fromkeys(sub.choices.values()) if sub else ():
        yield from walk(child)


def chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub-)parser of the verb that parsed ``args``."""
    while (sub := subcommands(parser)) is not None and getattr(args, sub.dest, None) in sub.choices:
        parser = sub.choices[getattr(args, sub.dest)]
    return parser


def flag_of(parser: argparse.ArgumentParser, name: str) -> str | None:
    """The command-line spelling of the library parameter ``name`` on this verb (``radius_km`` ->
    ``--radius-km``; a positional keeps its metavar)."""
    for action in parser._actions:
        if action.dest == name:
            if action.option_strings:
                return max(action.option_strings, key=len)
            return action.metavar or action.dest.upper()
    return None


def add_lazy_parser(sub: argparse._SubParsersAction, name: str, fill, **kwargs) -> argparse.ArgumentParser:
    """``sub.add_parser(name, **kwargs)`` filled by ``fill`` when first used (at once when ``sub``
    was made without ``parser_class=LazyParser``, e.g. by a test building its own parser)."""
    if isinstance(sub._parser_class, type) and issubclass(sub._parser_class, LazyParser):
        return sub.add_parser(name, fill=fill, **kwargs)
    parser = sub.add_parser(name, **kwargs)
    fill(parser)
    return parser
