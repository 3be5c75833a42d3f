# KAM developer entry points. Only Python 3.11 and make are needed: `bootstrap` installs uv (into
# .tools/ when it is not on PATH) and the locked environment (.venv/).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
KAM := $(UV) run kam

.PHONY: help bootstrap run down test lint fmt proto-check bench console console-deps console-check api-client browser-deps

# the web console (console/, issue 9): built when its sources are newer than console/dist/
CONSOLE_SRC := $(shell find console/src console/public -type f 2>/dev/null) console/index.html console/vite.config.ts \
	console/tsconfig.json console/package.json console/package-lock.json
NPM ?= npm

help:
	@echo "make bootstrap    create .venv (installs uv into .tools/ if needed)"
	@echo "make run          start the demo federation, seeded, in the foreground (kam up --seed)"
	@echo "make down         stop a federation started with kam up --detach"
	@echo "make test         run the whole test suite (real PostgreSQL and nats-server)"
	@echo "make lint         ruff, ruff format --check, mypy --strict, proto compatibility"
	@echo "make fmt          format and auto-fix"
	@echo "make bench        benchmarks (ratios against the measured physical ceiling)"
	@echo "make console      build the web console (console/dist) when its sources changed"
	@echo "make api-client   regenerate the console's typed API client from the services' OpenAPI"
	@echo "make browser-deps install Debian's chromium and the CJK fonts for the browser tests (root)"

bootstrap:
	@if [ "$(UV)" = ".tools/bin/uv" ] && [ ! -x .tools/bin/uv ]; then \
		echo "uv not found: installing it into .tools/"; \
		$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv; \
	fi
	$(UV) sync --frozen
	@$(MAKE) --no-print-directory .venv/.bytecode

# Bytecode compiled once: where PYTHONDONTWRITEBYTECODE is set (as on the CI machines) Python never
# caches .pyc itself, so every `kam` command and every service process compiled ~1,100 modules again
# (1.4 s of CPU per command, docs/benchmarks.md). Stale files are harmless: Python checks each source's
# mtime and compiles a changed one in memory.
.venv/.bytecode: uv.lock
	@$(UV) run --no-sync python -m compileall -q -j 0 .venv/lib libs services > /dev/null || true
	@touch $@

run: bootstrap console
	$(KAM) up --seed

down: bootstrap
	$(KAM) down

test: bootstrap console
	$(UV) run pytest --durations=30  # the slowest tests, in every CI log (docs/testing.md: suite time)

lint: bootstrap
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy $(wildcard libs/*/src services/*/src)
	$(MAKE) proto-check
	$(MAKE) console-check

proto-check: bootstrap
	$(UV) run python scripts/gen_proto.py --check

fmt: bootstrap
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench: bootstrap
	$(UV) run python bench/run.py
	$(UV) run python bench/federation.py
	$(UV) run python bench/scale.py
	$(UV) run python bench/ka_lookup.py
	$(UV) run python bench/knowledge.py
	$(UV) run python bench/sla.py
	$(UV) run pytest -m load -q  # the load runs of tests (docs/testing.md), skipped by make test
	$(UV) run python bench/report.py --write docs/benchmarks.md

console/node_modules/.package-lock.json: console/package-lock.json
	cd console && $(NPM) ci --no-audit --no-fund

console-deps: console/node_modules/.package-lock.json

console/dist/index.html: console/node_modules/.package-lock.json $(CONSOLE_SRC)
	cd console && $(NPM) run build

console: console/dist/index.html

api-client: bootstrap console-deps
	$(UV) run python scripts/gen_api_client.py

# lint of the console: the generated client is current (drift from the services' OpenAPI), eslint, tsc
console-check: bootstrap console-deps
	$(UV) run python scripts/gen_api_client.py --check
	cd console && $(NPM) run lint && $(NPM) run typecheck

# Debian's chromium and the CJK fonts for tests/e2e (without a CJK font every Chinese glyph is a box)
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "chromium and a CJK font are installed"; \
	else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; \
	fi
