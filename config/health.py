"""Liveness and readiness probes."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from core import replica
from core.resilience import ping_redis


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("read back failed")


def _check_redis() -> None:
    # Redis itself, not the cache: the cache answers from process memory while Redis is
    # away (core.resilience), which is exactly what readiness must report.
    ping_redis()


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis (or, embedded, the local cache) answer; else 503
    naming what failed (`failed`: `database`, `redis`). With Redis down the API still
    serves in degraded mode (docs/outages.md); readiness reports it all the same, and
    answers 200 for it to a probe that asks `?accept=degraded`."""
    uses_redis = "redis" in str(settings.CACHES["default"]["BACKEND"]).lower()
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", _check_database),
        ("redis", _check_redis) if uses_redis else ("cache", _check_cache),
    ):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # a probe reports, it never raises
            checks[name] = f"error: {type(exc).__name__}"
    failed = sorted(k for k, v in checks.items() if v != "ok")
    # Redis alone away: the API keeps serving from process memory ("degraded").
    status = "ok" if not failed else "degraded" if failed == ["redis"] else "unavailable"
    body = {"status": status, "checks": checks, "failed": failed}
    if replica.configured():
        # the replica is reported, not required: reads fall back to the primary without it
        lag = replica.replica_lag()
        body["replica"] = {
            "lag_seconds": lag,
            "status": "unreachable"
            if lag is None
            else ("lagging" if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS else "ok"),
        }
    # A probe that can only read the status code (a Kubernetes readinessProbe) asks with
    # ?accept=degraded: a node that serves without Redis stays in rotation (otherwise one
    # Redis outage would take every pod out of its Service at once).
    accepted = {"ok", "degraded"} if request.GET.get("accept") == "degraded" else {"ok"}
    return JsonResponse(body, status=200 if status in accepted else 503)
