# Atelier's commands. `make help` lists them; every target creates .venv first when it is missing.
SHELL := bash
.DEFAULT_GOAL := help

# pyenv (where present) exposes every Python the project uses: 3.13 for the app and the Lambda build.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
export UV_PYTHON ?= 3.13
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
TOOLS := .venv-tools
APP := $(VENV)/.installed

.PHONY: help install dev demo test lint typecheck unit schema build bench chaos e2e clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@echo "bootstrapping uv $(UV_VERSION) into .uv/"
	@python3 -m venv .uv && .uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(APP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --quiet
	@touch $@

# SAM CLI and cfn-lint pin their own versions of libraries the app also uses, so they live apart.
$(TOOLS)/.installed: tools/requirements.txt | $(UV)
	$(UV) venv --quiet --allow-existing $(TOOLS)
	VIRTUAL_ENV=$(TOOLS) $(UV) pip sync --quiet tools/requirements.txt
	@touch $@

# tsc and @notionhq/client, to type-check the Notion emulator's responses (tests only).
TS := tests/spec/ts
$(TS)/node_modules/.installed: $(TS)/package-lock.json
	npm ci --prefix $(TS) --no-audit --no-fund --silent
	@touch $@

install: $(APP) ## create or update .venv (and nothing else)

dev: $(APP) ## run the local stack on embedded defaults: Postgres, migrated and seeded (Ctrl-C stops)
	$(VENV)/bin/atelier dev

demo: $(APP) ## the whole lifecycle end to end on embedded defaults, as a table; exit 0 only if every step held
	$(VENV)/bin/atelier demo

test: lint typecheck $(TS)/node_modules/.installed ## lint, type-check, then run every test against real Postgres
	$(VENV)/bin/pytest --cov-fail-under=85

unit: $(APP) ## the tests a newcomer runs in seconds: no database, no emulator (logic, and the sync rules over in-memory ports); prints its wall time
	@start=$$(date +%s%N); $(VENV)/bin/pytest tests/unit tests/functional --no-cov -q; status=$$?; \
	echo "make unit: $$(( ($$(date +%s%N) - start) / 1000000 )) ms wall"; exit $$status

schema: $(APP) ## write infra/supabase/schema.sql: the database as every migration leaves it (a test checks it)
	$(VENV)/bin/python -m atelier_local.schema_dump

lint: $(APP) $(TOOLS)/.installed ## ruff, then sam validate --lint and cfn-lint on template.yaml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TOOLS)/bin/sam validate --lint --template template.yaml
	$(TOOLS)/bin/cfn-lint template.yaml

typecheck: $(APP) ## mypy: strict on shared/atelier, checked on tests
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy tests bench functions

build: $(APP) $(TOOLS)/.installed ## sam build for the production runtime (python3.13, arm64), without the CLI; prints each artifact's size
	$(TOOLS)/bin/sam build --template template.yaml
	$(VENV)/bin/python infra/build/sizes.py

bench: build ## every benchmark in one run (cold starts, with and without a first request): one table
	$(VENV)/bin/python -m bench

chaos: $(APP) ## the bad days (lease expiry, an outage, kill -9, generated inputs, a Stripe burst) as one table
	$(VENV)/bin/python -m bench.chaos

e2e: $(APP) ## probe a deployed stack (ATELIER_STACK_NAME and AWS credentials); skipped, saying why, without them
	$(VENV)/bin/pytest tests/e2e --no-cov -rs

clean: ## remove build output and virtual environments (keeps .atelier data)
	rm -rf .aws-sam .venv .venv-tools .uv .mypy_cache .ruff_cache .pytest_cache $(TS)/node_modules
