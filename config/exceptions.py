"""One error envelope for every error on /api/: `{"error": {"code", "message", "detail"}}`."""

import logging
import sys
from typing import Any

from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from core.errors import CODES, DomainError, envelope
from core.middleware import (
    current_outage,
    is_database_outage,
    log_outage,
    outage_response,
    retry_after_seconds,
)

logger = logging.getLogger("xinyou.api")
client_logger = logging.getLogger("xinyou.client")


def aborted_body_detail() -> dict[str, str]:
    return {"body": "the request body ended before its announced length (aborted upload)"}


def log_aborted_body(request: HttpRequest | None, exc: BaseException) -> None:
    """An aborted upload is the client's doing: a warning, never an error."""
    client_logger.warning(
        "aborted request body on %s %s: %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        type(exc).__name__,
    )


def aborted_body_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """`400 invalid_request` for a body the client stopped sending (UnreadablePostError)."""
    log_aborted_body(request, exc)
    response = JsonResponse(
        envelope("invalid_request", CODES["invalid_request"].message, aborted_body_detail()),
        status=400,
    )
    # logged above (django.utils.log.log_response reads this private flag)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _field_messages(data: Any) -> Any:
    """DRF's ValidationError detail as plain strings (lists of messages per field)."""
    if isinstance(data, dict):
        return {str(k): _field_messages(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_field_messages(v) for v in data]
    return str(data)


def _classify(exc: Exception) -> tuple[int, str, Any, Any] | None:
    """(status, code, message, detail) for a known exception, None for an unexpected one."""
    if isinstance(exc, DomainError):
        return exc.status, exc.code, exc.message, exc.detail
    if isinstance(exc, drf.ValidationError):
        detail = _field_messages(exc.detail)
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        return 400, "invalid_request", CODES["invalid_request"].message, detail
    if isinstance(exc, drf.ParseError):
        return 400, "invalid_request", CODES["invalid_request"].message, {"body": str(exc.detail)}
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, "not_authenticated", CODES["not_authenticated"].message, None
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        return 403, "permission_denied", CODES["permission_denied"].message, None
    if isinstance(exc, drf.NotFound | Http404):
        return 404, "not_found", CODES["not_found"].message, None
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, "method_not_allowed", CODES["method_not_allowed"].message, None
    if isinstance(exc, drf.NotAcceptable):
        return 406, "not_acceptable", CODES["not_acceptable"].message, None
    if isinstance(exc, drf.UnsupportedMediaType):
        return 415, "unsupported_media_type", CODES["unsupported_media_type"].message, None
    if isinstance(exc, drf.Throttled):
        # DRF sets Throttled.wait (seconds, rounded up, or None); the stubs do not declare it
        wait = int(exc.wait) if exc.wait is not None else None  # type: ignore[attr-defined]
        return 429, "throttled", CODES["throttled"].message, {"retry_after": wait}
    if isinstance(exc, UnreadablePostError):
        log_aborted_body(None, exc)
        return 400, "invalid_request", CODES["invalid_request"].message, aborted_body_detail()
    if isinstance(exc, RequestDataTooBig):
        return 413, "request_too_large", CODES["request_too_large"].message, None
    if isinstance(exc, SuspiciousOperation):
        return 400, "invalid_request", CODES["invalid_request"].message, None
    if isinstance(exc, drf.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_request"
        return exc.status_code, str(code), str(exc.detail), None
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response:
    if is_database_outage(exc):  # 503 with Retry-After, never a 500 (api.md)
        log_outage(context.get("request"), exc)
        retry = retry_after_seconds()
        body = envelope(
            "service_unavailable", CODES["service_unavailable"].message, {"retry_after": retry}
        )
        headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
        response = Response(body, status=503, headers=headers)
        # Logged above as a warning, not as a server error. Django's own private flag (read
        # by django.utils.log.log_response), which the stubs do not declare.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    classified = _classify(exc)
    if classified is None:
        view = context.get("view")
        logger.exception("unexpected error in %s", type(view).__name__ if view else "api")
        return Response(envelope("server_error", CODES["server_error"].message), status=500)
    status, code, message, detail = classified
    response = Response(envelope(code, message, detail), status=status)
    # keep DRF's headers (WWW-Authenticate, Retry-After, Allow)
    default = drf_default_handler(exc, context) if isinstance(exc, drf.APIException) else None
    if default is not None:
        for header in ("WWW-Authenticate", "Retry-After", "Allow"):
            if header in default:
                response[header] = default[header]
    return response


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ answer with the envelope, not Django's HTML page."""
    return JsonResponse(envelope("not_found", CODES["not_found"].message), status=404)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: the envelope for /api/ paths, Django's plain page elsewhere; a database
    outage met outside a view (in middleware) is a 503 like everywhere else."""
    outage = current_outage()
    if outage is not None:
        return outage_response(request, outage)
    exc = sys.exc_info()[1]
    if isinstance(exc, UnreadablePostError):  # met in middleware (CSRF reads the form)
        return aborted_body_response(request, exc)
    if request.path.startswith("/api/"):
        return JsonResponse(envelope("server_error", CODES["server_error"].message), status=500)
    from django.views.defaults import server_error as default_500

    return default_500(request)


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> JsonResponse:
    """handler400 (SuspiciousOperation met outside DRF: a Host not in ALLOWED_HOSTS, a
    malformed cookie or multipart body): the envelope on every path, never HTML."""
    detail: dict[str, Any] = {}
    if isinstance(exception, DisallowedHost):
        detail = {"host": "this server does not answer for the Host header sent"}
    return JsonResponse(
        envelope("invalid_request", CODES["invalid_request"].message, detail), status=400
    )
