"""Small text forms the CLI, the flows and the library all accept, each parsed in one place."""

from __future__ import annotations

import re

from geopipe.errors import ParameterError


def csv_list(value: str | None) -> list[str] | None:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; nothing -> None."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def store_vars(value, name: str = "inputs") -> tuple[str, list[str]]:
    """``STORE:VAR[,VAR...]`` (or a ``(store, [var, ...])`` pair) -> ``(store, [var, ...])``.

    The store may be a URL: the text is split at the last ``:``.  ``name`` is the parameter the
    text came in (it names the error).
    """
    if not isinstance(value, str):
        store, variables = value
        return str(store), list(variables)
    store, sep, names = value.rpartition(":")
    variables = csv_list(names)
    if not sep or not store or not variables:
        raise ParameterError(name, "expected STORE:VAR[,VAR...]", value)
    return store, variables


def driver_store(value) -> tuple[str, list[str]]:
    """``STORE[:VAR,...]`` (or a pair) -> ``(store, [var, ...])``; no variables: the default drivers.

    The store may be a URL: only a trailing ``:name,name`` list is taken as variables.
    """
    if not isinstance(value, str):
        store, variables = value
        return str(store), list(variables or [])
    store, sep, names = value.rpartition(":")
    if sep and store and re.fullmatch(r"[A-Za-z_][\w\-]*(,[A-Za-z_][\w\-]*)*", names):
        return store, csv_list(names)
    return value, []
