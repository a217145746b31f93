# Two front doors: `make demo` (install, build the embedded sample, serve it) and `make test` (install, run all
# checks). Every install step a fresh machine needs is here; .ci/run calls `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install viewer demo atlas test lint chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: .stamp-install viewer

.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

viewer: atlasgen/viewer/app.js

atlasgen/viewer/app.js: site/package.json site/package-lock.json site/build.mjs site/index.html $(wildcard site/src/*)
	npm --prefix site ci --no-audit --no-fund
	npm --prefix site run build

atlas: install
	$(BIN)/atlasgen build --out build/atlas

demo: atlas
	$(BIN)/atlasgen serve build/atlas --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

lint: install
	$(BIN)/ruff check atlasgen tests benchmarks scripts
	$(BIN)/ruff format --check atlasgen tests benchmarks scripts
	$(BIN)/mypy

test: install chromium lint
	$(BIN)/pytest

clean:
	rm -rf build .stamp-install atlasgen/viewer site/node_modules
