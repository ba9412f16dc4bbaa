"""The suite's settings (pytest, pyproject.toml): the development defaults on the
throwaway PostgreSQL and Redis servers of scripts/with-services.sh (DATABASE_URL,
REDIS_URL). The embedded lane (tests/embedded/) runs on config.settings.embedded instead.
"""

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import database_from_url, databases, env, redis_and_queue

XINYOU_PROFILE = "test"

if not env("DATABASE_URL") or not env("REDIS_URL"):
    raise ImproperlyConfigured(
        "The suite runs on PostgreSQL and Redis: use `make test`, which starts both "
        "(DATABASE_URL and REDIS_URL must be set; the embedded lane: `make test-embedded`)."
    )
globals().update(databases(database_from_url(env("DATABASE_URL") or "")))

_redis_url = env("REDIS_URL") or ""
# Under pytest-xdist (workers gw0, gw1, …): each worker its own Redis database, 1–14 (the
# suite empties its cache database at every test's start; 15 is the credit tests' breaker
# database), so that parallel workers never wipe each other's keys.
if env("PYTEST_XDIST_WORKER"):
    _worker_db = int((env("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw")) % 14 + 1
    _redis_url = urlunsplit(urlsplit(_redis_url)._replace(path=f"/{_worker_db}"))
globals().update(redis_and_queue(_redis_url, embedded_scheduler=False))

# The suite logs staff in by password (client.login, force_login, the admin form of the
# browser tests); tests/accounts/test_staff_2fa.py and test_staff_sessions.py turn these on.
XINYOU_STAFF_2FA = False
XINYOU_STAFF_SESSION_POLICY = False
