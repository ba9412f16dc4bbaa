"""Roll-up tables of the city dashboards (derived data: `rebuild_rollups` recreates them).

Imported by incentives.models, so these belong to the `incentives` app. Every row is
keyed by an Asia/Shanghai calendar day; foreign keys carry no database constraint
because the rows are derived and rebuilt in bulk (see incentives.dashboard.rollup).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _fk(to: str, verbose_name) -> models.ForeignKey:
    return models.ForeignKey(
        to,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=verbose_name,
    )


class _Counts(models.Model):
    """The six event counts of one roll-up row (see rollup.py for their dates)."""

    claims = models.PositiveIntegerField(_("领取"), default=0)
    redemptions = models.PositiveIntegerField(_("核销"), default=0)
    cancelled = models.PositiveIntegerField(_("取消"), default=0)
    expired = models.PositiveIntegerField(_("过期"), default=0)
    revoked = models.PositiveIntegerField(_("撤销"), default=0)
    uses = models.PositiveIntegerField(_("权益使用"), default=0)

    class Meta:
        abstract = True


class CityDay(_Counts):
    """Voucher events of one day by destination city, residents' home city and category:
    serves summary, series, flows and the category and home-city breakdowns."""

    pk = models.CompositePrimaryKey("dest_city", "day", "home_city", "category")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("日期"))
    home_city = _fk("accounts.City", _("居民所在城市"))
    category = models.CharField(_("类别"), max_length=20)

    class Meta:
        verbose_name = _("城市日汇总")
        verbose_name_plural = _("城市日汇总")
        indexes = [
            models.Index(fields=["home_city", "day"], name="dash_cityday_home"),
            models.Index(fields=["day"], name="dash_cityday_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.home_city_id}→{self.dest_city_id} {self.category}"


class OfferDay(_Counts):
    """Voucher events of one day by offer (and its merchant and city): serves the
    merchant and offer breakdowns."""

    pk = models.CompositePrimaryKey("dest_city", "day", "offer", "merchant")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("日期"))
    offer = _fk("merchants.Offer", _("优惠"))
    merchant = _fk("merchants.Merchant", _("商户"))

    class Meta:
        verbose_name = _("优惠日汇总")
        verbose_name_plural = _("优惠日汇总")
        indexes = [models.Index(fields=["day"], name="dash_offerday_day")]

    def __str__(self) -> str:
        return f"{self.day} offer {self.offer_id}"


class ClaimantDay(models.Model):
    """That a resident claimed at least one voucher in a city on a day.

    Distinct residents over a range cannot be summed from daily counts, and counting
    distinct residents over a year of these rows is too slow at millions of vouchers. So
    each row also keeps the resident's previous claim day in the same city (`prev_day`)
    and in any city (`prev_any_day`, rows ordered by day then city): the residents who
    claimed in [d0, d1] are exactly the rows in [d0, d1] whose previous day is before d0
    (or none) — one row per resident, counted with a plain index-only COUNT.
    """

    pk = models.CompositePrimaryKey("dest_city", "resident", "day")
    dest_city = _fk("accounts.City", _("使用城市"))
    resident = _fk(settings.AUTH_USER_MODEL, _("居民"))
    day = models.DateField(_("日期"))
    prev_day = models.DateField(_("在本市的上一领取日"), null=True)
    prev_any_day = models.DateField(_("在任一城市的上一领取日"), null=True)

    class Meta:
        verbose_name = _("居民领取日")
        verbose_name_plural = _("居民领取日")
        indexes = [
            models.Index(fields=["dest_city", "day", "prev_day"], name="dash_claim_city"),
            models.Index(fields=["day", "prev_any_day"], name="dash_claim_day"),
            models.Index(fields=["resident", "day"], name="dash_claim_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dest_city_id} resident {self.resident_id}"


class DirtyDay(models.Model):
    """A day whose roll-up rows must be recomputed on the next refresh: for writers that
    stamp an event with a time before yesterday (see rollup.mark_days_dirty)."""

    day = models.DateField(_("日期"), primary_key=True)
    marked_at = models.DateTimeField(_("标记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待重算日期")
        verbose_name_plural = _("待重算日期")

    def __str__(self) -> str:
        return str(self.day)


class RollupRefresh(models.Model):
    """When the roll-ups were last brought up to date (one row, key 1): the dashboards
    show it as the time of their figures."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    refreshed_at = models.DateTimeField(_("数据截至"))

    class Meta:
        verbose_name = _("汇总刷新时间")
        verbose_name_plural = _("汇总刷新时间")

    def __str__(self) -> str:
        return f"{self.refreshed_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def mark(cls, at) -> None:
        """Record that every event up to `at` is counted (never moves backwards)."""
        row, created = cls.objects.get_or_create(pk=1, defaults={"refreshed_at": at})
        if not created and row.refreshed_at < at:
            cls.objects.filter(pk=1, refreshed_at__lt=at).update(refreshed_at=at)

    @classmethod
    def last(cls):
        """The time of the figures, or None before the first refresh."""
        return cls.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
