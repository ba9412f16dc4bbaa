"""The embedded lane: the settings of `make run` (no DATABASE_URL, no REDIS_URL: SQLite,
eager Celery, local-memory cache, sandbox providers), checked before anything runs.

Run with `make test-embedded` (or `XINYOU_LANE=embedded .venv/bin/python -m pytest
tests/embedded`); `make test` runs it after the main suite. The main suite (PostgreSQL
and Redis) does not collect this folder.
"""

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _the_embedded_default():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.REDIS_URL is None
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert settings.CREDIT_PROVIDERS == {}
    assert settings.EMBEDDED_SCHEDULER
