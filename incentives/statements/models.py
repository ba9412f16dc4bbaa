"""Closed monthly statements: frozen, numbered and checksummed (docs/api.md "Statements").

Only closed statements are stored; an open month is computed from the raw rows when asked
(incentives.statements.selectors). Every table here is append-only in the database: a
trigger (migration `statements`) refuses any UPDATE or DELETE of a sealed statement and
any change of its lines, entries and adjustments. "Sealed" is a non-empty `checksum`,
written in the same transaction that inserted the rows.

Imported by incentives.models, so these belong to the `incentives` app.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Statement(models.Model):
    """One merchant's closed month: its totals (redemptions, entitlement uses and conflicts
    recorded in the month, and the face value of the discounts they gave), a number unique
    per city and month, and the SHA-256 of its canonical serialisation (services.checksum)."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="+", verbose_name=_("商户")
    )
    # the merchant's city when the month closed: whose roll-up and numbering it is in
    city = models.ForeignKey(
        "accounts.City", on_delete=models.PROTECT, related_name="+", verbose_name=_("城市")
    )
    month = models.DateField(_("月份"))  # the first day of the month
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("对账单编号"), max_length=32, unique=True)
    closed_at = models.DateTimeField(_("结账时间"))
    redemptions = models.PositiveIntegerField(_("核销次数"), default=0)
    entitlement_uses = models.PositiveIntegerField(_("权益使用次数"), default=0)
    conflicts = models.PositiveIntegerField(_("离线冲突"), default=0)
    face_value_total = models.DecimalField(
        _("优惠面值合计（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    checksum = models.CharField(_("校验值（SHA-256）"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("对账单")
        verbose_name_plural = _("对账单")
        ordering = ["-month", "city", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "month"], name="statement_once"),
            models.UniqueConstraint(fields=["city", "month", "seq"], name="statement_seq"),
        ]

    def __str__(self) -> str:
        return self.number


class StatementLine(models.Model):
    """A closed statement's totals of one offer (offer null: conflicts whose voucher is
    unknown)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("对账单")
    )
    offer = models.ForeignKey(
        "merchants.Offer",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("优惠"),
    )
    offer_title = models.CharField(_("优惠名称"), max_length=100, blank=True)
    offer_title_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    redemptions = models.PositiveIntegerField(_("核销次数"), default=0)
    entitlement_uses = models.PositiveIntegerField(_("权益使用次数"), default=0)
    conflicts = models.PositiveIntegerField(_("离线冲突"), default=0)
    face_value = models.DecimalField(
        _("优惠面值（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("对账单明细（按优惠）")
        verbose_name_plural = _("对账单明细（按优惠）")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "offer"],
                name="statement_line_once",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}/{self.offer_id}"


class StatementEntry(models.Model):
    """One row of a closed statement: a redemption, an entitlement use or an offline
    conflict, as it was when the month closed. No personal data of a resident: the voucher
    code's last four characters only."""

    class Kind(models.IntegerChoices):
        REDEMPTION = 1, _("核销")
        ENTITLEMENT_USE = 2, _("权益使用")
        CONFLICT = 3, _("离线冲突")

    statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # the (statement, id) index below serves it
        verbose_name=_("对账单"),
    )
    kind = models.PositiveSmallIntegerField(_("类型"), choices=Kind.choices)
    # the redemption's, entitlement use's or offline upload's id
    source_id = models.BigIntegerField(_("来源记录"))
    offer_id = models.BigIntegerField(_("优惠"), null=True)
    occurred_at = models.DateTimeField(_("时间"))  # scanned (offline) or recorded
    synced_at = models.DateTimeField(_("同步时间"), null=True)  # offline rows only
    code_last4 = models.CharField(_("券码后四位"), max_length=4, blank=True)
    clerk = models.CharField(_("核销员"), max_length=50, blank=True)
    offline = models.BooleanField(_("离线"), default=False)
    face_value = models.DecimalField(
        _("优惠面值（元）"), max_digits=12, decimal_places=2, null=True
    )

    class Meta:
        verbose_name = _("对账单记录")
        verbose_name_plural = _("对账单记录")
        indexes = [models.Index(fields=["statement", "id"], name="statement_entry_order")]

    def __str__(self) -> str:
        return f"{self.statement_id}/{self.kind}/{self.source_id}"


class StatementAdjustment(models.Model):
    """A correction of an earlier closed month (`of_month`), carried by the statement of
    the month that closed after it was found: the difference, per offer, between that
    month's raw rows now and its frozen figures plus the adjustments already made."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("对账单")
    )
    of_month = models.DateField(_("更正的月份"))
    offer = models.ForeignKey(
        "merchants.Offer",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("优惠"),
    )
    offer_title = models.CharField(_("优惠名称"), max_length=100, blank=True)
    offer_title_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    redemptions = models.IntegerField(_("核销次数变化"), default=0)
    entitlement_uses = models.IntegerField(_("权益使用次数变化"), default=0)
    conflicts = models.IntegerField(_("离线冲突变化"), default=0)
    face_value = models.DecimalField(
        _("优惠面值变化（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("对账单调整")
        verbose_name_plural = _("对账单调整")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "of_month", "offer"],
                name="statement_adjustment_once",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.of_month:%Y-%m}/{self.offer_id}"


class StatementClose(models.Model):
    """That a city's month was closed (every merchant's statement of it stored): closing it
    again is a no-op."""

    city = models.ForeignKey(
        "accounts.City", on_delete=models.PROTECT, related_name="+", verbose_name=_("城市")
    )
    month = models.DateField(_("月份"))
    closed_at = models.DateTimeField(_("结账时间"))
    statements = models.PositiveIntegerField(_("对账单数"))

    class Meta:
        verbose_name = _("月度结账")
        verbose_name_plural = _("月度结账")
        constraints = [
            models.UniqueConstraint(fields=["city", "month"], name="statement_close_once")
        ]

    def __str__(self) -> str:
        return f"{self.city_id} {self.month:%Y-%m}"
