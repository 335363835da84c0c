# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test demo bench fuzz fixtures clean

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
	CDS_ENV=$${CDS_ENV:-development} $(BIN)/ldn-cds serve --host $(HOST) --port $(PORT)

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
