"""Defaults live once: the library, the CLI and the flows agree because they read one declaration."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from geopipe.cli import build_parser
from geopipe.cli.parser import subcommands
from geopipe.datasets.defaults import PATCHES, WINDOWS

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _cli_default(verb: str, dest: str):
    parser = subcommands(build_parser()).choices[verb]
    return next(a.default for a in parser._actions if a.dest == dest)


@pytest.mark.parametrize("verb,function,name,value", [
    ("patches", "geopipe.datasets.patches:build_patches", "size", PATCHES.size),
    ("patches", "geopipe.datasets.patches:build_patches", "neg_ratio", PATCHES.neg_ratio),
    ("windows", "geopipe.datasets.windows:build_windows", "horizon", WINDOWS.horizon),
    ("windows", "geopipe.datasets.windows:build_windows", "history", WINDOWS.history),
    ("windows", "geopipe.datasets.windows:build_windows", "stride", WINDOWS.stride),
])
def test_library_cli_and_flows_share_the_dataset_defaults(verb, function, name, value):
    import importlib

    from flows import datasets as flow_datasets

    module, func = function.split(":")
    library = inspect.signature(getattr(importlib.import_module(module), func)).parameters[name].default
    flow = inspect.signature(getattr(flow_datasets, f"build_{verb}").fn).parameters.get(name)
    assert library == value and _cli_default(verb, name) == value
    if flow is not None:
        assert flow.default == value


def test_the_flows_take_store_names_from_the_catalog():
    """No catalog product's store name is spelled out in the flows (the demo's own data root aside)."""
    from geopipe.catalog import load

    declared = {p.store for p in load().products.values()}
    found = []
    for path in sorted(FLOWS.glob("*.py")):
        if path.name == "demo.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in declared:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)
