"""What the staff login keeps besides django-otp's devices: the sessions of each staff
account (so that a password or role change can end them), and the record of every reset
of a second factor by a superuser (append-only)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class StaffSession(models.Model):
    """A session a staff account logged in with (ended on a password or role change)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()

    class Meta:
        verbose_name = _("员工会话")
        verbose_name_plural = _("员工会话")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.started_at:%Y-%m-%d %H:%M}"


class SecondFactorReset(models.Model):
    """A superuser removed a staff member's second factor (they enrol again at their next
    login). Never changed or deleted in admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="second_factor_resets",
        verbose_name=_("员工账号"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    client_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    devices_removed = models.PositiveIntegerField(_("移除的设备数"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("二次验证重置记录")
        verbose_name_plural = _("二次验证重置记录")

    def __str__(self) -> str:
        return f"{self.user} · {self.at:%Y-%m-%d %H:%M}"


class StaffAccount(User):
    """Staff accounts as the second-factor admin lists them (a proxy: no table)."""

    class Meta:
        proxy = True
        verbose_name = _("员工二次验证")
        verbose_name_plural = _("员工二次验证")
