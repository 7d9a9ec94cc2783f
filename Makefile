# `make demo` and `make test` set up everything they need on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
VENDOR_STAMP := node_modules/.vendored-stamp
# `make lock` after changing a dependency in pyproject.toml (it asks the index: PyPI, or UV_INDEX_URL).
LOCK_CMD := uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11

.PHONY: setup demo test lint browser clean bench lock wheel

setup: $(STAMP) $(VENDOR_STAMP)

# Dependencies from the lock file (pinned, hash-checked), then liftwatch itself (editable, no dependencies).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The npm files the pages load, copied into src/liftwatch/web/static/vendor (never committed); a wheel's
# build copies them itself (setup.py).
$(VENDOR_STAMP): $(NODE_STAMP) setup.py | $(STAMP)
	$(BIN)/python setup.py vendor
	touch $@

# Page text (gettext): `make messages` extracts the keys from the code and templates (babel.cfg), updates
# both catalogues and compiles them; `make setup` only compiles. The .mo files are build artefacts.
LOCALE := src/liftwatch/locale
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(LOCALE)/*/LC_MESSAGES/messages.po))
.PHONY: messages
setup: $(MO_FILES)

messages: | $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k t -k tn:1,2 -k translate -k N_ --no-location --sort-output \
	  --omit-header -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALE)/messages.pot -d $(LOCALE) -w 110 --ignore-obsolete \
	  --no-fuzzy-matching --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALE) --statistics

$(LOCALE)/%/LC_MESSAGES/messages.mo: $(LOCALE)/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

# The fault detector compiled by Cython (setup.py), rebuilt whenever its source changes so the tests never
# run a stale one (tests/unit/telemetry/test_compiled.py checks). No C compiler: it runs as plain Python.
EXT_SUFFIX := $(shell $(PY) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
DETECTOR_EXT := src/liftwatch/telemetry/detector$(EXT_SUFFIX)
setup: $(DETECTOR_EXT)

$(DETECTOR_EXT): src/liftwatch/telemetry/detector.py setup.py | $(STAMP)
	$(BIN)/python setup.py -q build_ext --inplace
	@test $@ -nt src/liftwatch/telemetry/detector.py || { rm -f $@; \
	  echo "make: the detector did not compile (see above); it runs as plain Python, slower"; }

lock:
	$(BIN)/$(LOCK_CMD) --quiet -o requirements.lock

# The installable package: dist/liftwatch-<version>-cp311-cp311-linux_x86_64.whl (the compiled detector makes
# it specific to the Python version and platform it is built with: build it with the servers' own)
wheel: setup
	$(BIN)/pip wheel -q --no-deps --no-build-isolation -w dist .

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

# The unit tests in parallel, a process per CPU (pytest-xdist: they are CPU-bound and each makes its own
# databases); then the integration and browser tests one at a time (they start, freeze and kill servers and
# count what arrived, so they do not share the machine with a parallel run).
test: setup browser
	$(BIN)/lint-imports --no-logo
	$(BIN)/python -m pytest -n auto --dist loadfile tests/unit
	$(BIN)/python -m pytest tests/integration tests/e2e

lint: setup
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

bench: setup
	$(BIN)/python bench/city.py
	$(BIN)/python bench/surge.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache build dist src/liftwatch/web/static/vendor
	rm -f src/liftwatch/telemetry/detector.c src/liftwatch/telemetry/detector.*.so
