"""Incidents at the counter (a deposit not paid, pay-later unpaid…), the suspension a
confirmed one brings, the resident's objection, and the audit of every step.

Imported by incentives.models, so these belong to the `incentives` app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Incident(models.Model):
    """A merchant's report against a resident about one use or one voucher.

    Status: reported → confirmed | dismissed (city staff); confirmed → objected
    (the resident, once); objected → upheld | overturned (city staff). While confirmed,
    objected or upheld and until `suspended_until`, the resident is suspended from the
    offers of `scenario`; overturning lifts it at once."""

    class Kind(models.TextChoices):
        DEPOSIT_DEFAULT = "deposit_default", _("押金未付")
        UNPAID_PAY_LATER = "unpaid_pay_later", _("先享后付未付款")
        NO_SHOW = "no_show", _("预约未到")
        DAMAGE = "damage", _("损坏物品")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        REPORTED = "reported", _("待审核")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("已驳回")
        OBJECTED = "objected", _("异议处理中")
        UPHELD = "upheld", _("异议未采纳")
        OVERTURNED = "overturned", _("异议成立，已撤销")

    # The statuses in which a suspension holds (until suspended_until).
    SUSPENDING = ("confirmed", "objected", "upheld")

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="+", verbose_name=_("商户")
    )
    dest_city = models.ForeignKey(
        "accounts.City", on_delete=models.PROTECT, related_name="+", verbose_name=_("商户所在城市")
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("居民"),
    )
    offer = models.ForeignKey(
        "merchants.Offer", on_delete=models.PROTECT, related_name="+", verbose_name=_("优惠")
    )
    scenario = models.CharField(_("场景"), max_length=12)
    use = models.OneToOneField(
        "incentives.EntitlementUse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident",
        verbose_name=_("权益使用记录"),
    )
    voucher = models.OneToOneField(
        "incentives.Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident",
        verbose_name=_("优惠券"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    note = models.TextField(_("商户说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上报人"),
    )
    reported_at = models.DateTimeField(_("上报时间"), default=timezone.now)
    suspended_until = models.DateTimeField(_("暂停至"), null=True, blank=True)
    objection = models.TextField(_("异议内容"), blank=True)
    objected_at = models.DateTimeField(_("异议时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("最近处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("失信事件")
        verbose_name_plural = _("失信事件")
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="incident_on_use_or_voucher",
                condition=Q(use__isnull=False, voucher__isnull=True)
                | Q(use__isnull=True, voucher__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["resident", "scenario", "suspended_until"],
                name="incident_suspension",
                condition=Q(status__in=["confirmed", "objected", "upheld"]),
            ),
            models.Index(fields=["dest_city", "status"], name="incident_queue"),
            models.Index(fields=["reported_at"], name="dash_incident_reported_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"


class IncidentEvent(models.Model):
    """One step of an incident: who did what, when, with which note. Append-only."""

    class Action(models.TextChoices):
        REPORT = "report", _("上报")
        CONFIRM = "confirm", _("确认")
        DISMISS = "dismiss", _("驳回")
        OBJECT = "object", _("提出异议")
        UPHOLD = "uphold", _("维持")
        OVERTURN = "overturn", _("撤销")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("事件")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("事件处理记录")
        verbose_name_plural = _("事件处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
