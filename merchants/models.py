"""Merchants, their staff, stations, offers and the record of every offer transition."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.credit.models import HonourKind
from accounts.models import Alliance, City, Tier
from core import roles

from .validators import normalize_credit_code, validate_credit_code

# Mobile, landline (area code, optional hyphen and extension) or a 400 service number.
CONTACT_PHONE_RE = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|400-?\d{3}-?\d{4})$"


class Category(models.TextChoices):
    SCENIC = "scenic", _("景区景点")
    HOTEL = "hotel", _("酒店住宿")
    SHOPPING = "shopping", _("购物")
    DINING = "dining", _("餐饮")
    TRANSPORT = "transport", _("交通出行")
    CULTURE = "culture", _("文化娱乐")
    OTHER = "other", _("其他")


class Scenario(models.TextChoices):
    """The 信易+ family an offer belongs to (api.md): what a confirmed incident suspends."""

    TRAVEL = "travel", _("信易游")
    STAY = "stay", _("信易住")
    SHOPPING = "shopping", _("信易购")
    TRANSPORT = "transport", _("信易行")
    DINING = "dining", _("餐饮")
    CULTURE = "culture", _("文化")
    MEDICAL = "medical", _("信用+医疗")
    LIBRARY = "library", _("信易借")
    GOVERNMENT = "government", _("信易批")
    FINANCE = "finance", _("信易贷")


# The scenario an offer of a category gets when none is given (and for offers made before
# scenarios existed).
SCENARIO_OF_CATEGORY = {
    "scenic": "travel",
    "hotel": "stay",
    "shopping": "shopping",
    "dining": "dining",
    "transport": "transport",
    "culture": "culture",
    "other": "travel",
}


class CreditGrade(models.TextChoices):
    """Enterprise public-credit grades after the 京津冀晋 standard (A best, D worst)."""

    A = "A", _("A 级")
    B = "B", _("B 级")
    C = "C", _("C 级")
    D = "D", _("D 级")


class Merchant(models.Model):
    """A participating business, identified by its 统一社会信用代码."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("合作中")
        SUSPENDED = "suspended", _("已暂停合作")

    name = models.CharField(_("商户名称"), max_length=100)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        help_text=_("18 位，按 GB 32100-2015 校验。"),
        error_messages={"unique": _("已有商户使用该统一社会信用代码。")},
    )
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="merchants", verbose_name=_("所在城市")
    )
    district = models.CharField(_("区县"), max_length=40)
    address = models.CharField(_("地址"), max_length=200)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    contact_phone = models.CharField(
        _("联系电话"),
        max_length=24,
        validators=[
            RegexValidator(
                CONTACT_PHONE_RE, _("请输入手机号、座机号（如 0571-87654321）或 400 电话。")
            )
        ],
    )
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    status = models.CharField(
        _("合作状态"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    # Opening hours (Asia/Shanghai), when the merchant states them: redemptions scanned
    # outside them raise a risk signal. Closing before opening means past midnight.
    opens_at = models.TimeField(_("营业开始时间"), null=True, blank=True)
    closes_at = models.TimeField(_("营业结束时间"), null=True, blank=True)
    # Enterprise credit, from the enterprise credit provider (merchants/credit): never
    # typed in by anyone, so not editable in forms.
    credit_grade = models.CharField(
        _("企业信用等级"), max_length=1, choices=CreditGrade.choices, blank=True, editable=False
    )
    seriously_dishonest = models.BooleanField(
        _("列入严重失信主体名单"), default=False, editable=False
    )
    credit_checked_at = models.DateTimeField(
        _("信用核查时间"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商户")
        verbose_name_plural = _("商户")
        ordering = ["city", "name"]
        constraints = [
            models.CheckConstraint(
                name="merchant_credit_grade_known",
                condition=Q(credit_grade__in=["", "A", "B", "C", "D"]),
            ),
            models.CheckConstraint(
                name="merchant_coordinates_both_or_neither",
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
            ),
            models.CheckConstraint(
                name="merchant_hours_both_or_neither",
                condition=Q(opens_at__isnull=True, closes_at__isnull=True)
                | (
                    Q(opens_at__isnull=False, closes_at__isnull=False) & ~Q(opens_at=F("closes_at"))
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_good_standing(self) -> bool:
        """Not graded D and not on the seriously-dishonest entities list."""
        return not self.seriously_dishonest and self.credit_grade != CreditGrade.D

    @property
    def trustworthy(self) -> bool:
        """The 诚信商户 badge: graded A and not listed."""
        return not self.seriously_dishonest and self.credit_grade == CreditGrade.A

    def clean(self) -> None:
        if self.credit_code:
            self.credit_code = normalize_credit_code(self.credit_code)
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("经纬度需同时填写或同时留空。"))
        if (self.opens_at is None) != (self.closes_at is None):
            raise ValidationError(_("营业开始和结束时间需同时填写或同时留空。"))
        if self.opens_at is not None and self.opens_at == self.closes_at:
            raise ValidationError(_("营业开始和结束时间不能相同。"))


class MerchantStaff(models.Model):
    """Makes a `merchant_staff` user a member of exactly one merchant."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_membership",
        verbose_name=_("员工账号"),
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="staff", verbose_name=_("商户")
    )

    class Meta:
        verbose_name = _("商户员工")
        verbose_name_plural = _("商户员工")

    def __str__(self) -> str:
        return f"{self.merchant} · {self.user}"

    def clean(self) -> None:
        if self.user_id and not roles.may_join_a_merchant(self.user):
            raise ValidationError({"user": _("只有角色为“商户员工”的账号才能加入商户。")})


class Station(models.Model):
    """A named group of merchants inside one city (e.g. 黄浦站), run by that city."""

    name = models.CharField(_("站点名称"), max_length=60)
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="stations", verbose_name=_("所在城市")
    )
    description = models.TextField(_("简介"), blank=True)
    merchants = models.ManyToManyField(
        Merchant, related_name="stations", blank=True, verbose_name=_("合作商户")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("站点")
        verbose_name_plural = _("站点")
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="station_name_unique_in_city")
        ]

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    """An incentive a merchant gives to trustworthy residents, reviewed by its city."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        PUBLISHED = "published", _("已发布")
        REJECTED = "rejected", _("已驳回")
        PAUSED = "paused", _("已暂停")
        ENDED = "ended", _("已结束")

    class BenefitType(models.TextChoices):
        PERCENT_OFF = "percent_off", _("折扣（减免百分比）")
        AMOUNT_OFF = "amount_off", _("立减金额")
        FIXED_PRICE = "fixed_price", _("特价")
        FREE_ENTRY = "free_entry", _("免费入场")
        DEPOSIT_WAIVER = "deposit_waiver", _("免押金")
        PRIORITY_SERVICE = "priority_service", _("优先服务")
        GIFT = "gift", _("赠品")
        PAY_LATER = "pay_later", _("先享后付")
        FAST_TRACK = "fast_track", _("绿色通道（容缺受理）")

    class Kind(models.TextChoices):
        VOUCHER = "voucher", _("优惠券（在线领取，凭券核销）")
        ENTITLEMENT = "entitlement", _("信用权益（无需领取，凭信用码使用）")

    class Period(models.TextChoices):
        DAY = "day", _("每天")
        WEEK = "week", _("每周")
        MONTH = "month", _("每月")
        OFFER = "offer", _("整个优惠期")

    class HomeCityRule(models.TextChoices):
        ALL = "all", _("所有合作城市")
        LISTED = "listed", _("指定城市")
        VISITORS = "visitors", _("仅外地游客（商户所在城市以外的合作城市）")

    # Everything a city reviewer approves. Changing any of these on a published or paused
    # offer bumps terms_version and sends it back to review; the quota is not a term.
    TERMS_FIELDS: tuple[str, ...] = (
        "kind",
        "scenario",
        "title",
        "title_en",
        "description",
        "description_en",
        "category",
        "benefit_type",
        "benefit_value",
        "benefit_note",
        "list_price",
        "min_tier",
        "min_score",
        "min_grade",
        "required_honour",
        "home_city_rule",
        "eligible_home_cities",
        "eligible_alliance",
        "valid_from",
        "valid_until",
        "per_resident_limit",
        "voucher_lifetime_hours",
        "limit_per_period",
        "period",
        "usage_notes",
    )
    EDITABLE_FIELDS: tuple[str, ...] = (*TERMS_FIELDS, "total_quota")
    VALUED_BENEFITS = frozenset({"percent_off", "amount_off", "fixed_price"})

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="offers", verbose_name=_("商户")
    )
    kind = models.CharField(
        _("形式"),
        max_length=12,
        choices=Kind.choices,
        default=Kind.VOUCHER,
        help_text=_("信用权益无需领取：居民在柜台出示信用码，由商户核验后使用。"),
    )
    scenario = models.CharField(
        _("场景"), max_length=12, choices=Scenario.choices, db_index=True, blank=True
    )
    title = models.CharField(_("标题"), max_length=100)
    title_en = models.CharField(_("英文标题"), max_length=150, blank=True)
    description = models.TextField(_("优惠说明"))
    description_en = models.TextField(_("英文说明"), blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)

    benefit_type = models.CharField(_("优惠方式"), max_length=20, choices=BenefitType.choices)
    benefit_value = models.DecimalField(
        _("优惠数值"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "折扣：减免百分比，大于 0 小于 100（20 表示减免 20%，即八折）；"
            "立减金额、特价：元，大于 0；其他方式留空。"
        ),
    )
    benefit_note = models.CharField(
        _("优惠补充说明"), max_length=200, blank=True, help_text=_("如赠品内容。")
    )
    # What the offer is worth: the statements (对账单) count a discount's face value from it
    # (20% of it, it less the special price, all of it for a free ticket).
    list_price = models.DecimalField(
        _("原价（元）"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("折扣、特价、免费入场：写明原价，对账单据此计算优惠面值；可留空。"),
    )

    min_tier = models.CharField(_("最低信用等级"), max_length=10, choices=Tier.choices, blank=True)
    min_score = models.IntegerField(
        _("最低信用分（本市体系）"),
        null=True,
        blank=True,
        help_text=_("按商户所在城市的信用分体系；外地居民的分数按互认规则换算。与最低等级二选一。"),
    )
    min_grade = models.CharField(
        _("最低信用等级（本市等级制）"),
        max_length=8,
        blank=True,
        help_text=_("商户所在城市使用等级制信用体系（如榆林桃花分）时填写，如 A。"),
    )
    required_honour = models.CharField(
        _("需持有的荣誉"),
        max_length=20,
        choices=HonourKind.choices,
        blank=True,
        help_text=_("只面向持有该荣誉（如无偿献血）的居民；严重失信者仍不可享受。"),
    )
    home_city_rule = models.CharField(
        _("适用居民"),
        max_length=10,
        choices=HomeCityRule.choices,
        default=HomeCityRule.ALL,
    )
    eligible_home_cities = models.ManyToManyField(
        City,
        blank=True,
        related_name="+",
        verbose_name=_("指定城市"),
        help_text=_("“适用居民”为“指定城市”时，与“指定联盟”至少填写一项。"),
    )
    # Beside the listed cities: the residents of this alliance's member cities, as the
    # members are at claim time (incentives.eligibility, the home-city rule).
    eligible_alliance = models.ForeignKey(
        Alliance,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("指定联盟"),
        help_text=_("“适用居民”为“指定城市”时可选：该联盟成员城市（以领取时为准）的居民均可领取。"),
    )

    valid_from = models.DateTimeField(_("开始时间"))
    valid_until = models.DateTimeField(_("结束时间"))
    total_quota = models.PositiveIntegerField(
        _("总名额"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("留空表示不限。"),
    )
    claimed_count = models.PositiveIntegerField(_("已领取"), default=0, editable=False)
    per_resident_limit = models.PositiveIntegerField(
        _("每人限领"), default=1, validators=[MinValueValidator(1)]
    )
    voucher_lifetime_hours = models.PositiveIntegerField(
        _("券有效时长（小时）"),
        default=72,
        validators=[MinValueValidator(1)],
        help_text=_("领取后多少小时内有效，不超过优惠结束时间。"),
    )
    limit_per_period = models.PositiveIntegerField(
        _("每人每周期限用次数"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("仅信用权益：每位居民在一个周期内最多使用几次。"),
    )
    period = models.CharField(
        _("限用周期"),
        max_length=8,
        choices=Period.choices,
        blank=True,
        help_text=_("仅信用权益：按天、周、月（上海时间）或整个优惠期计算。"),
    )
    usage_notes = models.TextField(_("使用说明"), blank=True)

    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    rejection_reason = models.TextField(_("驳回原因"), blank=True)
    terms_version = models.PositiveIntegerField(_("条款版本"), default=1, editable=False)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, editable=False)
    # A change of terms of a published or paused offer, waiting for the city's review: the
    # row keeps the approved terms (what residents, claims and exports see) until then.
    pending_terms = models.JSONField(_("待审核的条款修改"), default=dict, editable=False)
    credit_paused_at = models.DateTimeField(
        _("因商户信用暂停于"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("信用同步发现商户不再守信（D 级或列入严重失信主体名单）时自动暂停。"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
        editable=False,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("优惠")
        verbose_name_plural = _("优惠")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "valid_from", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                name="offer_claimed_within_quota",
                condition=Q(total_quota__isnull=True) | Q(claimed_count__lte=F("total_quota")),
            ),
            models.CheckConstraint(
                name="offer_per_resident_limit_positive", condition=Q(per_resident_limit__gte=1)
            ),
            models.CheckConstraint(
                name="offer_voucher_lifetime_positive", condition=Q(voucher_lifetime_hours__gte=1)
            ),
            models.CheckConstraint(
                name="offer_valid_until_after_from", condition=Q(valid_until__gt=F("valid_from"))
            ),
            models.CheckConstraint(
                name="offer_min_tier_or_min_score",
                condition=Q(min_tier="") | Q(min_score__isnull=True),
            ),
            models.CheckConstraint(
                name="offer_scenario_known",
                condition=Q(scenario__in=[c.value for c in Scenario]),
            ),
            models.CheckConstraint(
                name="offer_kind_limits",
                condition=Q(kind="voucher", limit_per_period__isnull=True, period="")
                | Q(
                    kind="entitlement",
                    limit_per_period__gte=1,
                    period__in=["day", "week", "month", "offer"],
                ),
            ),
            models.CheckConstraint(
                name="offer_min_grade_alone",
                condition=Q(min_grade="") | (Q(min_tier="") & Q(min_score__isnull=True)),
            ),
            models.CheckConstraint(
                name="offer_benefit_value_fits_type",
                condition=Q(benefit_type="percent_off", benefit_value__gt=0, benefit_value__lt=100)
                | Q(benefit_type__in=["amount_off", "fixed_price"], benefit_value__gt=0)
                | (
                    ~Q(benefit_type__in=["percent_off", "amount_off", "fixed_price"])
                    & Q(benefit_value__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.scenario and self.category:
            self.scenario = SCENARIO_OF_CATEGORY.get(self.category, Scenario.TRAVEL)
        super().save(*args, **kwargs)

    @property
    def remaining_quota(self) -> int | None:
        """Places left, or None when the quota is unlimited."""
        if self.total_quota is None:
            return None
        return max(self.total_quota - self.claimed_count, 0)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}

        def add(field: str, message: Any) -> None:
            errors.setdefault(field, []).append(message)

        if not self.scenario and self.category:
            self.scenario = SCENARIO_OF_CATEGORY.get(self.category, Scenario.TRAVEL)
        if self.kind == self.Kind.ENTITLEMENT:
            if self.limit_per_period is None:
                add("limit_per_period", _("信用权益须填写每人每周期限用次数。"))
            if not self.period:
                add("period", _("信用权益须选择限用周期。"))
        elif self.limit_per_period is not None or self.period:
            if self.limit_per_period is not None:
                add("limit_per_period", _("优惠券按“每人限领”限制，此项请留空。"))
            if self.period:
                add("period", _("优惠券按“每人限领”限制，此项请留空。"))

        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            add("valid_until", _("结束时间必须晚于开始时间。"))

        value = self.benefit_value
        if self.benefit_type == self.BenefitType.PERCENT_OFF:
            if value is None or not (0 < value < 100):
                add(
                    "benefit_value",
                    _("折扣的减免百分比必须大于 0 且小于 100（全免请选“免费入场”）。"),
                )
        elif self.benefit_type in (self.BenefitType.AMOUNT_OFF, self.BenefitType.FIXED_PRICE):
            if value is None or value <= 0:
                add("benefit_value", _("金额必须大于 0 元。"))
        elif self.benefit_type and value is not None:
            add("benefit_value", _("该优惠方式不需要填写数值，请留空（可在补充说明中描述）。"))

        scheme = self.merchant.city.scheme if self.merchant_id is not None else None
        if self.min_grade:
            if scheme is None or not scheme.is_grade:
                add("min_grade", _("商户所在城市不使用等级制信用体系，请改用最低信用分或等级。"))
            elif self.min_grade not in scheme.grades:
                add(
                    "min_grade",
                    _("未知等级 %(grade)s：%(scheme)s 的等级为 %(known)s。")
                    % {
                        "grade": self.min_grade,
                        "scheme": scheme.name,
                        "known": "、".join(scheme.grades),
                    },
                )
            if self.min_tier or self.min_score is not None:
                add(
                    "min_grade", _("最低等级（本市等级制）不能与最低通用等级或最低信用分同时填写。")
                )
        if self.min_tier and self.min_score is not None:
            add("min_score", _("最低信用等级和最低信用分只能填写其中一项。"))
        elif self.min_score is not None and self.merchant_id is not None:
            if scheme is not None and scheme.is_grade:
                add(
                    "min_score",
                    _("%(scheme)s 是等级制体系，请填写最低等级。") % {"scheme": scheme.name},
                )
            elif scheme is None:
                add("min_score", _("商户所在城市尚未配置信用分体系，请改用最低信用等级。"))
            else:
                lo, hi = scheme.min_score, scheme.max_score
                assert lo is not None and hi is not None  # a numeric scheme's (Scheme.clean)
                if not lo <= self.min_score <= hi:
                    add(
                        "min_score",
                        _("最低信用分应在 %(scheme)s 的范围 %(lo)s–%(hi)s 之内。")
                        % {"scheme": scheme.name, "lo": lo, "hi": hi},
                    )

        if self.total_quota is not None and self.total_quota < self.claimed_count:
            add(
                "total_quota",
                _("总名额不能少于已领取的数量（%(n)s）。") % {"n": self.claimed_count},
            )
        if errors:
            raise ValidationError(errors)

    def terms_snapshot(self) -> dict[str, Any]:
        """The terms a voucher is issued under (JSON-serialisable), kept on each voucher."""
        city = self.merchant.city
        return Offer.terms_of(
            self,
            merchant=self.merchant.name,
            city=self.merchant.city_id,
            scheme=city.scheme.name if city.scheme is not None else None,
            home_cities=sorted(c.code for c in self.eligible_home_cities.all()),
        )

    @staticmethod
    def terms_of(
        offer: Any, *, merchant: str, city: str, scheme: str | None, home_cities: list[str]
    ) -> dict[str, Any]:
        """`terms_snapshot` of anything with an offer's fields (`id`, `title`…: an offer, or
        the row the claim reads in one statement), given its merchant's name, city, scheme
        and the sorted codes of its listed home cities."""
        return {
            "offer_id": offer.id,
            "terms_version": offer.terms_version,
            "title": offer.title,
            "title_en": offer.title_en,
            "merchant": merchant,
            "city": city,
            "benefit_type": offer.benefit_type,
            "benefit_value": None if offer.benefit_value is None else f"{offer.benefit_value:.2f}",
            "benefit_note": offer.benefit_note,
            "list_price": None if offer.list_price is None else f"{offer.list_price:.2f}",
            "min_tier": offer.min_tier or None,
            "min_score": offer.min_score,
            "min_grade": offer.min_grade or None,
            "required_honour": offer.required_honour or None,
            "scheme": scheme,
            "home_city_rule": offer.home_city_rule,
            "eligible_home_cities": home_cities,
            "eligible_alliance": offer.eligible_alliance_id,
            "valid_from": offer.valid_from.isoformat(),
            "valid_until": offer.valid_until.isoformat(),
            "voucher_lifetime_hours": offer.voucher_lifetime_hours,
            "per_resident_limit": offer.per_resident_limit,
            "kind": offer.kind,
            "scenario": offer.scenario,
            "limit_per_period": offer.limit_per_period,
            "period": offer.period or None,
            "usage_notes": offer.usage_notes,
        }


# The review workflow (transitions, who may take them, editable statuses) is
# merchants.workflow.


class OfferTransition(models.Model):
    """One change of an offer's status: who, when, from, to, why. Append-only."""

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("优惠")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("操作人"),
    )

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        SUBMIT = "submit", _("提交审核")
        WITHDRAW = "withdraw", _("撤回审核")
        PUBLISH = "publish", _("审核通过并发布")
        REJECT = "reject", _("驳回")
        PAUSE = "pause", _("暂停")
        RESUME = "resume", _("恢复发布")
        END = "end", _("结束")
        REVISE = "revise", _("修改条款")

    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("原状态"), max_length=20, choices=Offer.Status.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=20, choices=Offer.Status.choices)
    reason = models.TextField(_("原因"), blank=True)
    terms_version = models.PositiveIntegerField(_("条款版本"))
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("优惠状态变更记录")
        verbose_name_plural = _("优惠状态变更记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        # shown as each row's title in the offer's review history: labels, not keys
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"


class MerchantCreditCheck(models.Model):
    """Audit of the enterprise credit provider: every query, every sync, and every item
    refused as malformed (never stored on a merchant). Append-only; read-only in admin."""

    class Source(models.TextChoices):
        QUERY = "query", _("单户查询")
        SYNC = "sync", _("每日同步")

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        NOT_FOUND = "not_found", _("查无此企业")
        UNAVAILABLE = "unavailable", _("服务不可用")
        REJECTED = "rejected", _("数据不合规，已拒收")

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices)
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_checks",
        verbose_name=_("商户"),
    )
    credit_code = models.CharField(_("统一社会信用代码（原样）"), max_length=40, blank=True)
    grade = models.CharField(_("等级"), max_length=1, blank=True)
    seriously_dishonest = models.BooleanField(_("严重失信"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=200, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("企业信用核查记录")
        verbose_name_plural = _("企业信用核查记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.source} {self.outcome}"
