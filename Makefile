# slaledger — developer entry points. `make demo` and `make test` are the quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit test-services test-clients bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "slaledger needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

DEMO_MINUTES ?= 15

# A settled month for the three seed contracts, then the live demo (Ctrl-C ends it early).
demo: $(STAMP)
	$(BIN)/slaledger demo --out demo-output
	$(BIN)/slaledger demo --live --out demo-output --minutes $(DEMO_MINUTES)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# PostgreSQL started and Debian's chromium installed where this machine allows (quiet when
# they are there; see the script). The tests that need them are skipped without them.
test-services:
	@scripts/test-services.sh

# The real Statuspage clients (npm ci, statuscheck's own venv) the client tests run.
test-clients:
	@scripts/test-clients.sh

unit: $(STAMP) test-services test-clients
	$(BIN)/pytest -q

test: lint typecheck unit

# Engine, loading, store and scheduler benchmarks; bench/probes.py and bench/status_page.py
# also need Debian's prometheus-blackbox-exporter and wrk (see bench/README.md).
bench: $(STAMP)
	$(BIN)/python bench/load.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/business_calendar.py
	$(BIN)/python bench/scheduler.py

clean:
	rm -rf $(VENV) demo-output .mypy_cache .ruff_cache .pytest_cache
	rm -rf tests/web/clients/node_modules tests/web/clients/.venv
