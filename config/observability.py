"""Request ids, structured logs and Prometheus metrics.

- Every request gets an id: the caller's (or the load balancer's) `X-Request-ID` when it
  is a sane token, else a new one. It is in every log line written while the request is
  served, in the response header, and it travels into the Celery tasks the request
  queued (a message header), whose log lines carry it too.
- `/metrics` serves Prometheus' text format: requests by route, method and status,
  latency histograms per route, redemptions, claims and pass checks by status, Celery's
  queue depth and the replica's lag. With several gunicorn workers the figures of all of
  them are summed through prometheus-client's multiprocess files
  (`PROMETHEUS_MULTIPROC_DIR`). It is not for the public: a bearer token
  (`METRICS_TOKEN`), or, with none set, loopback callers only.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from typing import Any, cast

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = "X-Request-ID"


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or `-`) on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        rid = given if _SANE_ID.match(given) else new_request_id()
        # for whoever handles the request; HttpRequest does not declare the attribute
        setattr(request, "request_id", rid)  # noqa: B010
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response


# --- Celery: the id crosses into tasks --------------------------------------------------


@before_task_publish.connect
def _stamp_task(headers: dict | None = None, **kwargs: Any) -> None:
    rid = request_id.get()
    if headers is not None and rid != "-":
        headers.setdefault("request_id", rid)


_task_tokens: dict[str, Token[str]] = {}


@task_prerun.connect
def _enter_task(task_id: str | None = None, task: Task | None = None, **kwargs: Any) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    if rid is None and task is not None:
        rid = (getattr(task.request, "headers", None) or {}).get("request_id")
    if rid and task_id:
        _task_tokens[task_id] = request_id.set(str(rid))


@task_postrun.connect
def _leave_task(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id.reset(token)


# --- metrics ---------------------------------------------------------------------------

REQUESTS = Counter(
    "xinyou_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "xinyou_http_request_duration_seconds",
    "Time to answer, by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# The programme's own events, counted from the HTTP outcome of their endpoints.
EVENTS = Counter("xinyou_events_total", "Redemptions, claims and pass checks", ["event", "status"])
_EVENT_ROUTES = {
    ("POST", "api/v1/merchant/redemptions"): "redemption",
    ("POST", "api/v1/merchant/redemptions/batch"): "redemption_batch",
    ("POST", "api/v1/offers/<int:pk>/claim"): "claim",
    ("POST", "api/v1/merchant/pass-checks"): "pass_check",
}


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        method = request.method if request.method in _METHODS else "OTHER"
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        event = _EVENT_ROUTES.get((method, route))
        if event is not None:
            EVENTS.labels(event, str(response.status_code)).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class _LiveGauges:
    """Read at scrape time: Celery's queue depth in Redis and the replica's lag."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "xinyou_celery_queue_depth", "Messages waiting in Celery's queue", labels=["queue"]
        )
        broker = settings.CELERY_BROKER_URL or ""
        if broker.startswith("redis"):
            try:
                import redis

                client = redis.Redis.from_url(
                    broker, socket_timeout=0.5, socket_connect_timeout=0.5
                )
                # a synchronous client answers an int; redis-py's hints allow an Awaitable
                depth.add_metric(["celery"], float(cast(int, client.llen("celery"))))
            except Exception:  # a scrape reports what it can
                logger.warning("metrics: Celery queue depth unavailable")
        yield depth
        from core.replica import configured, replica_lag

        if configured():
            lag = replica_lag()
            gauge = GaugeMetricFamily("xinyou_replica_lag_seconds", "Replica behind primary")
            gauge.add_metric([], -1.0 if lag is None else lag)
            yield gauge


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"}


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(status=404)  # not for the public: do not even say it exists
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry)
    live = CollectorRegistry()
    live.register(_LiveGauges())
    return HttpResponse(body + generate_latest(live), content_type=CONTENT_TYPE_LATEST)
