"""Audit of every real-name check (who was checked, when, with which outcome).

The person is recorded under a pseudonym (`person_ref`, a keyed hash of the person hash
with its own domain), never a plain or masked ID number; closing the account replaces
it with the account's random pseudonym. Imported by accounts.models.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentityCheck(models.Model):
    class Outcome(models.TextChoices):
        MATCH = "match", _("一致")
        MISMATCH = "mismatch", _("不一致")
        UNAVAILABLE = "unavailable", _("服务不可用")

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    person_ref = models.CharField(_("当事人（假名）"), max_length=64, db_index=True)
    provider = models.CharField(_("核验服务"), max_length=20)
    purpose = models.CharField(_("用途"), max_length=40, default="registration")
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    known = models.BooleanField(_("核验方有该人记录"), default=False)
    reference = models.CharField(_("核验流水号"), max_length=64, blank=True)
    latency_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("注册的账号"),
    )

    class Meta:
        verbose_name = _("实名核验记录")
        verbose_name_plural = _("实名核验记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.outcome}"
