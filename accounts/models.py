"""Users and their roles, and the partner cities."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import Role

from .credit.models import (
    Consent,
    ConsentText,
    CreditQuery,
    ListedPerson,
    RuleVersion,
    Scheme,
    Standing,
    Tier,
)
from .identity import PHONE_RE, id_hash, mask_name, mask_phone, parse_id_number
from .legal.models import Agreement, AgreementAcceptance
from .notices.models import DeadLetter, Notice, NoticeSettings, SmsDelivery
from .realname.models import IdentityCheck
from .security.models import LoginFailure, LoginLock
from .signups.models import SignupEvent
from .sms.models import SmsCode, SmsOutboxMessage

# The models of the `accounts` app: users and cities here; credit schemes, consent,
# standings and their audit in accounts/credit/; identity and account security (SMS codes,
# real-name checks, the user agreement, lockouts) in their own packages.
__all__ = [
    "Agreement",
    "AgreementAcceptance",
    "Alliance",
    "City",
    "Consent",
    "ConsentText",
    "CreditQuery",
    "DeadLetter",
    "IdentityCheck",
    "ListedPerson",
    "LoginFailure",
    "LoginLock",
    "Notice",
    "NoticeSettings",
    "RuleVersion",
    "Scheme",
    "SignupEvent",
    "SmsCode",
    "SmsDelivery",
    "SmsOutboxMessage",
    "Standing",
    "Tier",
    "User",
    "UserManager",
]


class City(models.Model):
    """A partner city, keyed by its 6-digit administrative division code."""

    code = models.CharField(
        _("行政区划代码"),
        max_length=6,
        primary_key=True,
        validators=[RegexValidator(r"^\d{6}$", _("应为 6 位数字行政区划代码。"))],
    )
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    province = models.CharField(_("省份"), max_length=40)
    scheme = models.ForeignKey(
        "accounts.Scheme",
        verbose_name=_("信用分体系"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cities",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("合作城市")
        verbose_name_plural = _("合作城市")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Alliance(models.Model):
    """An alliance of partner cities (信用长三角, 十城市联盟, 京津冀晋): its staff see the
    dashboards of its member cities, and an offer may be open to its members' residents.
    A city may belong to several alliances; the members are read when they are needed (an
    offer's claim asks the member list at claim time)."""

    code = models.SlugField(
        _("代码"),
        max_length=20,
        primary_key=True,
        help_text=_("小写字母、数字和连字符，如 yrd。"),
    )
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    members = models.ManyToManyField(
        City, blank=True, related_name="alliances", verbose_name=_("成员城市")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("城市联盟")
        verbose_name_plural = _("城市联盟")

    def __str__(self) -> str:
        return str(self.name)

    @staticmethod
    def member_codes(code: str) -> frozenset[str] | None:
        """The codes of an alliance's member cities now (one query); None: no such
        alliance."""
        row = (
            Alliance.objects.filter(pk=code)
            .annotate(codes=ArrayAgg("members__code", default=Value([])))
            .values_list("codes", flat=True)
            .first()
        )
        return None if row is None else frozenset(c for c in row if c is not None)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra) -> "User":
        if not phone:
            raise ValueError("phone is required")
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True, role=User.Role.PLATFORM)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: residents, merchant staff, city staff, alliance staff and
    platform operators.

    A resident's ID number is never stored: only its keyed hash (HMAC-SHA256 with the
    server-side pepper) and its masked form (first four, last four), which leaves at least
    10,000 candidate numbers (no birth date: with it the mask gave about ten away).
    A closed account keeps only its id, role, join and closing dates (accounts.privacy).
    """

    Role = Role  # core.roles.Role, also reachable as User.Role; core.roles decides roles

    phone = models.CharField(
        _("手机号"),
        max_length=11,
        unique=True,
        validators=[RegexValidator(PHONE_RE, _("请输入 11 位大陆手机号。"))],
        error_messages={"unique": _("该手机号已注册。")},
    )
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.RESIDENT)
    home_city = models.ForeignKey(
        City,
        verbose_name=_("户籍/常住城市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
    )
    staff_city = models.ForeignKey(
        City,
        verbose_name=_("所属城市（工作人员）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    staff_alliance = models.ForeignKey(
        Alliance,
        verbose_name=_("所属联盟（联盟工作人员）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    id_hash = models.CharField(_("身份证号密钥哈希"), max_length=64, unique=True, null=True)
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=18, blank=True)
    is_staff = models.BooleanField(_("可登录管理后台"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    closed_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = []  # typed ClassVar[list[str]] by AbstractBaseUser

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                name="resident_has_identity",
                condition=~Q(role=Role.RESIDENT)
                | Q(closed_at__isnull=False)
                | (Q(home_city__isnull=False) & Q(id_hash__isnull=False)),
            ),
            models.CheckConstraint(
                name="city_staff_has_city",
                condition=~Q(role=Role.CITY_STAFF) | Q(staff_city__isnull=False),
            ),
            models.CheckConstraint(
                name="alliance_staff_has_alliance",
                condition=~Q(role=Role.ALLIANCE_STAFF) | Q(staff_alliance__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.real_name) or '-'} {mask_phone(self.phone)}"

    @property
    def roles(self) -> list[str]:
        roles = [self.role]
        if self.is_superuser:
            roles.append("superuser")
        return roles

    @property
    def id_last4(self) -> str:
        return self.id_masked[-4:]

    def set_id_number(self, raw: str) -> None:
        """Keep only the keyed hash and the masked form of an ID number."""
        parsed = parse_id_number(raw)
        self.id_hash = id_hash(settings.ID_HASH_KEY, parsed.normalized)
        self.id_masked = parsed.masked
