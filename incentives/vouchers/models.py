"""Vouchers and their redemption (online and offline), the per-resident claim tally.

Imported by incentives.models, so these belong to the `incentives` app."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import loose_fk


class Voucher(models.Model):
    """A single-use perk a resident claimed. It keeps the offer's terms as they were when
    it was issued, and a few facts copied from offer and resident so that redemption and
    the dashboards need no joins."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("待使用")
        REDEEMED = "redeemed", _("已核销")
        EXPIRED = "expired", _("已过期")
        REVOKED = "revoked", _("已撤销")
        CANCELLED = "cancelled", _("已取消")

    # unique by a constraint in Meta: a unique=True CharField would also get a LIKE index
    # (varchar_pattern_ops), which no query uses and every claim would write
    code = models.CharField(_("券码"), max_length=12)
    offer = models.ForeignKey(
        "merchants.Offer", on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("优惠")
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,  # voucher_resident_recent leads with it
        related_name="vouchers",
        verbose_name=_("居民"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    # Copied at issue: who may redeem it, and what the dashboards group by. Copies of the
    # offer's merchant and city and of the resident's city, which the offer's and the
    # resident's own keys already hold to existing rows: no database constraint (each
    # claim's check would share-lock the merchant's and both cities' rows, which every
    # claim in a city shares) and no index of their own (merchant: voucher_merchant_redeemed
    # leads with it; the cities are read from the roll-ups, never searched here). The ORM's
    # PROTECT still refuses to delete a merchant or a city with vouchers (issue 27, point 3).
    merchant = loose_fk("merchants.Merchant", _("商户"), on_delete=models.PROTECT)
    dest_city = loose_fk("accounts.City", _("使用城市"), on_delete=models.PROTECT)
    home_city = loose_fk("accounts.City", _("居民所在城市"), on_delete=models.PROTECT)
    category = models.CharField(_("类别"), max_length=20)
    terms = models.JSONField(_("领取时的条款"))
    terms_version = models.PositiveIntegerField(_("条款版本"))
    key_id = models.CharField(_("签名密钥"), max_length=16)
    issued_at = models.DateTimeField(_("领取时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    redeemed_at = models.DateTimeField(_("核销时间"), null=True, blank=True)
    # when it left `issued` otherwise (cancelled, expired or revoked)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        indexes = [
            models.Index(fields=["resident", "-issued_at"], name="voucher_resident_recent"),
            models.Index(
                fields=["expires_at"],
                name="voucher_issued_expiry",
                condition=Q(status="issued"),
            ),
            models.Index(fields=["merchant", "redeemed_at"], name="voucher_merchant_redeemed"),
            models.Index(fields=["issued_at"], name="voucher_issued_at"),
            # the dashboards' refresh finds a day's redemptions and closures by these
            models.Index(
                fields=["redeemed_at"],
                name="dash_voucher_redeemed_at",
                condition=Q(redeemed_at__isnull=False),
            ),
            models.Index(
                fields=["closed_at"],
                name="dash_voucher_closed_at",
                condition=Q(closed_at__isnull=False),
            ),
        ]
        constraints = [
            # the name the unique=True column's constraint had (the claim's ON CONFLICT)
            models.UniqueConstraint(fields=["code"], name="incentives_voucher_code_key"),
            models.CheckConstraint(
                name="voucher_redeemed_has_time",
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Redemption(models.Model):
    """The one redemption of a voucher (the unique voucher column makes it one)."""

    voucher = models.OneToOneField(
        Voucher, on_delete=models.PROTECT, related_name="redemption", verbose_name=_("优惠券")
    )
    # No database constraint here: the voucher's own merchant key already guarantees it,
    # and a foreign-key check would lock the merchant's row on every redemption, so that
    # all the gates of one merchant queue on it.
    merchant = models.ForeignKey(
        "merchants.Merchant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("商户"),
    )
    # Nor here: the redemption statement itself reads the clerk's row (an active user on
    # the staff of an active merchant) and the ORM's PROTECT refuses to delete a clerk with
    # redemptions, while a foreign-key check would share-lock the clerk's row on every
    # redemption: the scanners of one shared login would contend on it (bench/RESULTS.md).
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("核销员"),
    )
    # when the server recorded it (for an offline redemption: when the scanner synced)
    redeemed_at = models.DateTimeField(_("核销时间"), default=timezone.now)
    # an offline redemption: when and on which device the clerk scanned it (null online)
    scanned_at = models.DateTimeField(_("扫码时间"), null=True, blank=True)
    device_id = models.CharField(_("扫码设备"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("核销记录")
        verbose_name_plural = _("核销记录")
        indexes = [models.Index(fields=["merchant", "-redeemed_at"], name="redemption_merchant")]

    def __str__(self) -> str:
        return f"{self.voucher_id} @ {self.redeemed_at:%Y-%m-%d %H:%M}"


class OfflineRedemption(models.Model):
    """One row a scanner uploaded from its offline queue (merchant/redemptions/batch) and
    the outcome it got. The (merchant, nonce) pair is unique: the same nonce again gets the
    stored outcome. A voucher that had been redeemed elsewhere first is a `conflict`."""

    class Outcome(models.TextChoices):
        REDEEMED = "redeemed", _("已核销")
        ALREADY_REDEEMED = "already_redeemed", _("已被核销（冲突）")
        WRONG_MERCHANT = "wrong_merchant", _("非本商户的券")
        NOT_FOUND = "not_found", _("券不存在")
        INVALID_TOKEN = "invalid_token", _("二维码或券码无效")
        VOUCHER_EXPIRED = "voucher_expired", _("已过期")
        VOUCHER_REVOKED = "voucher_revoked", _("已撤销")
        VOUCHER_CANCELLED = "voucher_cancelled", _("已取消")

    merchant = models.ForeignKey(
        "merchants.Merchant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("商户"),
    )
    # the merchant's city, copied: what city staff see and the dashboard counts by
    city = models.ForeignKey(
        "accounts.City",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("城市"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("核销员"),
    )
    nonce = models.CharField(_("离线记录编号"), max_length=64)
    device_id = models.CharField(_("扫码设备"), max_length=64)
    # sha-256 of what was scanned: the same nonce with another voucher is refused
    fingerprint = models.CharField(max_length=64)
    voucher = models.ForeignKey(
        Voucher,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offline_redemptions",
        verbose_name=_("优惠券"),
    )
    scanned_at = models.DateTimeField(_("扫码时间"))
    synced_at = models.DateTimeField(_("同步时间"), default=timezone.now)
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices)
    # redeemed: this redemption's time; already_redeemed: the first redemption's time
    redeemed_at = models.DateTimeField(_("核销时间"), null=True, blank=True)
    conflict = models.BooleanField(_("冲突"), default=False)

    class Meta:
        verbose_name = _("离线核销")
        verbose_name_plural = _("离线核销")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "nonce"], name="offline_nonce_unique")
        ]
        indexes = [
            models.Index(fields=["merchant", "-synced_at"], name="offline_merchant_recent"),
            models.Index(
                fields=["city", "synced_at"],
                name="offline_conflicts",
                condition=Q(conflict=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nonce}: {self.outcome}"


class ClaimTally(models.Model):
    """How many live vouchers a resident holds of one offer: the per-resident limit is
    taken here by a conditional UPDATE under the row's lock."""

    offer = models.ForeignKey("merchants.Offer", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    held = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer", "resident"], name="claim_tally_unique"),
            models.CheckConstraint(name="claim_tally_non_negative", condition=Q(held__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}/{self.resident_id}: {self.held}"
