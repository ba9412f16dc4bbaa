"""Risk signals (the sign-up events the burst signal reads are accounts.signups).

Imported by incentives.models, so these belong to the `incentives` app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RiskSignal(models.Model):
    """One pattern found in one city on one day (`day`, Asia/Shanghai), with the facts that
    explain it (`facts`: numbers, names of clerks, merchants, offers; never a score) and the
    rows behind it (`rows`: what a city official opens to check, at most RISK_MAX_ROWS).

    `fingerprint` identifies the pattern (kind, city, day, subject): a recomputation
    refreshes the facts and rows of the same signal and keeps its state."""

    class Kind(models.TextChoices):
        CLERK_RATE = "clerk_rate", _("核销员核销速度异常")
        OUTSIDE_HOURS = "outside_hours", _("在营业时间或有效期之外核销")
        DEVICE_MANY_RESIDENTS = "device_many_residents", _("同一设备短时间核销多人的券")
        MERCHANT_CONFLICT_RATE = "merchant_conflict_rate", _("商户冲突或拒绝比例异常")
        IMPOSSIBLE_TRAVEL = "impossible_travel", _("同一居民的券在相距过远的城市核销")
        SIGNUP_BURST = "signup_burst", _("同一地址集中注册或索取验证码")

    class State(models.TextChoices):
        NEW = "new", _("新")
        LOOKED_AT = "looked_at", _("已查看")
        DISMISSED = "dismissed", _("已排除")
        ESCALATED = "escalated", _("已转为事件")

    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    # null: not tied to one city (a burst of code requests nobody registered from yet)
    city = models.ForeignKey(
        "accounts.City",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("城市"),
    )
    day = models.DateField(_("日期"))
    fingerprint = models.CharField(max_length=200, unique=True)
    subject = models.CharField(_("对象"), max_length=200)
    facts = models.JSONField(_("依据"), default=dict)
    rows = models.JSONField(_("相关记录"), default=list)
    # the resident concerned, where one is (impossible travel): escalating opens an incident
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("相关居民"),
    )
    voucher = models.ForeignKey(
        "incentives.Voucher",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("相关优惠券"),
    )
    first_seen = models.DateTimeField(_("首次发现"), default=timezone.now)
    last_seen = models.DateTimeField(_("最近计算"), default=timezone.now)
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.NEW, db_index=True
    )
    state_reason = models.TextField(_("处理说明"), blank=True)
    state_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    state_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    incident = models.ForeignKey(
        "incentives.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("转成的事件"),
    )

    class Meta:
        verbose_name = _("风险信号")
        verbose_name_plural = _("风险信号")
        ordering = ["-day", "-pk"]
        indexes = [models.Index(fields=["city", "-day"], name="risk_signal_city_day")]
        constraints = [
            models.CheckConstraint(
                name="risk_dismissed_has_reason",
                condition=~Q(state="dismissed") | ~Q(state_reason=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subject} · {self.day}"
