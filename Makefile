# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
ORDERS_PER_MINUTE ?= 2

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

demo: export DJANGO_DEBUG ?= 1
demo: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo_data
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
		ORDERS_PER_MINUTE=$(ORDERS_PER_MINUTE) scripts/demo.sh

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
