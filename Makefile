# Tagih: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.10
APP_VENV := .venv
RASA_VENV := .venv-rasa
TAGIH := $(APP_VENV)/bin/tagih
RASA := $(RASA_VENV)/bin/rasa
EVAL_SET ?= ../shared/eval/nlu_external.yml
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup venvs model db bench bench-import lint rasa-test nlu-eval clean

run: setup
	$(TAGIH) serve

test: setup lint
	$(APP_VENV)/bin/pytest -q
	$(MAKE) --no-print-directory rasa-test
	$(MAKE) --no-print-directory nlu-eval

setup: venvs model db

venvs: $(APP_VENV)/.installed $(RASA_VENV)/.installed

$(APP_VENV)/.installed: requirements/app.txt pyproject.toml
	test -x $(APP_VENV)/bin/python || $(PYTHON) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install -q --upgrade "pip>=24"
	$(APP_VENV)/bin/pip install -q -r requirements/app.txt
	$(APP_VENV)/bin/pip install -q --no-deps -e .
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	test -x $(RASA_VENV)/bin/python || $(PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade "pip<24.1"
	$(RASA_VENV)/bin/pip install -q -r requirements/rasa.txt
	touch $@

model: venvs
	$(TAGIH) train

db: venvs
	$(TAGIH) db upgrade
	$(TAGIH) demo load

rasa-test: venvs model
	$(APP_VENV)/bin/python -m bot.dialogue.rasa_test

nlu-eval: venvs model
	$(APP_VENV)/bin/python -m bot.dialogue.nlu_eval $(EVAL_SET)

bench: setup
	$(APP_VENV)/bin/python -m bench.webhook_latency

bench-import: venvs
	$(APP_VENV)/bin/python bench/import_accounts.py

lint: venvs
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/lint-imports --no-cache
	$(APP_VENV)/bin/mypy

clean:
	rm -rf var results nlu/models
