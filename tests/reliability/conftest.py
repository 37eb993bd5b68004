"""Fixtures of the reliability tests: the CLI launcher, the bad-input corpus, measured figures.

Set ``GEOPIPE_RELIABILITY_FIGURES=PATH`` to have the figures the tests measured (inputs
tried, kills landed, faults injected, retries) written to PATH as JSON at the end of the
session; ``docs/reliability.md`` quotes them.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.reliability import corpus
from tests.reliability.launcher import Launcher


@pytest.fixture(scope="session")
def launcher(tmp_path_factory):
    """Runs ``geopipe`` commands as separate processes (see tests/reliability/launcher.py)."""
    with Launcher(tmp_path_factory.mktemp("cli-logs")) as cli:
        yield cli


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory) -> list[corpus.Case]:
    return corpus.build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def figures():
    """A dict the tests put their measured figures in (one key per test)."""
    out: dict = {}
    yield out
    path = os.environ.get("GEOPIPE_RELIABILITY_FIGURES")
    if path:
        with open(path, "w") as fh:
            json.dump(out, fh, indent=1, default=str)
