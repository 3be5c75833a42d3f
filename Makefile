# KAM developer entry points. Only Python 3.11 and make are needed: `bootstrap` installs uv (into
# .tools/ when it is not on PATH) and the locked environment (.venv/).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
KAM := $(UV) run kam

.PHONY: help bootstrap run down test lint fmt proto-check bench

help:
	@echo "make bootstrap    create .venv (installs uv into .tools/ if needed)"
	@echo "make run          start the demo federation, seeded, in the foreground (kam up --seed)"
	@echo "make down         stop a federation started with kam up --detach"
	@echo "make test         run the whole test suite (real PostgreSQL and nats-server)"
	@echo "make lint         ruff, ruff format --check, mypy --strict, proto compatibility"
	@echo "make fmt          format and auto-fix"
	@echo "make bench        benchmarks (ratios against the measured physical ceiling)"

bootstrap:
	@if [ "$(UV)" = ".tools/bin/uv" ] && [ ! -x .tools/bin/uv ]; then \
		echo "uv not found: installing it into .tools/"; \
		$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv; \
	fi
	$(UV) sync --frozen

run: bootstrap
	$(KAM) up --seed

down: bootstrap
	$(KAM) down

test: bootstrap
	$(UV) run pytest

lint: bootstrap
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy $(wildcard libs/*/src services/*/src)
	$(MAKE) proto-check

proto-check: bootstrap
	$(UV) run python scripts/gen_proto.py --check

fmt: bootstrap
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench: bootstrap
	$(UV) run python bench/run.py
	$(UV) run python bench/federation.py
	$(UV) run python bench/scale.py
	$(UV) run python bench/report.py --write docs/benchmarks.md
