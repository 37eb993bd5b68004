"""Imports go one way: the command line on top, then the flows, the library's makers, the sources,
and the small shared modules at the bottom.  Every import counts, at module level or inside a
function, and so does ``lazy_import("...")``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import geopipe

PACKAGE = Path(geopipe.__file__).parent
ROOT = PACKAGE.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_import" and node.args
              and isinstance(node.args[0], ast.Constant)):
            out.add(node.args[0].value)
    return out


def modules_under(folder: str) -> list[Path]:
    base = ROOT / folder
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


#: (modules under this path, must not import these)
RULES = [
    # the library never reaches up into the command line or the flows
    ("geopipe", ("geopipe.cli", "flows"), ("geopipe/cli",)),
    # sources read files: they know the store and the catalog, not what is made from them
    ("geopipe/sources", ("geopipe.labels", "geopipe.datasets", "geopipe.models", "geopipe.training",
                         "geopipe.predict", "geopipe.maps", "geopipe.explain", "geopipe.serve"), ()),
    # the sample archive is generated from physics and geometry, not from the label makers
    ("geopipe/sample", ("geopipe.labels", "geopipe.datasets", "geopipe.models", "geopipe.training",
                        "geopipe.maps"), ()),
    # the science of saliency does not draw; geopipe/saliency_map.py draws it
    ("geopipe/explain", ("geopipe.maps",), ()),
    # models and training do not depend on how labels are made
    ("geopipe/models", ("geopipe.labels", "geopipe.maps"), ()),
    # the shared bottom modules import no other part of geopipe but errors and lazy
    ("geopipe/geometry", ("geopipe",), ()),
    ("geopipe/errors", ("geopipe",), ()),
    ("geopipe/lazy", ("geopipe",), ()),
]

ALLOWED_EVERYWHERE = ("geopipe.errors", "geopipe.lazy")


@pytest.mark.parametrize("folder,forbidden,exempt", RULES, ids=[r[0] for r in RULES])
def test_imports_go_one_way(folder, forbidden, exempt):
    bad = []
    for path in modules_under(folder):
        if any(ROOT / e in path.parents or path == (ROOT / e).with_suffix(".py") for e in exempt):
            continue
        for name in sorted(imports_of(path)):
            if any(_within(name, f) for f in forbidden) and not any(_within(name, ok) for ok in ALLOWED_EVERYWHERE):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_rule_sees_function_level_relative_and_lazy_imports(tmp_path):
    probe = PACKAGE / "sources" / "_import_probe.py"
    try:
        probe.write_text("from geopipe.lazy import lazy_import\nm = lazy_import('geopipe.maps')\n"
                         "def f():\n    from ..labels import roi\n    import geopipe.cli.common\n")
        assert {"geopipe.maps", "geopipe.labels.roi", "geopipe.cli.common"} <= imports_of(probe)
    finally:
        probe.unlink()
