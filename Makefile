# pmo-api: every target installs what it needs first, so a fresh clone needs only python3.
#   make run     install, then serve on SQLite at http://$(HOST):$(PORT)
#   make test    install, then the suite on SQLite and PostgreSQL (skipped, and said so,
#                when no PostgreSQL answers at 127.0.0.1:5432)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Reinstall only when the dependencies change.
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test test-slow fuzz reliability lint schemas migrate seed bench bench-profile bench-metrics bench-webhooks clean

help:
	@echo "make run      install and serve on SQLite at http://$(HOST):$(PORT)"
	@echo "make test     install and run the tests (SQLite and PostgreSQL)"
	@echo "make reliability  the slow suites: fault injection, long property runs, contract fuzzing"
	@echo "make lint     ruff check, ruff format --check, mypy, import contracts"
	@echo "make schemas  regenerate openapi/openapi.json and openapi/schema.graphql"
	@echo "make migrate  bring the database (PMO_DATABASE_URL) to the latest schema"
	@echo "make seed     create the demo organisation (idempotent)"
	@echo "make bench    pmo-api side by side with ../shared/bench's ceiling (bench/README.md)"
	@echo "make bench-metrics  the executive metrics and exports at 100,000 projects"
	@echo "make bench-webhooks  webhook delivery throughput, two workers on PostgreSQL"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pmo-api needs Python 3.11 or newer; run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "could not create $(VENV): on Debian/Ubuntu install python3-venv first" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

run: install
	$(BIN)/pmo-api serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

# The slow suites (CI runs them too): faults against a real server process and the
# long property-based runs, then Schemathesis against REST and GraphQL on both databases.
test-slow: install
	$(BIN)/pytest -m slow

fuzz: install
	$(BIN)/python scripts/contract_fuzz.py

reliability: test-slow fuzz

lint: install
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

schemas: install
	$(BIN)/pmo-api export-schemas

migrate: install
	$(BIN)/pmo-api migrate

seed: install
	$(BIN)/pmo-api seed-demo

# Side by side with the hand-tuned ceiling in ../shared/bench (bench/README.md): needs
# root for the ceiling's setup_pg.sh and for wrk, which comes from Debian's packages.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--scale large".
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCH_ARGS ?=

bench: install
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-profile: install
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py --profile-only $(BENCH_ARGS)

# The executive metrics at 100,000 projects on PostgreSQL and SQLite (bench/metrics.py):
# seeds both (a few minutes), then latency and the export's memory. No ceiling, no root.
bench-metrics: install
	$(BIN)/python bench/metrics.py $(BENCH_ARGS)

bench-webhooks: install
	$(BIN)/python bench/webhooks.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
