# Xinyou: `make run` starts the whole product on the embedded default,
# `make test` runs the whole suite on throwaway PostgreSQL and Redis servers.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install system-deps lint format messages messages-js migrate seed test-inner clean

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

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000  (admin: /admin/, API docs: /api/docs/)"
	$(PY) manage.py runserver 127.0.0.1:8000

system-deps:
	@scripts/ensure-system-deps.sh

messages: install
	$(PY) manage.py compilemessages --ignore='.venv/*' >/dev/null

# The front end's strings (incentives/static/web/strings.js) into locale/en/.../djangojs.po;
# fill in the English, then `make messages` compiles it.
messages-js: install
	$(PY) manage.py makemessages -d djangojs -l en --ignore='.venv/*' --ignore='static/vendor/*' \
	  --ignore='staticfiles/*' --ignore='incentives/static/dashboard/*'

test: install system-deps
	scripts/with-services.sh $(MAKE) --no-print-directory test-inner

# Runs inside with-services.sh (DATABASE_URL and REDIS_URL point at the throwaway servers).
test-inner: messages
	@test -n "$$DATABASE_URL" || { echo "error: DATABASE_URL unset: run 'make test'" >&2; exit 1; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run >/dev/null
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
