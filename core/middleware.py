"""Middleware for what no view should meet: a request with a NUL character in its path or
query (400/404 before any view or query runs), and a database that cannot be reached
(`503 service_unavailable` with `Retry-After`, on every endpoint and page, instead of a
500; the next request after the database returns is served normally, since Django
reconnects per request)."""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

from core.errors import CODES, envelope

logger = logging.getLogger("xinyou.outage")

# What psycopg raises (wrapped by Django) when the server is down, restarting, or the
# connection broke mid-request; also transient refusals worth a retry (serialization
# failures, lock timeouts).
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)


def retry_after_seconds() -> int:
    return int(getattr(settings, "OUTAGE_RETRY_AFTER_SECONDS", 5))


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")


def _page(status: int, message: str) -> HttpResponse:
    title = escape(_("信游 Xinyou"))
    body = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><p>{escape(message)}</p></body></html>"
    )
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def error_response(request: HttpRequest, code: str, detail: dict | None = None) -> HttpResponse:
    """The error envelope (API, JSON callers) or a minimal page, for a declared code."""
    declared = CODES[code]
    if _wants_json(request):
        return JsonResponse(envelope(code, declared.message, detail), status=declared.status)
    return _page(declared.status, str(declared.message))


def log_outage(request, exc: BaseException) -> None:
    first_line = (str(exc).strip().splitlines() or [""])[0]
    logger.warning(
        "database unavailable on %s %s: %s: %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        type(exc).__name__,
        first_line,
    )


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """`503 service_unavailable` with `Retry-After` (header and `detail.retry_after`)."""
    log_outage(request, exc)
    retry = retry_after_seconds()
    response = error_response(request, "service_unavailable", {"retry_after": retry})
    response["Retry-After"] = str(retry)
    response["Cache-Control"] = "no-store"
    # Logged above as a warning, not as a server error. Django's own private flag (read by
    # django.utils.log.log_response), which the stubs do not declare.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_OUTAGE_ERRORS)


class DatabaseOutageMiddleware:
    """Turns a database outage met by a view (pages, admin, dashboard) into a 503; DRF
    views answer the same through `config.exceptions`, and `handler500` catches what is
    raised outside views."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_outage(exception):
            return outage_response(request, exception)
        return None


class RejectNulMiddleware:
    """A NUL character (`%00`) names nothing and PostgreSQL text cannot hold it: a path
    with one is `404 not_found`, a query string with one `400 invalid_request`."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "\x00" in request.path_info:
            return error_response(request, "not_found")
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return error_response(
                request, "invalid_request", {"query": [_("查询参数含有空字符（NUL）。")]}
            )
        return self.get_response(request)


def current_outage() -> BaseException | None:
    """The database outage being handled now, if any (for handler500)."""
    exc = sys.exc_info()[1]
    return exc if is_database_outage(exc) else None
