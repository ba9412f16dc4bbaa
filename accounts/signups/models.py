"""Sign-up events. Imported by accounts.models, so they belong to the `accounts` app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignupEvent(models.Model):
    """An SMS-code request or a registration attempt and the address it came from. Nothing
    else about the person is kept (no phone, no name); kept SIGNUP_EVENT_DAYS days."""

    class Kind(models.TextChoices):
        SMS_CODE = "sms_code", _("索取验证码")
        REGISTER = "register", _("注册")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    client_ip = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)
    # the home city a registration asked for (empty for code requests)
    city_code = models.CharField(_("城市"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("注册与验证码请求")
        verbose_name_plural = _("注册与验证码请求")
        indexes = [models.Index(fields=["at"], name="signup_event_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_ip} {self.at:%Y-%m-%d %H:%M}"
