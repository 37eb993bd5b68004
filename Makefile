# geopipe: two commands do everything on a fresh machine.
#   make demo   runs both pipelines end to end on the bundled sample archive (offline)
#   make test   runs the test suite
# Both create .venv on first use and install the pinned stack from requirements.lock.

PYTHON ?= python3
VENV   := .venv
UV_VERSION := 0.13.9
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-fast test-e2e bench install lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/geopipe demo

test: $(STAMP)
	$(BIN)/python -m pytest tests -q -m "not e2e"

test-e2e: $(STAMP)
	deploy/scripts/install-chromium.sh
	$(BIN)/python -m pytest tests/e2e -q -m e2e

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

lock:
	uv pip compile pyproject.toml --extra test --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data .pytest_cache
