"""Errors that the CLI prints as one line: which file, what is wrong."""

from __future__ import annotations

import re


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


_NO_VALUE = object()
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class ParameterError(GeopipeError):
    """A bad parameter value: names the parameter (as the library function spells it) and the value.

    The CLI re-spells the names as its flags (``radius_km`` -> ``--radius-km``) with :meth:`describe`;
    a Prefect flow or a notebook reads the names it passed.  Other parameters named in ``problem``
    are written ``{name}`` and re-spelled the same way (``"needs {start} and {end}"``).
    """

    def __init__(self, name: str | tuple[str, ...], problem: str, value=_NO_VALUE):
        self.names = (name,) if isinstance(name, str) else tuple(name)
        self.problem = problem
        self.value = value
        super().__init__(self.describe())

    def describe(self, spell=lambda name: name) -> str:
        names = "/".join(spell(n) for n in self.names)
        value = "" if self.value is _NO_VALUE else f" {self.value!r}"
        problem = _PLACEHOLDER.sub(lambda m: spell(m.group(1)), self.problem)
        return f"{names}{value}: {problem}"
