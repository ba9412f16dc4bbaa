"""The lockout on every password login path: the API (accounts.api), the Django admin and
the dashboard login (forms below), and any other caller of `authenticate` (the backend).
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from core import roles

from .services import client_ip, lock_retry_after, record_failure


class LockoutBackend:
    """First in AUTHENTICATION_BACKENDS: a locked phone gets no password login anywhere.

    It only refuses (never authenticates, has no `get_user`), so sessions keep naming the
    backend that did authenticate, and `force_login` picks ModelBackend."""

    def authenticate(self, request, username=None, password=None, phone=None, **kwargs):
        who = phone or username
        if who and password is not None and lock_retry_after(str(who)):
            raise PermissionDenied
        return None


def on_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: count the failure against the phone that was tried."""
    phone = credentials.get("phone") or credentials.get("username")
    if isinstance(phone, str) and phone:
        record_failure(phone.strip()[:32], client_ip(request) if request is not None else None)


LOCKED_MESSAGE = _("登录失败次数过多，该账号的密码登录已锁定，请 %(minutes)s 分钟后再试。")


class _LockAware:
    def clean(self):
        phone = self.cleaned_data.get("username")
        retry = lock_retry_after(phone) if phone else None
        if retry:
            raise ValidationError(
                LOCKED_MESSAGE, code="throttled", params={"minutes": max(1, -(-retry // 60))}
            )
        return super().clean()


class AdminLoginForm(_LockAware, AdminAuthenticationForm):
    """The Django admin's login form, with the per-account lockout."""


class DashboardLoginForm(_LockAware, AuthenticationForm):
    """The city dashboard's login: the per-account lockout, and only city staff and
    superusers (a resident or merchant account cannot log in here at all)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not roles.sees_city_dashboards(user):
            raise ValidationError(_("数据看板仅供城市工作人员登录。"), code="not_city_staff")
