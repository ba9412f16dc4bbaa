"""Production: DATABASE_URL and REDIS_URL required, real secrets required (the settings
refuse to load otherwise), HTTPS hardening, JSON logs, hashed static files, Celery beat
for the periodic work. Selected by DJANGO_SETTINGS_MODULE=config.settings.production or
DJANGO_ENV=production (config/settings/__init__.py).
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    _DEV_SECRET,
    ID_HASH_KEY,
    IDENTITY_PROVIDER,
    LOGGING,
    SECRET_KEY,
    SMS_GATEWAY,
    STORAGES,
    database_from_url,
    databases,
    env,
    env_bool,
    env_list,
    redis_and_queue,
)

XINYOU_PROFILE = "production"
DJANGO_ENV = "production"

for _name in ("DATABASE_URL", "REDIS_URL"):
    if not env(_name):
        raise ImproperlyConfigured(f"Production settings need {_name}.")

if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs SECRET_KEY: a random value of at least 50 characters."
    )
if ID_HASH_KEY == "xinyou-embedded-default-id-pepper" or len(ID_HASH_KEY) < 32:
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs ID_HASH_KEY: the alliance's ID pepper (32+ chars)."
    )
DEBUG = env_bool("DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured(
        "DEBUG is refused with DJANGO_ENV=production: it shows settings and code to anyone."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])

# In production a sandbox would prove nothing (no SMS leaves; any unknown ID matches any
# name): refuse to start with one unless explicitly allowed (a staging deployment).
for _name, _conf, _allow in (
    ("SMS_GATEWAY", SMS_GATEWAY, "ALLOW_SANDBOX_SMS"),
    ("IDENTITY_PROVIDER", IDENTITY_PROVIDER, "ALLOW_SANDBOX_IDENTITY"),
):
    if _conf.get("kind", "sandbox") == "sandbox" and not env_bool(_allow, False):
        raise ImproperlyConfigured(
            f"DJANGO_ENV=production needs {_name} (kind http), or {_allow}=1 for staging."
        )
if len(env("METRICS_TOKEN") or "") < 16:
    # /metrics answers loopback callers without a token; behind a proxy every caller is
    # loopback (issue 24): production does not start without one (also check xinyou.E001)
    raise ImproperlyConfigured("DJANGO_ENV=production needs METRICS_TOKEN (16+ characters).")
if not env("VOUCHER_SIGNING_KEYS"):
    raise ImproperlyConfigured("DJANGO_ENV=production needs VOUCHER_SIGNING_KEYS (Ed25519 keys).")

globals().update(databases(database_from_url(env("DATABASE_URL") or "")))
globals().update(redis_and_queue(env("REDIS_URL"), embedded_scheduler=False))

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- security ---------------------------------------------------------------------------
# Staff always log in with a second factor, nobody excepted (system check staff_auth.E001).
XINYOU_STAFF_2FA = True
XINYOU_STAFF_2FA_EXEMPT_PHONES = []
XINYOU_STAFF_SESSION_POLICY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
LANGUAGE_COOKIE_SECURE = True

# --- logging: JSON lines unless LOG_FORMAT says otherwise --------------------------------
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = {
    **LOGGING,
    "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": LOG_FORMAT}},
    "loggers": {**LOGGING["loggers"], "django.server": {"level": "WARNING"}},
}
