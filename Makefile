# The README's commands. `make run`: set up and serve the app with the demo; `make test`: set up and test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test test-fast lint bench front clean

$(BIN)/sequences: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/sequences

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules/.package-lock.json

front: node_modules/.package-lock.json
	npm run build

setup: $(BIN)/sequences front

run: setup
	$(BIN)/sequences db upgrade
	$(BIN)/sequences demo
	$(BIN)/sequences serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/pytest -q --durations=25

lint: setup
	$(BIN)/lint-imports
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules web/static/dist
