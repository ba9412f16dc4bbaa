"""One-time SMS codes (stored only as a keyed hash) and the sandbox gateway's outbox.

Imported by accounts.models, so these belong to the `accounts` app.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("登录")


class SmsCode(models.Model):
    """A 6-digit code sent to a phone: 5 minutes, one use, 5 wrong tries void it.

    At most one live code per phone and purpose (a partial unique constraint): a new code
    replaces the old one, and two simultaneous sends cannot both succeed.
    """

    phone = models.CharField(_("手机号"), max_length=11)
    purpose = models.CharField(_("用途"), max_length=10, choices=SmsPurpose.choices)
    code_hash = models.CharField(_("验证码密钥哈希"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    # set when the code stops being live: used, voided by wrong tries, replaced, unsent
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_reason = models.CharField(_("关闭原因"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "purpose"],
                condition=Q(closed_at__isnull=True),
                name="one_live_sms_code",
            )
        ]
        indexes = [models.Index(fields=["phone", "-created_at"], name="sms_code_phone_recent")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class SmsOutboxMessage(models.Model):
    """What the sandbox SMS gateway 'sent': read it in admin or with `manage.py sms_outbox`."""

    phone = models.CharField(_("手机号"), max_length=11, db_index=True)
    text = models.CharField(_("内容"), max_length=300)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("演示短信发件箱")
        verbose_name_plural = _("演示短信发件箱")
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phone} {self.sent_at:%H:%M:%S}"
