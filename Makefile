# CivicLine: `make run` to serve the bot, `make test` for the whole suite. See README.md.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: help envs model db run chat test lint format bench load compare clean system

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

envs:  ## build (or reuse) the app (3.11) and Rasa (3.10) environments
	@bash scripts/envs.sh

model: envs  ## train each language's NLU model if its data or config changed (cached by fingerprint)
	@$(PY) -m nlu.train

db: envs  ## create or migrate the database (DATABASE_URL, default var/civicline.db)
	@$(PY) -m cases.migrate

run: envs  ## set up whatever is missing, start Rasa + gunicorn, print where to point Twilio
	@$(PY) -m scripts.run

chat: envs  ## talk to the running bot from the terminal, through the real signed webhook
	@$(PY) -m scripts.chat $(ARGS)

test: envs lint system  ## the whole suite: real Rasa, SQLite and PostgreSQL, HTTP, a browser
	@$(PY) -m pytest

system:  ## chromium and the PostgreSQL server for the tests (apt-installed if missing)
	@bash scripts/ensure-system-packages.sh

lint: envs  ## ruff lint and format check
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: envs  ## apply ruff's formatting and safe fixes
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: envs  ## latency benchmarks: webhook turn vs. Rasa parse; throughput vs. a plain Rasa assistant; console pages; case pages; SMS p99 under public load; SMS p99 while a model is swapped; artifact store; photos; linked-case texts; overdue; notice broadcast; open data export
	@$(PY) -m scripts.bench && $(PY) -m scripts.bench_stack && $(PY) -m scripts.bench_console && $(PY) -m scripts.bench_case_page && $(PY) -m scripts.bench_load && $(PY) -m scripts.bench_activation && $(PY) -m scripts.bench_artifacts && $(PY) -m scripts.bench_photos && $(PY) -m scripts.bench_linked && $(PY) -m scripts.bench_overdue && $(PY) -m scripts.bench_broadcast && $(PY) -m scripts.bench_open_data

load: envs model  ## the open-loop locust run on PostgreSQL: 32 requests/s for 10 min (ARGS="--minutes 1" for a trial)
	@$(PY) -m scripts.load_run $(ARGS)

compare: envs  ## train and compare the candidate NLU pipelines (slow: ~20 min)
	@$(PY) -m scripts.compare_pipelines

clean:  ## remove local runtime state (var/, reports/); the cache outside the clone stays
	rm -rf var reports .pytest_cache .ruff_cache
