# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Both install the pinned versions from the lock files (with hashes); `make lock` rewrites them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICE_URL ?= http://$(HOST):$(PORT)
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
UV_VERSION := 0.13.8
# One lock for every platform and Python >= 3.11 (the image's is 3.11); setuptools is pinned
# too, because the project itself is installed without build isolation.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock"

.PHONY: run test lint demo example bench fuzz clean lint-docker docker-build image-check lock feedback-report

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The test lock pins the runtime packages at the same versions (compiled with -c $(LOCK)).
$(VENV)/.installed-test: pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	CDS_ENV=$${CDS_ENV:-development} CDS_PUBLIC_BASE_URL=$${CDS_PUBLIC_BASE_URL:-http://localhost:$(PORT)} \
		$(BIN)/ldn-cds serve --host $(HOST) --port $(PORT)

# Lint, import order, formatting and types first (a few seconds; mypy's first run ~40 s), then
# the suite. Each step fails the target. `make lint` runs the first three on their own.
test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-resolve the lock files after changing dependencies in pyproject.toml. Versions already
# pinned are kept where they still fit; `make lock UPGRADE=--upgrade` moves everything to the newest.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	printf 'setuptools>=68\n' | $(BIN)/uv pip compile pyproject.toml - $(UPGRADE) $(LOCK_FLAGS) -o $(LOCK)
	printf 'setuptools>=68\n' | $(BIN)/uv pip compile pyproject.toml - --extra test --extra bench \
		--constraint $(LOCK) $(UPGRADE) $(LOCK_FLAGS) -o $(TEST_LOCK)

demo: $(VENV)/.installed
	$(BIN)/python -m devtools.demo --service-url $(SERVICE_URL)

# A ready-made hook request, dated today: `make example NAME=oxycodone-active-ldn-select`;
# without NAME, the list of scenarios and the service each one calls.
example: $(VENV)/.installed
	@$(BIN)/python -m devtools.example $(if $(NAME),$(NAME),--list)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.alert_burden
	$(BIN)/python -m bench.identity

fuzz: $(VENV)/.installed-test
	LDN_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests/robustness -m fuzz -p no:randomly

# Acceptance and override rates per card kind, from CDS_DATABASE_URL (default ./ldn-cds.db).
feedback-report: $(VENV)/.installed
	$(BIN)/ldn-cds feedback-report

# The container recipe is linted in `make test` too; this is the same check on its own.
lint-docker: $(VENV)/.installed-test
	$(BIN)/hadolint Dockerfile

# Needs a Docker (or compatible) engine; on machines without one, see `make image-check`.
docker-build:
	docker build -t ldn-cds .

# Builds the committed Dockerfile with buildah on a stand-in base image made here from
# Debian packages, runs it with podman and checks it (docs/deployment.md). Needs root and
# a few minutes; not part of `make test`.
image-check: $(VENV)/.installed-test
	deploy/image-check/install-tools.sh
	LDN_IMAGE_CHECK=1 $(BIN)/python -m pytest tests/image -o addopts= -v -s -p no:randomly -p no:cacheprovider
