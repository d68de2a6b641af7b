# Two commands on a fresh machine: `make run` (demo on SQLite) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/platform_booking

.PHONY: install messages browser xmlsec run test test-sqlite test-postgres lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# French messages are compiled at set-up (the .mo files are not committed).
messages: install
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	@DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv -v0

# The page tests drive Debian's Chromium headless (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# SAML single sign-on (pysaml2) signs and checks its messages with the xmlsec1 program.
xmlsec:
	@command -v xmlsec1 >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null)

# Links in emails and feeds point to the address actually served; the demo loads without
# printing its emails, so the last lines before the server's are the URL and the logins.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: export ALLOWED_HOSTS ?= localhost,127.0.0.1,[::1],$(HOST)
run: messages $(if $(SAML_IDP_METADATA),xmlsec)
	@echo "Loading the demo into $${DATABASE_URL:-sqlite:///db.sqlite3}…"
	@DEBUG=1 $(BIN)/python manage.py migrate --no-input -v0
	@DEBUG=1 $(BIN)/python manage.py demo_data
	@echo "Open $(SITE_URL)/ and log in (API docs at $(SITE_URL)/api/docs/)."
	@echo "The emails the worker sends are written to worker.log."
	@# The background worker (emails, periodic jobs) runs beside the server and stops with it;
	@# its output (the emails, printed by the console backend) goes to worker.log, so that the
	@# URL and the logins stay the last lines before the server's.
	@DEBUG=1 $(BIN)/python manage.py worker > worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	DEBUG=1 $(BIN)/python manage.py check
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Real faults (marker `faults`) need PostgreSQL's server binaries: run once, on PostgreSQL.
test-sqlite: messages browser xmlsec
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not faults and not schemathesis"

test-postgres: messages browser xmlsec
	scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -p no:cacheprovider -m "not walkthrough and not slow_security and not chromium"

test: lint test-sqlite test-postgres

# Issue 12: every request on a 10,000- and a 1,000,000-reservation database against its
# hand-written SQL, then gunicorn under 32 clients; seeds once, reuses the databases
# (BENCH_ARGS="--reseed" redoes them, "--quick" for a short run). See bench/run.py.
bench: messages
	scripts/ensure-postgres.sh
	BENCH_PG=$(dir $(PG_URL)) $(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 test-db.sqlite3
