"""Failed password logins counted per account, and the locks they cause (in the
database, so that the lockout holds whether Redis is up or not). Imported by
accounts.models."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One failed password login for a phone (kept as a keyed hash: attackers type
    anything here, and nothing typed is kept in plain text)."""

    account_key = models.CharField(_("账号（密钥哈希）"), max_length=64)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    client_ip = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        indexes = [models.Index(fields=["account_key", "at"], name="login_failure_recent")]

    def __str__(self) -> str:
        return f"{self.account_key[:12]}… {self.at:%Y-%m-%d %H:%M:%S}"


class LoginLock(models.Model):
    """A phone whose password login is locked until `until`, from every address."""

    account_key = models.CharField(_("账号（密钥哈希）"), max_length=64, unique=True)
    until = models.DateTimeField(_("锁定至"))
    locked_at = models.DateTimeField(_("锁定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")

    def __str__(self) -> str:
        return f"{self.account_key[:12]}… → {self.until:%Y-%m-%d %H:%M}"
