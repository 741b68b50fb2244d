# trajet: the two set-up commands, `make run` and `make test`, on a machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= monaco
BUNDLE := bundles/$(SAMPLE)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv venv-test bundle vendor browser lint bench clean

# The virtual environment, reinstalled when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed
venv-test: $(BIN)/.installed-test

# The sample network (Monaco by default: GTFS + OSM + derived parking occupancy).
$(BUNDLE)/manifest.json: $(BIN)/.installed
	$(BIN)/trajet build --sample $(SAMPLE) --out $(BUNDLE)

bundle: $(BUNDLE)/manifest.json

# Front-end packages (Leaflet, Swagger UI) from the npm registry, served by the app: no CDN.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

vendor: node_modules/.installed

# Debian's Chromium for the browser test (Playwright drives it; it never downloads a browser).
# Without root or sudo the install is impossible: the browser test then skips, saying why.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "WARNING: /usr/bin/chromium is missing and apt needs root: the browser test will be SKIPPED"; exit 0; fi; \
	  echo "installing Debian's chromium for the browser test"; \
	  ($$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "WARNING: apt-get install chromium failed: the browser test will be SKIPPED"; \
	fi

# The API and the demo page on http://$(HOST):$(PORT), served by gunicorn.
run: bundle vendor
	$(BIN)/trajet serve $(BUNDLE) --host $(HOST) --port $(PORT)

test: venv-test vendor browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: venv-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) bundles test-output .pytest_cache
