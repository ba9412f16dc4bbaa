"""The project-wide domain error: a stable machine code, a human message, an HTTP status.

Every app raises subclasses of `DomainError`; one exception handler (config.exceptions)
renders them, and every other error, as the envelope of api.md:
`{"error": {"code", "message", "detail"}}`.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal with a stable `code` that clients switch on."""

    status: int = 400
    code: str = "invalid_request"
    message: str | Promise = _("请求无法处理。")

    def __init__(
        self,
        code: str | None = None,
        message: str | Promise | None = None,
        *,
        status: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status
        self.detail = detail or {}
        super().__init__(f"{self.code}: {self.message}")


def envelope(code: str, message: Any, detail: Any = None) -> dict[str, Any]:
    """The one error shape of api.md."""
    return {"error": {"code": code, "message": str(message), "detail": detail or {}}}


def render(exc: DomainError) -> dict[str, Any]:
    return envelope(exc.code, exc.message, exc.detail)


class AccountError(DomainError):
    """Errors of registration, login and profiles."""


ALREADY_REGISTERED = ("already_registered", _("该手机号或身份证号已注册。"), 409)
UNKNOWN_CITY = ("unknown_city", _("不是合作城市。"), 400)
INVALID_CREDENTIALS = ("invalid_credentials", _("手机号或密码不正确。"), 401)
INVALID_TOKEN = ("invalid_token", _("令牌无效或已过期。"), 401)


def account_error(spec: tuple[str, Any, int], **detail: Any) -> AccountError:
    code, message, status = spec
    return AccountError(code, message, status=status, detail=detail or None)
