# The README's commands. `make up` runs the stack; `make test` runs every check CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DATA_DIR ?= var
HTTP_PORT ?= 8000
NATS_PORT ?= 4222
HOST ?= 127.0.0.1

.PHONY: up test lint fmt typecheck unit faults clean bench bench-quick catalogs browser-deps bench-sites \
	asyncapi-parser

# Re-install whenever pyproject.toml changes (new dependency, new console script).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Ventanilla needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

up: $(STAMP)
	$(BIN)/ventanilla up --data-dir $(DATA_DIR) --http-port $(HTTP_PORT) \
		--nats-port $(NATS_PORT) --host $(HOST)

test: lint typecheck browser-deps asyncapi-parser
	$(BIN)/pytest

# The browser tests drive Debian's Chromium (no browser can be downloaded): install it when missing.
browser-deps:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

# The official AsyncAPI parser (npm, pinned by the lockfile), which the tests run offline to
# validate docs/asyncapi.json. Installed once; again only when the lockfile changes.
ASYNCAPI_TOOLS := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_TOOLS)/node_modules/.installed
asyncapi-parser: $(ASYNCAPI_STAMP)

$(ASYNCAPI_STAMP): $(ASYNCAPI_TOOLS)/package.json $(ASYNCAPI_TOOLS)/package-lock.json
	npm ci --prefix $(ASYNCAPI_TOOLS) --no-audit --no-fund --ignore-scripts
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) asyncapi-parser
	$(BIN)/pytest tests/unit

# Benchmarks beside the raw limits measured in the same run (docs/benchmarks.md); not in `test`.
bench: $(STAMP)
	$(BIN)/python -m bench --docs

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# A MAC Express site forwarding a backlog after a reconnect (docs/sites.md); about two minutes.
bench-sites: $(STAMP)
	$(BIN)/python -m bench --only sites --merge

# The fault suite alone (part of `make test` too), printing each scenario's figures.
faults: $(STAMP)
	$(BIN)/pytest tests/faults -s

# Page texts: extract them from the code and templates, then merge into the .po catalogs
# (translate the new entries in locales/qu/; the gateway compiles the .po files when it starts).
WEB := services/gateway/web
catalogs: $(STAMP)
	cd $(WEB) && ../../../$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext \
		--no-location --sort-output --project=Ventanilla --copyright-holder=Ventanilla \
		-o locales/messages.pot .
	$(BIN)/pybabel update -i $(WEB)/locales/messages.pot -d $(WEB)/locales --no-fuzzy-matching

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Removes the virtualenv and caches; the stack's data dir ($(DATA_DIR)) is kept on purpose.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build $(ASYNCAPI_TOOLS)/node_modules
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
