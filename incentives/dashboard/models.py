"""Roll-up tables of the city dashboards (derived data: `rebuild_rollups` recreates them).

Imported by incentives.models, so these belong to the `incentives` app. Every row is
keyed by an Asia/Shanghai calendar day; foreign keys carry no database constraint
because the rows are derived and rebuilt in bulk (see incentives.dashboard.rollup).
"""

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
    serves the category breakdown (and is the source of CityTotalDay and CityPairDay)."""

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


class CityMonth(_Counts):
    """CityDay summed over a calendar month (`day`: the month's first day): the category
    breakdown reads a range's whole months here and only its other days from CityDay, so
    a year reads ~12 months of combinations, not 365 days of them."""

    pk = models.CompositePrimaryKey("dest_city", "day", "home_city", "category")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("月份首日"))
    home_city = _fk("accounts.City", _("居民所在城市"))
    category = models.CharField(_("类别"), max_length=20)

    class Meta:
        verbose_name = _("城市月汇总")
        verbose_name_plural = _("城市月汇总")
        indexes = [
            models.Index(fields=["home_city", "day"], name="dash_citymonth_home"),
            models.Index(fields=["day"], name="dash_citymonth_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.home_city_id}→{self.dest_city_id} {self.category}"


class OfferMonth(_Counts):
    """OfferDay summed over a calendar month (`day`: the month's first day): the merchant,
    offer, scenario and station breakdowns' whole months."""

    pk = models.CompositePrimaryKey("dest_city", "day", "offer", "merchant")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("月份首日"))
    offer = _fk("merchants.Offer", _("优惠"))
    merchant = _fk("merchants.Merchant", _("商户"))

    class Meta:
        verbose_name = _("优惠月汇总")
        verbose_name_plural = _("优惠月汇总")
        indexes = [models.Index(fields=["day"], name="dash_offermonth_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} offer {self.offer_id}"


class CityPairDay(_Counts):
    """Voucher events of one day by residents' home city and offers' city alone (the sums
    of its CityDay rows over categories): the flows and the home-city breakdown read a
    range's edge days here, whose rows then grow with the pairs of cities, not with
    their categories."""

    pk = models.CompositePrimaryKey("dest_city", "day", "home_city")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("日期"))
    home_city = _fk("accounts.City", _("居民所在城市"))

    class Meta:
        verbose_name = _("城市往来日汇总")
        verbose_name_plural = _("城市往来日汇总")
        indexes = [
            models.Index(fields=["home_city", "day"], name="dash_pairday_home"),
            models.Index(fields=["day"], name="dash_pairday_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.home_city_id}→{self.dest_city_id}"


class CityPairMonth(_Counts):
    """CityPairDay summed over a calendar month (`day`: the month's first day): the flows'
    and the home-city breakdown's whole months, at most one row per pair of cities and
    month."""

    pk = models.CompositePrimaryKey("dest_city", "day", "home_city")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("月份首日"))
    home_city = _fk("accounts.City", _("居民所在城市"))

    class Meta:
        verbose_name = _("城市往来月汇总")
        verbose_name_plural = _("城市往来月汇总")
        indexes = [
            models.Index(fields=["home_city", "day"], name="dash_pairmonth_home"),
            models.Index(fields=["day"], name="dash_pairmonth_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.home_city_id}→{self.dest_city_id}"


class CityTotalDay(_Counts):
    """Voucher events of one day by destination city alone (the sums of its CityDay rows):
    serves the summary's totals and the series, whose reads then grow with days, not with
    the combinations of home city and category."""

    pk = models.CompositePrimaryKey("dest_city", "day")
    dest_city = _fk("accounts.City", _("使用城市"))
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("城市日总计")
        verbose_name_plural = _("城市日总计")
        indexes = [models.Index(fields=["day"], name="dash_citytotal_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dest_city_id}"


class ClaimantSet(models.Model):
    """The residents who claimed at least one voucher in a city (`scope` its code, or
    `ALL` for any city) over one day or one calendar month (`period`, `start` its first
    day): their ids as a serialized roaring bitmap (pyroaring's BitMap64).

    Distinct residents over a range cannot be summed from daily counts; they are the
    size of the union of the range's sets: the months wholly inside the range, and the
    days of its partial months at either end (a year: ~12 month sets and ~30 day sets
    per city). A month's set is the union of its day sets, recomputed in the same
    transaction whenever one of its days is (rollup.py)."""

    ALL = "*"

    class Period(models.TextChoices):
        DAY = "day", _("日")
        MONTH = "month", _("月")

    pk = models.CompositePrimaryKey("scope", "period", "start")
    scope = models.CharField(_("使用城市"), max_length=6)
    period = models.CharField(_("周期"), max_length=5, choices=Period.choices)
    start = models.DateField(_("起始日"))
    residents = models.BinaryField(_("居民集合"))
    count = models.PositiveIntegerField(_("居民数"))

    class Meta:
        verbose_name = _("领取居民集合")
        verbose_name_plural = _("领取居民集合")

    def __str__(self) -> str:
        return f"{self.period} {self.start} {self.scope}: {self.count}"


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
