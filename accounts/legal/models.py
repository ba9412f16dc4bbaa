"""The user agreement and privacy notice (PIPL arts. 14, 17), versioned, and who accepted
which version when. Separate from the credit consent (accounts/credit). Imported by
accounts.models."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Agreement(models.Model):
    version = models.CharField(_("版本"), max_length=20, unique=True)
    title_zh = models.CharField(_("标题（中文）"), max_length=100)
    title_en = models.CharField(_("标题（英文）"), max_length=150)
    body_zh = models.TextField(_("正文（中文）"))
    body_en = models.TextField(_("正文（英文）"))
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    is_current = models.BooleanField(_("当前版本"), default=False)

    class Meta:
        verbose_name = _("用户协议与隐私政策")
        verbose_name_plural = _("用户协议与隐私政策")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_agreement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title_zh} ({self.version})"


class AgreementAcceptance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agreement_acceptances",
        verbose_name=_("用户"),
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, verbose_name=_("协议版本"))
    accepted_at = models.DateTimeField(_("同意时间"), default=timezone.now)

    class Meta:
        verbose_name = _("协议同意记录")
        verbose_name_plural = _("协议同意记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "agreement"], name="agreement_accepted_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.agreement_id} {self.accepted_at:%Y-%m-%d}"
