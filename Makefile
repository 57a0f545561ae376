# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's sandboxes (RMS, futureshop, eBay): the demo stores follow these ports.
SANDBOX_PORT ?= 8765
FS_SANDBOX_PORT ?= 8766
EBAY_SANDBOX_PORT ?= 8767
# The orders the RMS sandbox's buyers place each minute.
ORDERS_PER_MINUTE ?= 2
# Where the demo keeps the sandboxes' state and its processes' logs.
DEMO_DIR ?= var

.PHONY: demo test lint format schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# The demo (scripts/demo.sh): database set up, three sandboxes, a cluster and the web server;
# the admin login is printed last; Ctrl-C stops it all.
demo: $(VENV)/.installed
	@BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
		FS_SANDBOX_PORT=$(FS_SANDBOX_PORT) EBAY_SANDBOX_PORT=$(EBAY_SANDBOX_PORT) \
		ORDERS_PER_MINUTE=$(ORDERS_PER_MINUTE) DEMO_DIR=$(DEMO_DIR) exec scripts/demo.sh

# The production profile on this machine (README "Production"): collectstatic, migrate,
# gunicorn with uvicorn workers on HOST:PORT and a django-q2 cluster; Ctrl-C stops both.
.PHONY: serve
serve: $(VENV)/.installed
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The committed OpenAPI schema (a test fails when it is not the code's).
schema: $(VENV)/.installed
	DJANGO_DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn --file api/openapi.yaml

clean:
	rm -rf $(VENV) .coverage test-output
