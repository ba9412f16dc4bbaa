"""The one error-code registry and the error envelope of the API.

Every refusal a client can meet has a stable `code` that clients switch on. Codes are
declared once, each in the lowest module that needs it, with `declare()`:

    QUOTA_EXHAUSTED = declare("quota_exhausted", 409, _("该优惠已领完。"))

and raised by calling the declared code, keyword arguments becoming `detail`:

    raise errors.QUOTA_EXHAUSTED(remaining=0)

`http_status=` overrides the declared status where the contract (docs/api.md) gives the same
code another status on one endpoint. `CODES` holds every declared code: the tests' list of
codes and the front end's messages are derived from it. One exception handler
(`config.exceptions`) renders every error as `{"error": {"code", "message", "detail"}}`.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal with a stable `code`, a human `message`, an HTTP `status` and `detail`."""

    def __init__(
        self,
        code: str = "invalid_request",
        message: str | Promise | None = None,
        *,
        status: int = 400,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message = message if message is not None else _("请求参数有误。")
        self.status = status
        self.detail = detail or {}
        super().__init__(f"{self.code}: {self.message}")


@dataclass(frozen=True)
class ErrorCode:
    """A declared code: its default HTTP status and its (translatable) message."""

    code: str
    status: int
    message: str | Promise

    def __call__(self, *, http_status: int | None = None, **detail: Any) -> DomainError:
        return DomainError(
            self.code, self.message, status=http_status or self.status, detail=detail or None
        )


CODES: dict[str, ErrorCode] = {}


def declare(code: str, status: int, message: str | Promise) -> ErrorCode:
    """Register `code` once; declaring the same code twice is a programming error."""
    if code in CODES:
        raise ValueError(f"error code {code!r} is declared twice")
    CODES[code] = ErrorCode(code, status, message)
    return CODES[code]


def envelope(code: str, message: Any, detail: Any = None) -> dict[str, Any]:
    """The one error shape of docs/api.md."""
    return {"error": {"code": code, "message": str(message), "detail": detail or {}}}


def render(exc: DomainError) -> dict[str, Any]:
    return envelope(exc.code, exc.message, exc.detail)


# The codes of the conventions (docs/api.md): any endpoint may answer them.
INVALID_REQUEST = declare("invalid_request", 400, _("请求参数有误。"))
NOT_AUTHENTICATED = declare("not_authenticated", 401, _("请先登录。"))
PERMISSION_DENIED = declare("permission_denied", 403, _("没有权限执行此操作。"))
NOT_FOUND = declare("not_found", 404, _("未找到。"))
METHOD_NOT_ALLOWED = declare("method_not_allowed", 405, _("不支持该请求方法。"))
NOT_ACCEPTABLE = declare("not_acceptable", 406, _("无法提供所请求的格式。"))
REQUEST_TOO_LARGE = declare("request_too_large", 413, _("请求内容过大。"))
# answered by the HTTP server (core/gunicorn_worker.py) and the balancer (deploy/haproxy/)
# before Django sees the request: the same envelope, with codes of their own
REQUEST_TIMEOUT = declare("request_timeout", 408, _("请求发送超时，请重试。"))
URI_TOO_LONG = declare("uri_too_long", 414, _("请求地址过长。"))
HEADERS_TOO_LARGE = declare("headers_too_large", 431, _("请求头过大。"))
UNSUPPORTED_MEDIA_TYPE = declare(
    "unsupported_media_type", 415, _("请求内容类型不受支持，请使用 application/json。")
)
THROTTLED = declare("throttled", 429, _("请求过于频繁，请稍后再试。"))
SERVER_ERROR = declare("server_error", 500, _("服务器开小差了，请稍后再试。"))
SERVICE_UNAVAILABLE = declare("service_unavailable", 503, _("服务暂时中断，请稍后再试。"))
