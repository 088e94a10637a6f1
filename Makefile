# The two commands: `make demo` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup setup-test demo cluster model test test-fast lint fmt clean

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --with-browser

demo: setup
	@$(PY) -m crm_cli.main demo run

# The production topology without Docker: 2 Rasa replicas (PostgreSQL trackers, Redis locks),
# the action server, 2 API workers and a rules worker (docs/deploy.md).
cluster: setup
	@$(PY) -m crm_cli.main cluster run

# The Rasa model and the ONNX encoder it was trained with, for the Rasa image (docker/).
model: setup
	@$(PY) -c "from crm_cli.rasa_model import ensure_model; print(ensure_model())"

test: setup-test lint
	@$(PY) -m pytest -q -ra

test-fast: setup
	@$(PY) -m pytest -q -ra -m "not integration"

lint: setup
	@$(PY) -m ruff check . && $(PY) -m ruff format --check .

fmt: setup
	@$(PY) -m ruff format . && $(PY) -m ruff check --fix .

clean:
	rm -rf var/ .pytest_cache .ruff_cache
