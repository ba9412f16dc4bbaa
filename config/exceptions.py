"""One error envelope for every error on /api/: `{"error": {"code", "message", "detail"}}`."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from accounts.errors import DomainError, envelope

logger = logging.getLogger("xinyou.api")

_MESSAGES = {
    "invalid_request": _("请求参数有误。"),
    "not_authenticated": _("请先登录。"),
    "permission_denied": _("没有权限执行此操作。"),
    "not_found": _("未找到。"),
    "method_not_allowed": _("不支持该请求方法。"),
    "not_acceptable": _("无法提供所请求的格式。"),
    "unsupported_media_type": _("请求内容类型不受支持，请使用 application/json。"),
    "request_too_large": _("请求内容过大。"),
    "throttled": _("请求过于频繁，请稍后再试。"),
    "server_error": _("服务器开小差了，请稍后再试。"),
}


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
        return 400, "invalid_request", _MESSAGES["invalid_request"], detail
    if isinstance(exc, drf.ParseError):
        return 400, "invalid_request", _MESSAGES["invalid_request"], {"body": str(exc.detail)}
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, "not_authenticated", _MESSAGES["not_authenticated"], None
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        return 403, "permission_denied", _MESSAGES["permission_denied"], None
    if isinstance(exc, drf.NotFound | Http404):
        return 404, "not_found", _MESSAGES["not_found"], None
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, "method_not_allowed", _MESSAGES["method_not_allowed"], None
    if isinstance(exc, drf.NotAcceptable):
        return 406, "not_acceptable", _MESSAGES["not_acceptable"], None
    if isinstance(exc, drf.UnsupportedMediaType):
        return 415, "unsupported_media_type", _MESSAGES["unsupported_media_type"], None
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait) if exc.wait is not None else None
        return 429, "throttled", _MESSAGES["throttled"], {"retry_after": wait}
    if isinstance(exc, RequestDataTooBig):
        return 413, "request_too_large", _MESSAGES["request_too_large"], None
    if isinstance(exc, SuspiciousOperation):
        return 400, "invalid_request", _MESSAGES["invalid_request"], None
    if isinstance(exc, drf.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_request"
        return exc.status_code, str(code), str(exc.detail), None
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response:
    classified = _classify(exc)
    if classified is None:
        view = context.get("view")
        logger.exception("unexpected error in %s", type(view).__name__ if view else "api")
        return Response(envelope("server_error", _MESSAGES["server_error"]), status=500)
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
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown URLs under /api/ answer with the envelope, not Django's HTML page."""
    return JsonResponse(envelope("not_found", _MESSAGES["not_found"]), status=404)


def server_error(request, *args, **kwargs):
    """handler500: the envelope for /api/ paths, Django's plain page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(envelope("server_error", _MESSAGES["server_error"]), status=500)
    from django.views.defaults import server_error as default_500

    return default_500(request)
