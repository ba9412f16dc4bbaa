"""Settings by concern. Each profile imports base.py and adds what is its own:

- config.settings.embedded: `make run` and every `manage.py` command by default; the
  embedded PostgreSQL (config/embedded_pg.py) in `.pgdata/`, eager Celery, a local-memory
  cache, the in-process scheduler.
- config.settings.production: DATABASE_URL, REDIS_URL and real secrets required.
- config.settings.test: what pytest uses (pyproject.toml), on throwaway servers.

`DJANGO_ENV=production` (the deployments set it) always selects the production profile;
otherwise DJANGO_SETTINGS_MODULE, else the embedded default.
"""

import os
from pathlib import Path

# The project folder (importable without loading a profile).
BASE_DIR = Path(__file__).resolve().parent.parent.parent

EMBEDDED = "config.settings.embedded"
PRODUCTION = "config.settings.production"


def select_profile(default: str = EMBEDDED) -> str:
    """Set DJANGO_SETTINGS_MODULE for manage.py, WSGI, ASGI and Celery; return it."""
    if os.environ.get("DJANGO_ENV") == "production":
        os.environ["DJANGO_SETTINGS_MODULE"] = PRODUCTION
    return os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
