"""Test session set-up: an isolated Prefect home and data root, quiet TensorFlow."""

from __future__ import annotations

import os
import tempfile

_SESSION_TMP = tempfile.mkdtemp(prefix="geopipe-tests-")
# Prefect reads these at import time: set them before anything imports prefect.
os.environ["PREFECT_HOME"] = os.path.join(_SESSION_TMP, "prefect-home")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_API_DATABASE_CONNECTION_URL",
                      "sqlite+aiosqlite:///" + os.path.join(_SESSION_TMP, "prefect.db"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["GEOPIPE_ROOT"] = os.path.join(_SESSION_TMP, "data")

import geopipe  # noqa: E402,F401  (pyproj before eccodes; see geopipe/__init__.py)
import pytest  # noqa: E402

from geopipe.sample import REAL  # noqa: E402


@pytest.fixture(scope="session")
def sample_dir():
    """The real sample files bundled in the project (geopipe/sample/data)."""
    return REAL


@pytest.fixture()
def root(tmp_path, monkeypatch):
    """A fresh data root for one test."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("GEOPIPE_ROOT", str(d))
    return d


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect's own test harness: a temporary database and API for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
