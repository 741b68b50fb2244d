# trajet: the two set-up commands, `make run` and `make test`, on a machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= monaco
BUNDLE := bundles/$(SAMPLE)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv venv-test bundle lint bench clean

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

run: bundle
	$(BIN)/trajet info $(BUNDLE)

test: venv-test
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: venv-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) bundles test-output .pytest_cache
