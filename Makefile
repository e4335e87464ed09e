# byom — the two commands of the README:
#   make demo   set up .venv and run the reference app (byom demo)
#   make test   set up .venv and run the whole test suite (lint, types, tests)
# Dependencies are installed from hash-pinned lock files (pitfall 17: supply chain).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo demo-deps test lint typecheck pytest browser lock clean prices

$(STAMP): pyproject.toml requirements/dev.lock requirements/build.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes \
		-r requirements/build.lock -r requirements/dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps \
		--no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP) demo-deps
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

pytest: $(STAMP) browser
	$(BIN)/pytest

test: lint typecheck pytest

# Regenerate the bundled price snapshots (src/byom/data/*-models.json) from the genai-prices
# database (dev-time only; hash-pinned in requirements/prices.lock). AS_OF=YYYY-MM-DD dates them
# (default: today); PROVIDERS="gemini" limits them. Review the diff before committing.
prices: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/prices.lock
	$(BIN)/python scripts/prices.py $(if $(AS_OF),--as-of $(AS_OF)) $(PROVIDERS)

# Regenerate the hash-pinned locks (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements/dev.lock
	uv pip compile requirements/build.in --generate-hashes --python-version 3.11 \
		-o requirements/build.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
