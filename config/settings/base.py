"""Settings shared by every profile, read from the environment.

The profiles (config/settings/__init__.py) import this module and add what is theirs:
embedded.py (`make run`: the embedded PostgreSQL, eager Celery, a local-memory cache,
the in-process scheduler), production.py (DATABASE_URL and REDIS_URL required, real
secrets required) and test.py (the suite: throwaway PostgreSQL and Redis servers).
The values here are the development defaults; production.py hardens them.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: str | None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; unset or empty, the default."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


def env_json(name: str, default: Any) -> Any:
    """The variable's value parsed as JSON; unset or empty, the default (not parsed)."""
    value = env(name)
    return json.loads(value) if value is not None else default


DJANGO_ENV = "development"  # production.py: "production"

_DEV_SECRET = "django-insecure-xinyou-embedded-default-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET)
# Keyed hash of ID numbers (HMAC-SHA256). It is the alliance-wide person key: partner
# cities index residents and the seriously-dishonest list by the same keyed hash.
ID_HASH_KEY = env("ID_HASH_KEY", "xinyou-embedded-default-id-pepper")

DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    # the second factor of staff logins (TOTP and one-time recovery codes)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "accounts",
    "merchants",
    "incentives",
    "audit",  # the audit trail, the access log, retention (after the apps it tracks)
    "accounts.staff_auth",  # staff second factor and session policy (docs/accounts.md)
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "config.observability.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RejectNulMiddleware",
    "core.middleware.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # staff sessions: idle and absolute limits, then the second factor (accounts.staff_auth)
    "accounts.staff_auth.middleware.StaffSessionMiddleware",
    "accounts.staff_auth.middleware.StaffSecondFactorMiddleware",
    # who and from where, on the audit trail rows of a write (audit/middleware.py)
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.csp",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
# PostgreSQL only. Each profile names its primary (embedded.py: the embedded server;
# production.py and test.py: DATABASE_URL) and calls databases() for the rest.
# Behind PgBouncer in transaction pooling a server connection is shared between clients
# from one transaction to the next: no server-side cursors, no prepared statements, no
# startup options (jit=off is then set on the server instead).
DATABASE_POOLER = env("DATABASE_POOLER", "")  # "transaction" behind PgBouncer
DB_CONN_MAX_AGE = int(env("DB_CONN_MAX_AGE", "60"))


def database_from_url(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE))
    if "postgresql" not in config["ENGINE"]:
        raise ImproperlyConfigured(f"PostgreSQL is the only database: {url.split(':')[0]}://")
    return config


def databases(primary: dict) -> dict:
    """DATABASES (and DATABASE_ROUTERS) around the primary: a streaming replica for reads
    that may lag (dashboards, anonymous offer lists: core/replica.py) when
    DATABASE_REPLICA_URL is set (unset, every read goes to the primary), and the
    connection options of every PostgreSQL connection."""
    found = {"default": {"CONN_MAX_AGE": DB_CONN_MAX_AGE, **primary}}
    routers: list[str] = []
    if env("DATABASE_REPLICA_URL"):
        found["replica"] = database_from_url(env("DATABASE_REPLICA_URL") or "")
        found["replica"]["TEST"] = {"MIRROR": "default"}
        routers = ["core.replica.PrimaryReplicaRouter"]
    for db in found.values():
        db["CONN_HEALTH_CHECKS"] = True
        db.setdefault("OPTIONS", {})
        if DATABASE_POOLER == "transaction":
            db["DISABLE_SERVER_SIDE_CURSORS"] = True
            db["OPTIONS"]["prepare_threshold"] = None
        else:
            # Short OLTP queries: JIT compilation costs more than it saves (bench/offers).
            db["OPTIONS"]["options"] = "-c jit=off"
            # Django's cursors bind on the client and never prepare; only the hot paths'
            # core.db.prepared_cursor asks for a prepared statement, and psycopg prepares
            # nothing at all while this is None (Django's default).
            db["OPTIONS"].setdefault("prepare_threshold", 5)
        # An unreachable server fails a request fast (503 service_unavailable), never hangs.
        db["OPTIONS"]["connect_timeout"] = int(env("DB_CONNECT_TIMEOUT", "3"))
    return {"DATABASES": found, "DATABASE_ROUTERS": routers}


# Replica lag beyond which /readyz reports the replica as lagging (and reads of the
# router fall back to the primary).
DATABASE_REPLICA_MAX_LAG_SECONDS = float(env("DATABASE_REPLICA_MAX_LAG_SECONDS", "30"))
# Retry-After of a 503 while the database is unreachable (docs/outages.md).
OUTAGE_RETRY_AFTER_SECONDS = int(env("OUTAGE_RETRY_AFTER_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, Redis, Celery --------------------------------------------------------------
# While Redis is unreachable the cache answers from process memory (core.resilience,
# docs/outages.md); after a failure Redis is not tried again for REDIS_RETRY_SECONDS.
REDIS_CONNECT_TIMEOUT = float(env("REDIS_CONNECT_TIMEOUT", "0.5"))
REDIS_SOCKET_TIMEOUT = float(env("REDIS_SOCKET_TIMEOUT", "1.0"))
REDIS_RETRY_SECONDS = float(env("REDIS_RETRY_SECONDS", "5"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Outages (docs/outages.md). Publishing gives up fast (the caller then runs the work
# in-process: core.resilience.enqueue); a worker reconnects to a restarted Redis forever,
# and a task cut by the lost connection is delivered again (tasks are idempotent).
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# (A worker's BRPOP waits 1 s: its socket timeout must be longer.)
_QUEUE_SOCKET_TIMEOUT = max(REDIS_SOCKET_TIMEOUT, 2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": _QUEUE_SOCKET_TIMEOUT,
    # A message taken by a worker that dies unacknowledged goes back to the queue after
    # this many seconds; keep it above the longest task's time limit.
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600")),
    # ...and a worker looks for such messages every 10 s (kombu's default looks every
    # 10 × 10 s, so a task of a killed worker could wait its visibility timeout plus
    # 100 s before it ran again; docs/outages.md)
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = _QUEUE_SOCKET_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 0}}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Workers log through Django's LOGGING (JSON lines with request ids), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_REDBEAT_REDIS_OPTIONS: dict = {}
# The lock must outlive the longest sleep between two ticks, or the running beat loses it.
CELERY_BEAT_MAX_LOOP_INTERVAL = 10
CELERY_REDBEAT_LOCK_TIMEOUT = int(env("CELERY_REDBEAT_LOCK_TIMEOUT", "60"))


# Set by every profile through redis_and_queue() (declared here for the type checker, which
# reads this module: an annotation without a value defines no setting).
REDIS_URL: str | None
CELERY_BROKER_URL: str
CELERY_RESULT_BACKEND: str | None
CELERY_TASK_ALWAYS_EAGER: bool
CELERY_REDBEAT_REDIS_URL: str | None
EMBEDDED_SCHEDULER: bool
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]]


def redis_and_queue(redis_url: str | None, *, embedded_scheduler: bool) -> dict[str, Any]:
    """The settings that follow from REDIS_URL: the cache (Redis, or process memory
    without it), Celery's broker (without Redis tasks run eagerly; the in-memory transport,
    named with a host so that kombu does not warn about a missing one, never carries a
    message), the beat's lock, and the periodic work: `celery beat` with Redis; without
    it (embedded_scheduler) the web process runs the same schedule itself
    (config/scheduler.py)."""
    if redis_url:
        cache = {
            "BACKEND": "core.resilience.FallbackRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "xinyou"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # fail fast when Redis is away: probes, breakers and throttles must answer
                "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            },
        }
    else:
        cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "REDIS_URL": redis_url,
        "CACHES": {"default": cache},
        "CELERY_BROKER_URL": env("CELERY_BROKER_URL", redis_url or "memory://localhost/"),
        "CELERY_RESULT_BACKEND": env("CELERY_RESULT_BACKEND", redis_url),
        "CELERY_TASK_ALWAYS_EAGER": env_bool("CELERY_TASK_ALWAYS_EAGER", not redis_url),
        # One beat in the whole deployment, however many are started: celery-redbeat keeps
        # the schedule in Redis under a lock (`celery -A config beat -S redbeat.RedBeatScheduler`).
        "CELERY_REDBEAT_REDIS_URL": env("CELERY_REDBEAT_REDIS_URL", redis_url),
        "EMBEDDED_SCHEDULER": env_bool("EMBEDDED_SCHEDULER", embedded_scheduler),
        "CELERY_BEAT_SCHEDULE": beat_schedule(dashboard_seconds="300" if redis_url else "60"),
    }


def beat_schedule(*, dashboard_seconds: str) -> dict[str, dict[str, Any]]:
    return {
        "worker-heartbeat": {"task": "accounts.record_worker_heartbeat", "schedule": 60.0},
        "credit-sync-dishonest-lists": {
            "task": "accounts.sync_all_dishonest_lists",
            "schedule": float(env("CREDIT_LIST_SYNC_SECONDS", "3600")),
        },
        "credit-sync-honour-lists": {
            "task": "accounts.sync_all_honour_lists",
            "schedule": float(env("CREDIT_HONOUR_SYNC_SECONDS", str(24 * 3600))),
        },
        "enterprise-credit-sync": {
            "task": "merchants.sync_enterprise_credit",
            "schedule": float(env("ENTERPRISE_CREDIT_SYNC_SECONDS", str(24 * 3600))),
        },
        "credit-refresh-lapsing-standings": {
            "task": "accounts.refresh_lapsing_standings",
            "schedule": float(env("CREDIT_REFRESH_EVERY_SECONDS", "900")),
        },
        "vouchers-expire": {"task": "incentives.expire_vouchers", "schedule": 60.0},
        # behind the listing signal: revokes what a lost revocation task left open
        "vouchers-revoke-listed": {
            "task": "incentives.revoke_listed_vouchers",
            "schedule": float(env("VOUCHER_LISTED_SWEEP_SECONDS", "300")),
        },
        "idempotency-purge": {"task": "incentives.purge_idempotency_records", "schedule": 3600.0},
        # retention of personal and audit data (audit/retention.py, docs/accounts.md)
        "retention-purge": {"task": "audit.purge_expired", "schedule": 3600.0},
        # notices to residents (accounts/notices/): vouchers about to lapse, suspensions
        # that ended, and the SMS that are due (after the quiet hours, after an outage)
        "notices-vouchers-expiring": {
            "task": "incentives.notify_expiring_vouchers",
            "schedule": float(env("NOTICE_SWEEP_SECONDS", "300")),
        },
        "notices-suspensions-ended": {
            "task": "incentives.notify_ended_suspensions",
            "schedule": float(env("NOTICE_SWEEP_SECONDS", "300")),
        },
        "notices-send-due-sms": {"task": "accounts.send_due_notice_sms", "schedule": 60.0},
        # statements close on the 3rd of the next month (the task knows when: hourly is
        # enough, and catches up after an outage); a closed month is a no-op
        "statements-close-due": {
            "task": "incentives.close_due_statements",
            "schedule": float(env("STATEMENTS_CLOSE_SECONDS", "3600")),
        },
        "dashboard-refresh-rollups": {
            "task": "incentives.refresh_dashboard_rollups",
            # every minute on one machine (cheap), every five in production
            "schedule": float(env("DASHBOARD_REFRESH_SECONDS", dashboard_seconds)),
        },
        # risk signals of today and yesterday (docs/risk-signals.md), and their old rows
        "risk-signals": {
            "task": "incentives.compute_risk_signals",
            "schedule": float(env("RISK_SIGNAL_SECONDS", "3600")),
        },
        "risk-purge": {"task": "incentives.purge_risk_rows", "schedule": 24 * 3600.0},
    }


# --- risk signals (docs/risk-signals.md): what makes each fire --------------------------
# a clerk: busiest minute/hour above FACTOR x their own 30-day 95th percentile and the floor
RISK_CLERK_FACTOR = float(env("RISK_CLERK_FACTOR", "3"))
RISK_CLERK_PER_MINUTE = int(env("RISK_CLERK_PER_MINUTE", "12"))
RISK_CLERK_PER_HOUR = int(env("RISK_CLERK_PER_HOUR", "150"))
# one device: distinct residents within 10 minutes above the floor and FACTOR x the
# merchant's usual (99th percentile of its devices' ten minutes over 30 days)
RISK_DEVICE_RESIDENTS = int(env("RISK_DEVICE_RESIDENTS", "30"))
RISK_DEVICE_FACTOR = float(env("RISK_DEVICE_FACTOR", "2"))
# a merchant's offline conflict / refusal rate over 7 days against the rest of its city
RISK_MERCHANT_FACTOR = float(env("RISK_MERCHANT_FACTOR", "3"))
RISK_MERCHANT_MARGIN = float(env("RISK_MERCHANT_MARGIN", "0.05"))
RISK_MERCHANT_MIN_ROWS = int(env("RISK_MERCHANT_MIN_ROWS", "20"))
RISK_MERCHANT_MIN_EVENTS = int(env("RISK_MERCHANT_MIN_EVENTS", "5"))
# two cities: door-to-door speed (km/h) and time to reach and leave stations (hours)
RISK_TRAVEL_KMH = float(env("RISK_TRAVEL_KMH", "300"))
RISK_TRAVEL_SLACK_HOURS = float(env("RISK_TRAVEL_SLACK_HOURS", "1"))
# sign-ups: SMS-code requests and registrations within 10 minutes
RISK_SIGNUP_PER_ADDRESS = int(env("RISK_SIGNUP_PER_ADDRESS", "20"))
RISK_SIGNUP_PER_PREFIX = int(env("RISK_SIGNUP_PER_PREFIX", "60"))
RISK_MAX_ROWS = int(env("RISK_MAX_ROWS", "100"))  # rows kept behind one signal
RISK_SIGNAL_DAYS = int(env("RISK_SIGNAL_DAYS", "365"))  # signals kept (then purged)
SIGNUP_EVENT_DAYS = int(env("SIGNUP_EVENT_DAYS", "30"))  # sign-up events kept

# --- auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# The lockout backend first: a locked phone gets no password login on any path.
AUTHENTICATION_BACKENDS = [
    "accounts.security.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- identity and account security (docs/accounts.md) ---------------------------------
# Proxies in front of the service whose X-Forwarded-For is trusted (0: none, the client
# address is REMOTE_ADDR). Used by the throttles (NUM_PROXIES) and the login lockout.
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "0"))
LOGIN_LOCK_FAILURES = int(env("LOGIN_LOCK_FAILURES", "10"))
LOGIN_LOCK_WINDOW_SECONDS = int(env("LOGIN_LOCK_WINDOW_SECONDS", "900"))
LOGIN_LOCK_SECONDS = int(env("LOGIN_LOCK_SECONDS", "900"))
# Retention (docs/accounts.md "Retention"; audit/retention.py purges hourly). The audit
# trail and the access log are kept at least 180 days whatever is set here.
AUDIT_TRAIL_RETENTION_DAYS = int(env("AUDIT_TRAIL_RETENTION_DAYS", "365"))
ACCESS_LOG_RETENTION_DAYS = int(env("ACCESS_LOG_RETENTION_DAYS", "365"))
SMS_CODE_RETENTION_HOURS = int(env("SMS_CODE_RETENTION_HOURS", "24"))
SMS_OUTBOX_RETENTION_HOURS = int(env("SMS_OUTBOX_RETENTION_HOURS", "24"))
LOGIN_RECORD_RETENTION_DAYS = int(env("LOGIN_RECORD_RETENTION_DAYS", "30"))
IDENTITY_CHECK_RETENTION_DAYS = int(env("IDENTITY_CHECK_RETENTION_DAYS", str(3 * 365)))
CREDIT_QUERY_RETENTION_DAYS = int(env("CREDIT_QUERY_RETENTION_DAYS", str(5 * 365)))
# The audit trail's rows are stamped with the time of the write, not of its transaction's
# start (several changes in one request keep their order).
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"
# growing delays per account and address (accounts.security.services.login_gate)
LOGIN_ADDRESS_FREE_FAILURES = int(env("LOGIN_ADDRESS_FREE_FAILURES", "5"))
LOGIN_ADDRESS_WINDOW_SECONDS = int(env("LOGIN_ADDRESS_WINDOW_SECONDS", "86400"))
LOGIN_DELAY_BASE_SECONDS = int(env("LOGIN_DELAY_BASE_SECONDS", "30"))
LOGIN_DELAY_MAX_SECONDS = int(env("LOGIN_DELAY_MAX_SECONDS", "900"))
# SMS codes (docs/sms-gateway-api.md): the gateway, and the codes' rules
SMS_GATEWAY: dict = json.loads(env("SMS_GATEWAY", '{"kind": "sandbox"}'))
SMS_CODE_KEY = env("SMS_CODE_KEY", f"sms:{SECRET_KEY}")
SMS_CODE_TTL_SECONDS = int(env("SMS_CODE_TTL_SECONDS", "300"))
SMS_RESEND_SECONDS = int(env("SMS_RESEND_SECONDS", "60"))
SMS_MAX_ATTEMPTS = int(env("SMS_MAX_ATTEMPTS", "5"))
SMS_CODES_PER_PHONE_PER_HOUR = int(env("SMS_CODES_PER_PHONE_PER_HOUR", "10"))
# Notices to residents (accounts/notices/, docs/notices.md): the SMS task's rate limit per
# worker (the gateway's), backoff base and cap, tries before a dead letter, a sender's claim
NOTICE_SMS_RATE_LIMIT = env("NOTICE_SMS_RATE_LIMIT", "20/s")
NOTICE_SMS_BACKOFF_SECONDS = float(env("NOTICE_SMS_BACKOFF_SECONDS", "30"))
NOTICE_SMS_BACKOFF_MAX_SECONDS = float(env("NOTICE_SMS_BACKOFF_MAX_SECONDS", "3600"))
NOTICE_SMS_MAX_ATTEMPTS = int(env("NOTICE_SMS_MAX_ATTEMPTS", "12"))
NOTICE_SMS_LEASE_SECONDS = float(env("NOTICE_SMS_LEASE_SECONDS", "120"))
# Asia/Shanghai hours "22-8": SMS wait from 22:00 until 08:00 ("0-0": no quiet hours)
NOTICE_QUIET_HOURS = tuple(int(h) for h in env("NOTICE_QUIET_HOURS", "22-8").split("-", 1))
# The real-name check before an account exists (docs/identity-api.md)
IDENTITY_PROVIDER: dict = json.loads(env("IDENTITY_PROVIDER", '{"kind": "sandbox"}'))
LOGIN_REDIRECT_URL = "admin:index"

# --- staff logins: second factor and sessions (accounts/staff_auth, docs/accounts.md) --------
# Every staff account (core.roles.is_staff_account) logs into admin, the dashboard and the
# API with password + TOTP (or a one-time recovery code). Off only in the test settings
# (the suite's password logins); production forces it on.
XINYOU_STAFF_2FA = env_bool("STAFF_2FA", True)
# Phones let through without the second factor: the demo's staff under `make run` only
# (config/settings/embedded.py); production refuses any (a system check).
XINYOU_STAFF_2FA_EXEMPT_PHONES: list[str] = env_list("STAFF_2FA_EXEMPT_PHONES", [])
OTP_TOTP_ISSUER = "信游 Xinyou"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # nobody reads a TOTP secret back in admin
STAFF_RECOVERY_CODES = 10
# Staff sessions end after this long without a request, and this long after the login.
XINYOU_STAFF_SESSION_POLICY = env_bool("STAFF_SESSION_POLICY", True)
STAFF_SESSION_IDLE_SECONDS = int(env("STAFF_SESSION_IDLE_SECONDS", "1800"))
STAFF_SESSION_MAX_SECONDS = int(
    env("STAFF_SESSION_MAX_SECONDS", str(12 * 3600))
)  # the admin login without `next` lands on the admin

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth_token": env("THROTTLE_AUTH_TOKEN", "10/min"),
        "register": env("THROTTLE_REGISTER", "20/hour"),
        "sms_code": env("THROTTLE_SMS_CODE", "20/hour"),
    },
    # the client address of throttles: X-Forwarded-For only through trusted proxies
    "NUM_PROXIES": TRUSTED_PROXY_HOPS,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(env("JWT_ACCESS_MINUTES", "10"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(env("JWT_REFRESH_DAYS", "7"))),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", SECRET_KEY),
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    # refresh tokens rotate; the one sent is spent (token_blacklist)
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "信游 Xinyou API",
    "DESCRIPTION": "Cross-city credit-based trust rewards: residents, credit standing, "
    "offers, vouchers and redemption. Every error is `{error: {code, message, detail}}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TierEnum": "accounts.credit.models.Tier",
        "OfferKindEnum": "merchants.models.Offer.Kind",
        "IncidentKindEnum": "incentives.incidents.models.Incident.Kind",
        "IncidentStatusEnum": "incentives.incidents.models.Incident.Status",
        "HonourKindEnum": "accounts.credit.models.HonourKind",
        "SchemeKindEnum": "accounts.credit.models.Scheme.Kind",
        "StatementStatusEnum": ["open", "closed"],
        "RiskSignalStateEnum": "incentives.risk.models.RiskSignal.State",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- i18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Bodies above this size are refused with 413 request_too_large.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (Django's own middleware): scripts only from
# this origin or with the request's nonce, never inline without it and never eval; the
# same for <style> elements. Style attributes stay allowed: the admin's widgets, ECharts'
# tooltips and Swagger UI set them, and they cannot run code. Camera frames and QR images
# are blob: or data: URLs of the page itself.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF, "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- logging ------------------------------------------------------------------------------
# LOG_FORMAT=json gives one JSON object a line (python-json-logger), with the request id
# that crosses from the web request into the Celery tasks it queued.
LOG_FORMAT = env("LOG_FORMAT", "plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.observability.RequestIdFilter"},
        # nothing personal in logs: query strings lose personal values (core/logredact.py)
        "redact_queries": {"()": "core.logredact.RedactQueryFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_queries"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING" if not DEBUG else "INFO"},
    },
}

# --- credit providers -------------------------------------------------------------------
# Every partner city uses the sandbox unless CREDIT_PROVIDERS (JSON) names another, e.g.
# {"330100": {"kind": "http", "base_url": "https://open.example.cn", "app_key": "...",
#             "app_secret": "...", "timeout": 2.0, "retries": 2}}
CREDIT_PROVIDERS: dict = json.loads(env("CREDIT_PROVIDERS", "{}"))
CREDIT_SANDBOX_FILE = env(
    "CREDIT_SANDBOX_FILE", str(BASE_DIR / "accounts/credit/sandbox_persons.json")
)
CREDIT_SANDBOX_LIST_FILE = env("CREDIT_SANDBOX_LIST_FILE")  # extra listed hashes, one a line
CREDIT_SANDBOX_DELAY_SECONDS = float(env("CREDIT_SANDBOX_DELAY_SECONDS", "0"))
CREDIT_SANDBOX_DOWN_CITIES = env_list("CREDIT_SANDBOX_DOWN_CITIES", [])
CREDIT_BREAKER_FAILURES = int(env("CREDIT_BREAKER_FAILURES", "5"))
CREDIT_BREAKER_RESET_SECONDS = float(env("CREDIT_BREAKER_RESET_SECONDS", "30"))
# How long POST /me/credit/verify waits for the provider before answering 202 pending.
CREDIT_VERIFY_BUDGET_SECONDS = float(env("CREDIT_VERIFY_BUDGET_SECONDS", "2.0"))
# A standing verified this recently is served again without a new provider query.
CREDIT_VERIFY_REUSE_SECONDS = int(env("CREDIT_VERIFY_REUSE_SECONDS", "300"))
# Refresh: standings lapsing within this window are refreshed, spread over this many seconds.
CREDIT_REFRESH_AHEAD_SECONDS = int(env("CREDIT_REFRESH_AHEAD_SECONDS", str(24 * 3600)))
CREDIT_REFRESH_SPREAD_SECONDS = int(env("CREDIT_REFRESH_SPREAD_SECONDS", "3600"))
CREDIT_LIST_BATCH_SIZE = int(env("CREDIT_LIST_BATCH_SIZE", "5000"))
# Enterprise credit of merchants (docs/partner-enterprise-credit-api.md): the sandbox unless
# e.g. {"kind": "http", "base_url": "https://...", "app_key": "...", "app_secret": "..."}.
ENTERPRISE_CREDIT_PROVIDER: dict = json.loads(env("ENTERPRISE_CREDIT_PROVIDER", "{}"))
ENTERPRISE_CREDIT_SANDBOX_FILE = env(
    "ENTERPRISE_CREDIT_SANDBOX_FILE", str(BASE_DIR / "merchants/credit/sandbox_enterprises.json")
)
ENTERPRISE_CREDIT_SANDBOX_LIST_FILE = env("ENTERPRISE_CREDIT_SANDBOX_LIST_FILE")


# --- voucher signing ----------------------------------------------------------------------
# JSON list of {"kid", "private_key" (base64 of the raw 32-byte Ed25519 seed) or
# "public_key" (verify-only, for retired keys), "not_before", "not_after"}. Several may be
# active for rotation; VOUCHER_ACTIVE_KID signs new vouchers.
def _dev_voucher_key() -> list[dict]:
    import base64
    import hashlib

    seed = hashlib.sha256(f"xinyou-voucher-dev-key:{SECRET_KEY}".encode()).digest()
    return [{"kid": "D1", "private_key": base64.b64encode(seed).decode()}]


VOUCHER_SIGNING_KEYS: list[dict] = env_json("VOUCHER_SIGNING_KEYS", _dev_voucher_key())
VOUCHER_ACTIVE_KID = env("VOUCHER_ACTIVE_KID", VOUCHER_SIGNING_KEYS[0]["kid"])

# --- credit pass and incidents ------------------------------------------------------------
# How long a personal credit pass (信用码) is good for, in seconds (at most 300).
CREDIT_PASS_SECONDS = int(env("CREDIT_PASS_SECONDS", "300"))
# Days a confirmed incident suspends a resident from a scenario's offers, per scenario, as
# JSON ({"stay": 180, "medical": 365}); a scenario not named gets 90 days.
INCIDENT_SUSPENSION_DAYS: dict[str, int] = json.loads(env("INCIDENT_SUSPENSION_DAYS", "{}"))

# --- observability ------------------------------------------------------------------------
# GET /metrics (Prometheus text format) answers a request carrying
# `Authorization: Bearer $METRICS_TOKEN`, or, with no token set, one from loopback only.
METRICS_TOKEN = env("METRICS_TOKEN")
# With several gunicorn workers, prometheus-client aggregates through files in this folder
# (PROMETHEUS_MULTIPROC_DIR, set by the process manager before start and emptied then).
