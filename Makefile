# `make demo` and `make test` set up everything they need on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp

.PHONY: setup demo test lint browser clean bench

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for browser tests (never `playwright install`), and CJK fonts so pages render Chinese.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk) >/dev/null; \
	  else \
	    echo "browser: install Debian's chromium and fonts-noto-cjk (needs root)"; \
	  fi; \
	fi

demo: setup
	$(BIN)/liftwatch demo

test: setup browser
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/city.py
	$(BIN)/python bench/surge.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
