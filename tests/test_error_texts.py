"""Library errors name the thing (file, store, variable, parameter, value), never a CLI flag.

The library is everything outside ``geopipe/cli/``: a Prefect flow or a notebook calls it with
parameter names, so its messages must not speak of options it never typed.  The CLI re-spells
:class:`geopipe.errors.ParameterError` names as its flags (``tests/cli/test_errors.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import geopipe

PACKAGE = Path(geopipe.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _texts(node: ast.AST):
    """The literal text of every string (and f-string part) under ``node``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def flags_in_raises(path: Path) -> list[str]:
    """Flags in the text of every ``raise``, and in string defaults of parameters (a ``where="--x"``
    that an error message is later built from)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            texts = list(_texts(node.exc))
        elif isinstance(node, ast.arguments):
            texts = [d.value for d in [*node.defaults, *node.kw_defaults]
                     if isinstance(d, ast.Constant) and isinstance(d.value, str)]
        else:
            continue
        found += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno if hasattr(node, 'lineno') else 0}: {flag}"
                  for text in texts for flag in FLAG.findall(text)]
    return found


def library_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if PACKAGE / "cli" not in p.parents]


def test_no_library_error_message_names_a_cli_flag():
    found = [hit for path in library_files() for hit in flags_in_raises(path)]
    assert not found, "CLI flags in library errors:\n" + "\n".join(found)


def test_the_check_finds_a_flag_in_a_raise(tmp_path):
    bad = PACKAGE / "_flag_probe.py"  # a file under the package, as the real ones are
    try:
        bad.write_text('def f(x, where="--split"):\n    raise ValueError(f"--times {x!r}: bad")\n')
        assert flags_in_raises(bad) == ["geopipe/_flag_probe.py:0: --split", "geopipe/_flag_probe.py:2: --times"]
    finally:
        bad.unlink()
    assert len(library_files()) > 50
