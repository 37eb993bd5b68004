"""Errors that the CLI prints as one line: which file, what is wrong."""

from __future__ import annotations


class GeopipeError(Exception):
    """Base class: the message is a complete one-line explanation for a user."""


class InputError(GeopipeError):
    """A bad input file: names the file and the problem (and the line when known)."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class CatalogError(GeopipeError):
    """A catalog entry that does not validate: names the file, the entry and the field."""


class StoreError(GeopipeError):
    """A store that cannot take the write asked of it (grid mismatch, bad path, ...)."""


class RemoteError(GeopipeError):
    """A remote file that could not be fetched or verified after retries."""
