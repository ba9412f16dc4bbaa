"""The lockout on every password login path: the API (accounts.api), the Django admin and
the dashboard login (forms below), and any other caller of `authenticate` (the backend).
The decision is `services.login_gate`; the per-address throttle of the forms shares the
API's `auth_token` bucket (one budget per address across every door).
"""

import contextlib
import logging

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import SimpleRateThrottle

from core import roles
from core.errors import DomainError

from .services import client_ip, login_gate, record_failure

logger = logging.getLogger("xinyou.security")

SECOND_FACTOR_ATTR = "_xinyou_second_factor"


def mark_second_factor(request: HttpRequest) -> None:
    """This request carries the owner's verified second factor (see login_gate)."""
    setattr(request, SECOND_FACTOR_ATTR, True)


def has_second_factor(request: HttpRequest | None) -> bool:
    return bool(getattr(request, SECOND_FACTOR_ATTR, False))


class LockoutBackend:
    """First in AUTHENTICATION_BACKENDS: a locked phone gets no password login anywhere
    (unless the request carries the owner's second factor).

    It only refuses (never authenticates, has no `get_user`), so sessions keep naming the
    backend that did authenticate, and `force_login` picks ModelBackend."""

    def authenticate(self, request, username=None, password=None, phone=None, **kwargs):
        who = phone or username
        if who and password is not None:
            decision = login_gate(
                str(who),
                client_ip(request) if request is not None else None,
                second_factor=has_second_factor(request),
            )
            if decision.reason == "account_locked":
                raise PermissionDenied
        return None


def on_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: count the failure against the phone that was tried."""
    phone = credentials.get("phone") or credentials.get("username")
    if isinstance(phone, str) and phone:
        record_failure(phone.strip()[:32], client_ip(request) if request is not None else None)


class _FormThrottle(SimpleRateThrottle):
    """The API's per-address login throttle (`auth_token`), for the HTML login forms:
    the cache key of DRF's ScopedRateThrottle for an anonymous caller, so one address has
    one budget across every door."""

    scope = "auth_token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def login_form_retry_after(request: HttpRequest | None) -> int | None:
    """Counts one login-form POST against the client address; seconds to wait when the
    address is over its budget, else None."""
    if request is None:
        return None
    throttle = _FormThrottle()
    try:
        if throttle.allow_request(request, None):  # type: ignore[arg-type]
            return None
    except Exception as exc:
        logger.warning("login form throttle unavailable: %s", type(exc).__name__)
        return None
    return max(1, int(throttle.wait() or 1))


LOCKED_MESSAGE = _("登录失败次数过多，该账号的密码登录已锁定，请 %(minutes)s 分钟后再试。")
DELAY_MESSAGE = _("此地址登录失败次数过多，请 %(seconds)s 秒后再试，或使用短信验证码登录。")
ADDRESS_MESSAGE = _("登录尝试过于频繁，请 %(seconds)s 秒后再试。")
SMS_SENT_MESSAGE = _("如该手机号有账号，验证码已发送，请输入短信验证码和密码登录。")
SMS_WRONG_MESSAGE = _("短信验证码不正确或已过期。")


class _LockAware(forms.Form):
    """Username and password, plus the owner's way past a lock: an optional login SMS
    code (`sms_code`), asked for with the `send_sms_code` button."""

    sms_code = forms.RegexField(
        r"^[0-9]{6}$", required=False, label=_("短信验证码"), max_length=6, strip=True
    )

    def clean(self):
        request = getattr(self, "request", None)
        wait = login_form_retry_after(request)
        if wait:
            raise ValidationError(ADDRESS_MESSAGE, code="throttled", params={"seconds": wait})
        phone = (self.cleaned_data.get("username") or "").strip()
        if phone and self.data.get("send_sms_code"):
            self._send_code(phone)
        code = self.cleaned_data.get("sms_code")
        second_factor = False
        if phone and code:
            second_factor = self._check_code(phone, code)
            if request is not None:
                mark_second_factor(request)
        decision = login_gate(
            phone, client_ip(request) if request is not None else None, second_factor=second_factor
        ) if phone else None  # fmt: skip
        if decision is not None and not decision.allowed:
            retry = decision.retry_after or 1
            if decision.reason == "account_locked":
                raise ValidationError(
                    LOCKED_MESSAGE, code="throttled", params={"minutes": max(1, -(-retry // 60))}
                )
            raise ValidationError(DELAY_MESSAGE, code="throttled", params={"seconds": retry})
        return super().clean()

    def _send_code(self, phone: str) -> None:
        from accounts.sms import services as sms

        # too soon, or the gateway away: the same answer (no account enumeration)
        with contextlib.suppress(DomainError):
            sms.send_code(phone=phone, purpose="login")
        raise ValidationError(SMS_SENT_MESSAGE, code="sms_sent")

    def _check_code(self, phone: str, code: str) -> bool:
        from accounts.sms import services as sms

        try:
            sms.check_code(phone=phone, purpose="login", code=code, consume=True)
        except DomainError:
            raise ValidationError(SMS_WRONG_MESSAGE, code="invalid_sms_code") from None
        return True


class AdminLoginForm(_LockAware, AdminAuthenticationForm):
    """The Django admin's login form, with the per-address throttle and the lockout."""


class DashboardLoginForm(_LockAware, AuthenticationForm):
    """The city dashboard's login: the per-address throttle and the lockout, and only city
    staff and superusers (a resident or merchant account cannot log in here at all)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not roles.sees_city_dashboards(user):
            raise ValidationError(_("数据看板仅供城市工作人员登录。"), code="not_city_staff")
