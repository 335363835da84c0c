# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test demo bench fuzz fixtures clean lint-docker docker-build feedback-report

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	CDS_ENV=$${CDS_ENV:-development} CDS_PUBLIC_BASE_URL=$${CDS_PUBLIC_BASE_URL:-http://localhost:$(PORT)} \
		$(BIN)/ldn-cds serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

demo: $(VENV)/.installed
	$(BIN)/python -m devtools.demo --service-url $(SERVICE_URL)

fixtures: $(VENV)/.installed
	$(BIN)/python -m devtools.build_requests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run

fuzz: $(VENV)/.installed-test
	LDN_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests/robustness -m fuzz -p no:randomly

# Acceptance and override rates per card kind, from CDS_DATABASE_URL (default ./ldn-cds.db).
feedback-report: $(VENV)/.installed
	$(BIN)/ldn-cds feedback-report

# The container recipe is linted in `make test` too; this is the same check on its own.
lint-docker: $(VENV)/.installed-test
	$(BIN)/hadolint Dockerfile

# Needs a Docker (or compatible) engine, which CI machines here do not have.
docker-build:
	docker build -t ldn-cds .
