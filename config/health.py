"""Liveness and readiness probes."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("read back failed")


def readyz(request) -> JsonResponse:
    """200 when the database and Redis (or, embedded, the local cache) answer; else 503
    naming what failed."""
    uses_redis = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", _check_database),
        ("redis" if uses_redis else "cache", _check_cache),
    ):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # a probe reports, it never raises
            checks[name] = f"error: {type(exc).__name__}"
    failed = sorted(k for k, v in checks.items() if v != "ok")
    body = {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)
