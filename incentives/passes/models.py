"""Entitlement uses at the counter, the per-period tally, and refusal counts.

Imported by incentives.models, so these belong to the `incentives` app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import loose_fk


class EntitlementUse(models.Model):
    """One use of an entitlement offer, checked at the counter against a credit pass.

    The unique (offer, pass id) makes one pass good for one use of one offer; the
    per-period limit is taken in EntitlementTally in the same transaction. Facts the
    dashboards group by are copied from the offer and the resident.

    Each pass check writes a row, so its indexes are only those a read uses: the once
    constraint (offer, pass: also the offer's), the resident's and the merchant's uses
    newest first, and the time (the dashboards' roll-up, statements by merchant and
    month). Staff and cities are read with the row, never searched by."""

    offer = loose_fk("merchants.Offer", _("优惠"))
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # entitlement_use_resident leads with it
        related_name="entitlement_uses",
        verbose_name=_("居民"),
    )
    merchant = loose_fk("merchants.Merchant", _("商户"))
    staff = loose_fk(settings.AUTH_USER_MODEL, _("核验员"), null=True)
    pass_id = models.BigIntegerField(_("信用码编号"))
    period_start = models.DateField(_("所属周期"))
    used_at = models.DateTimeField(_("使用时间"), default=timezone.now)
    scenario = models.CharField(_("场景"), max_length=12)
    category = models.CharField(_("类别"), max_length=20)
    dest_city = loose_fk("accounts.City", _("使用城市"))
    home_city = loose_fk("accounts.City", _("居民所在城市"))

    class Meta:
        verbose_name = _("信用权益使用记录")
        verbose_name_plural = _("信用权益使用记录")
        constraints = [
            models.UniqueConstraint(fields=["offer", "pass_id"], name="entitlement_use_once")
        ]
        indexes = [
            models.Index(fields=["resident", "-used_at"], name="entitlement_use_resident"),
            models.Index(fields=["merchant", "-used_at"], name="entitlement_use_merchant"),
            models.Index(fields=["used_at"], name="dash_entitlement_used_at"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} @ {self.used_at:%Y-%m-%d %H:%M}"


class EntitlementTally(models.Model):
    """Uses of one offer by one resident in one period (`period_start`: the Asia/Shanghai
    day, Monday or first of the month the period begins; 0001-01-01 for the whole offer).
    The limit is taken here by a conditional upsert under the row's lock. Its one index
    besides the key is the unique (offer, resident, period), which every read uses."""

    offer = loose_fk("merchants.Offer", _("优惠"))
    resident = loose_fk(settings.AUTH_USER_MODEL, _("居民"))
    period_start = models.DateField(_("周期开始"))
    used = models.PositiveIntegerField(_("已使用"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "resident", "period_start"], name="entitlement_tally_unique"
            ),
            models.CheckConstraint(name="entitlement_tally_non_negative", condition=Q(used__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}/{self.resident_id}/{self.period_start}: {self.used}"


class RefusalCount(models.Model):
    """How many claims and pass checks were turned away, by day, offer city, source and
    reason (the first eligibility reason, or `usage_limit_reached`). Nothing about the
    person is kept: this is all a refusal leaves behind."""

    class Source(models.TextChoices):
        CLAIM = "claim", _("领取")
        PASS_CHECK = "pass_check", _("信用码核验")

    pk = models.CompositePrimaryKey("dest_city", "day", "source", "reason", "scenario")
    dest_city = loose_fk("accounts.City", _("使用城市"))
    day = models.DateField(_("日期"))
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    reason = models.CharField(_("原因"), max_length=32)
    scenario = models.CharField(_("场景"), max_length=12)
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("拒绝次数")
        verbose_name_plural = _("拒绝次数")
        indexes = [models.Index(fields=["day"], name="dash_refusal_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dest_city_id} {self.source} {self.reason}: {self.count}"
