"""Credit schemes and their versioned rules, consent, standings, the audit of every
provider query, and the seriously-dishonest list as last synced from each city.

Imported by accounts.models, so these belong to the `accounts` app.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .conversion import TIERS, Band, Bands, validate_bands
from .grades import Grades, validate_grades


class Tier(models.TextChoices):
    POOR = "poor", _("较差")
    FAIR = "fair", _("一般")
    GOOD = "good", _("良好")
    EXCELLENT = "excellent", _("优秀")


TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


class HonourKind(models.TextChoices):
    """Administrative awards and honours of the shared catalogue (行政奖励)."""

    BLOOD_DONOR = "blood_donor", _("无偿献血")
    GOOD_SAMARITAN = "good_samaritan", _("见义勇为")
    MODEL_WORKER = "model_worker", _("劳动模范")
    VOLUNTEER = "volunteer", _("优秀志愿者")


class Scheme(models.Model):
    """A city credit score such as 钱江分 (杭州) or 金椰分 (海南); may serve several cities.

    `numeric`: a score range, and rule versions that band it into the common tiers.
    `grade`: an ordered list of grades (best first, e.g. AAA … D), and rule versions
    that put each grade in one common tier."""

    class Kind(models.TextChoices):
        NUMERIC = "numeric", _("分数制")
        GRADE = "grade", _("等级制")

    name = models.CharField(_("名称"), max_length=40, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.NUMERIC)
    min_score = models.IntegerField(_("最低分"), null=True, blank=True)
    max_score = models.IntegerField(_("最高分"), null=True, blank=True)
    grades = models.JSONField(
        _("等级（由高到低）"),
        default=list,
        blank=True,
        help_text=_('等级制体系的全部等级，由高到低，如 ["AAA", "AA", "A", "B"]。'),
    )
    validity_days = models.PositiveIntegerField(
        _("核验结果有效天数"), default=30, help_text=_("核验后多少天内有效，到期需重新核验。")
    )
    illustrative = models.BooleanField(
        _("演示用分段"), default=True, help_text=_("分数范围或分段未公开，演示数据为示意。")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # A scheme several cities use (金椰分: 海口 and 三亚) is kept by one of them.
    owner_city = models.ForeignKey(
        "accounts.City",
        on_delete=models.PROTECT,
        null=True,
        related_name="owned_schemes",
        verbose_name=_("所属城市"),
        help_text=_("只有该城市的工作人员（或平台超级管理员）可以为本体系新增规则版本。"),
    )

    class Meta:
        verbose_name = _("信用分体系")
        verbose_name_plural = _("信用分体系")
        constraints = [
            models.CheckConstraint(
                name="scheme_range_ordered",
                condition=Q(kind="grade") | Q(max_score__gt=models.F("min_score")),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_grade(self) -> bool:
        return self.kind == self.Kind.GRADE

    def clean(self) -> None:
        if self.is_grade:
            names = self.grades if isinstance(self.grades, list) else []
            if (
                not names
                or len(set(names)) != len(names)
                or not all(isinstance(n, str) and n for n in names)
            ):
                raise ValidationError(
                    {"grades": _("请按由高到低列出各不相同的等级，如 AAA、AA、A、B、C、D。")}
                )
        elif self.min_score is None or self.max_score is None:
            raise ValidationError(_("分数制体系须填写最低分和最高分。"))
        elif self.max_score <= self.min_score:
            raise ValidationError(_("最高分须大于最低分。"))

    def rule_in_force(self, at=None) -> "RuleVersion | None":
        at = at or timezone.now()
        return (
            self.rule_versions.filter(effective_from__lte=at)
            .order_by("-effective_from", "-version")
            .first()
        )


class RuleVersion(models.Model):
    """The tier bands of a scheme from a date on. Never edited once saved: a change is a
    new version, and every standing keeps the version it was computed with."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="rule_versions", verbose_name=_("信用分体系")
    )
    version = models.PositiveIntegerField(_("版本号"))
    effective_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    poor_lo = models.IntegerField(_("较差 下限"), null=True, blank=True)
    poor_hi = models.IntegerField(_("较差 上限"), null=True, blank=True)
    fair_lo = models.IntegerField(_("一般 下限"), null=True, blank=True)
    fair_hi = models.IntegerField(_("一般 上限"), null=True, blank=True)
    good_lo = models.IntegerField(_("良好 下限"), null=True, blank=True)
    good_hi = models.IntegerField(_("良好 上限"), null=True, blank=True)
    excellent_lo = models.IntegerField(_("优秀 下限"), null=True, blank=True)
    excellent_hi = models.IntegerField(_("优秀 上限"), null=True, blank=True)
    grade_tiers = models.JSONField(
        _("等级对应的通用等级"),
        default=dict,
        blank=True,
        help_text=_('等级制体系：每个等级对应的通用等级，如 {"A": "good"}。'),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )

    class Meta:
        verbose_name = _("分段规则版本")
        verbose_name_plural = _("分段规则版本")
        ordering = ["scheme", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "version"], name="rule_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scheme} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("规则版本一经保存不可修改，请新建版本。"))
        super().save(*args, **kwargs)

    @property
    def is_grade(self) -> bool:
        """A version of a grade scheme (its grades mapped to tiers), else score bands."""
        return bool(self.grade_tiers)

    def band_list(self) -> list[Band]:
        return [Band(t, getattr(self, f"{t}_lo"), getattr(self, f"{t}_hi")) for t in TIERS]

    @property
    def bands(self) -> Bands:
        return Bands(*self.band_list())

    @property
    def grade_scale(self) -> Grades:
        """The grades, best first in the scheme's order, with their tiers."""
        order = list(self.scheme.grades) if self.scheme_id else []
        names = [g for g in order if g in self.grade_tiers] or list(self.grade_tiers)
        return Grades.build([(g, self.grade_tiers[g]) for g in names])

    @property
    def scale(self) -> Bands | Grades:
        return self.grade_scale if self.is_grade else self.bands

    def as_dict(self) -> dict[str, list[int]]:
        return {b.tier: [b.lo, b.hi] for b in self.band_list()}

    def clean(self) -> None:
        if self.scheme_id is not None and self.scheme.is_grade:
            self._clean_grades()
            return
        if self.scheme_id is None:
            return
        if None in [getattr(self, f"{t}_{e}") for t in TIERS for e in ("lo", "hi")]:
            raise ValidationError(_("分数制体系的规则版本须填写四个分段的上下限。"))
        if self.grade_tiers:
            raise ValidationError(_("分数制体系的规则版本不填写等级。"))
        lo, hi = self.scheme.min_score, self.scheme.max_score
        assert lo is not None and hi is not None  # a score scheme has its range (Scheme.clean)
        problems = validate_bands(lo, hi, self.band_list())
        if problems:
            # the rule in the admin's language, then each problem found (with its scores)
            rule = _(
                "分段规则有误：较差、一般、良好、优秀四个分段须依次覆盖 %(lo)s–%(hi)s 的全部分数，"
                "既不重叠也不留空档，每段至少两个分数。"
            ) % {"lo": lo, "hi": hi}
            raise ValidationError([rule, *problems])

    def _clean_grades(self) -> None:
        """Every grade of the scheme in exactly one tier, tiers falling with the grades;
        a grade the scheme does not have is named as such."""
        scheme_grades = list(self.scheme.grades)
        mapping = self.grade_tiers if isinstance(self.grade_tiers, dict) else {}
        problems: list[str | Promise] = []
        unknown = [g for g in mapping if g not in scheme_grades]
        if unknown:
            problems.append(
                _("未知等级：%(grades)s（%(scheme)s 的等级为 %(known)s）。")
                % {
                    "grades": "、".join(map(str, unknown)),
                    "scheme": self.scheme.name,
                    "known": "、".join(scheme_grades),
                }
            )
        missing = [g for g in scheme_grades if g not in mapping]
        if missing:
            problems.append(_("缺少等级：%(grades)s。") % {"grades": "、".join(missing)})
        if not problems:
            problems += validate_grades([(g, mapping[g]) for g in scheme_grades])
        if any(None is not getattr(self, f"{t}_{e}") for t in TIERS for e in ("lo", "hi")):
            problems.append(_("等级制体系的规则版本不填写分数段。"))
        if problems:
            rule = _(
                "等级规则有误：%(scheme)s 的每个等级须对应一个通用等级（较差、一般、良好、优秀），"
                "等级越高，通用等级不得越低，且四个通用等级都须有对应等级。"
            ) % {"scheme": self.scheme.name}
            raise ValidationError([rule, *problems])


class ConsentText(models.Model):
    """A published text of the separate consent to credit queries (PIPL art. 29)."""

    version = models.CharField(_("版本"), max_length=20, unique=True)
    title_zh = models.CharField(_("标题（中文）"), max_length=100)
    title_en = models.CharField(_("标题（英文）"), max_length=150)
    body_zh = models.TextField(_("正文（中文）"))
    body_en = models.TextField(_("正文（英文）"))
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    is_current = models.BooleanField(_("当前版本"), default=False)

    class Meta:
        verbose_name = _("授权书文本")
        verbose_name_plural = _("授权书文本")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_consent_text"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title_zh} ({self.version})"


class Consent(models.Model):
    """A resident's consent to credit queries; withdrawn, never deleted."""

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="credit_consents",
        verbose_name=_("居民"),
    )
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, verbose_name=_("授权书版本"))
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("信用查询授权")
        verbose_name_plural = _("信用查询授权")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_resident",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.text_id} {self.granted_at:%Y-%m-%d}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class Standing(models.Model):
    """A resident's verified credit standing in their home city's scheme."""

    resident = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="standing",
        verbose_name=_("居民"),
    )
    city = models.ForeignKey("accounts.City", on_delete=models.PROTECT, verbose_name=_("城市"))
    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, verbose_name=_("规则版本")
    )
    score = models.IntegerField(_("信用分"), null=True, blank=True)
    grade = models.CharField(
        _("信用等级（等级制）"), max_length=8, blank=True, help_text=_("等级制体系的城市。")
    )
    tier = models.CharField(_("等级"), max_length=10, choices=Tier.choices)
    seriously_dishonest = models.BooleanField(_("严重失信"), default=False)
    verified_at = models.DateTimeField(_("核验时间"))
    valid_until = models.DateTimeField(_("有效期至"), db_index=True)
    provider_reference = models.CharField(_("查询流水号"), max_length=64, blank=True)
    last_failed_at = models.DateTimeField(_("最近一次查询失败"), null=True, blank=True)

    class Meta:
        verbose_name = _("信用状况")
        verbose_name_plural = _("信用状况")
        constraints = [
            models.CheckConstraint(
                name="standing_score_or_grade",
                condition=(Q(score__isnull=False) & Q(grade=""))
                | (Q(score__isnull=True) & ~Q(grade="")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.tier}"

    @property
    def value(self) -> int | str:
        """The score, or the grade in a grade scheme: what conversion starts from."""
        if self.grade:
            return self.grade
        assert self.score is not None  # standing_score_or_grade: no grade, then a score
        return self.score

    @property
    def stale(self) -> bool:
        """Served from the last good answer: the provider failed after it was verified."""
        return self.last_failed_at is not None and self.last_failed_at > self.verified_at

    @property
    def expired(self) -> bool:
        return self.valid_until <= timezone.now()


class CreditQuery(models.Model):
    """Audit of every provider query: who, which city, why, under which consent, outcome.

    Append-only: admin shows it read-only to everyone; kept at least three years.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        NOT_FOUND = "not_found", _("查无此人")
        UNAVAILABLE = "unavailable", _("服务不可用")
        BREAKER_OPEN = "breaker_open", _("熔断中，未发起")

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("居民")
    )
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=18)
    requested_by = models.CharField(_("发起方"), max_length=40)
    city = models.ForeignKey("accounts.City", on_delete=models.PROTECT, verbose_name=_("城市"))
    purpose = models.CharField(_("用途"), max_length=40)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, verbose_name=_("授权"))
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices)
    error = models.CharField(_("错误"), max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(_("耗时（毫秒）"))
    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("规则版本")
    )

    class Meta:
        verbose_name = _("信用查询记录")
        verbose_name_plural = _("信用查询记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.city_id} {self.outcome}"


class ListedPerson(models.Model):
    """One entry of a city's seriously-dishonest list as last synced (keyed ID hash)."""

    city = models.ForeignKey("accounts.City", on_delete=models.CASCADE, verbose_name=_("城市"))
    person_hash = models.CharField(_("身份证号密钥哈希"), max_length=64)
    synced_at = models.DateTimeField(_("首次同步时间"), default=timezone.now)

    class Meta:
        verbose_name = _("严重失信名单条目")
        verbose_name_plural = _("严重失信名单条目")
        constraints = [
            # person_hash first: the same index serves "listed by any city?" lookups
            models.UniqueConstraint(fields=["person_hash", "city"], name="listed_person_unique")
        ]

    def __str__(self) -> str:
        return f"{self.city_id} {self.person_hash[:12]}…"


class Honour(models.Model):
    """One entry of a city's honour list as last synced (keyed ID hash, kind, validity).

    Positive signals only: an honour never overrides the seriously-dishonest flag."""

    city = models.ForeignKey("accounts.City", on_delete=models.CASCADE, verbose_name=_("城市"))
    person_hash = models.CharField(_("身份证号密钥哈希"), max_length=64)
    kind = models.CharField(_("荣誉类别"), max_length=20, choices=HonourKind.choices)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    synced_at = models.DateTimeField(_("同步时间"), default=timezone.now)

    class Meta:
        verbose_name = _("荣誉名单条目")
        verbose_name_plural = _("荣誉名单条目")
        constraints = [
            models.UniqueConstraint(
                fields=["person_hash", "city", "kind"], name="honour_unique_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.city_id} {self.kind} {self.person_hash[:12]}…"
