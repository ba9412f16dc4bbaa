"""Who is who in the programme: the roles, and the one set of checks every app uses.

A user has one role (`User.role`); superusers are platform operators whatever their role
field says. Scopes built on these (which merchants, stations and offers a user sees) are
in merchants.scopes; the API permissions in core.api; nothing else compares role strings.
It lives in core (not accounts) so that core's API permissions need no app.
"""

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from accounts.models import User


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    MERCHANT_STAFF = "merchant_staff", _("商户员工")
    CITY_STAFF = "city_staff", _("城市工作人员")
    ALLIANCE_STAFF = "alliance_staff", _("联盟工作人员")
    PLATFORM = "platform", _("平台运营")


def _active(user: "User | Any") -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_superuser(user: "User | Any") -> bool:
    """A platform operator: may see and do everything."""
    return _active(user) and bool(user.is_superuser)


def is_resident(user: "User | Any") -> bool:
    return _active(user) and user.role == Role.RESIDENT


def is_city_staff(user: "User | Any") -> bool:
    """City staff attached to a partner city (reviews its offers, sees its dashboards)."""
    return _active(user) and user.role == Role.CITY_STAFF and bool(user.staff_city_id)


def has_merchant_staff_role(user: "User | Any") -> bool:
    """The merchant-staff role (membership of a merchant: merchants.scopes)."""
    return _active(user) and user.role == Role.MERCHANT_STAFF


def may_join_a_merchant(user: "User") -> bool:
    """Whether an account may be made a merchant's staff member: the merchant-staff role,
    active or not (a membership is kept while the account is suspended)."""
    return user.role == Role.MERCHANT_STAFF


def is_alliance_staff(user: "User | Any") -> bool:
    """Alliance staff attached to an alliance of partner cities: see the dashboards (and
    roll-ups) of its member cities, read-only; change nothing."""
    return _active(user) and user.role == Role.ALLIANCE_STAFF and bool(user.staff_alliance_id)


def sees_city_dashboards(user: "User | Any") -> bool:
    """City staff (their own city), alliance staff (their alliance's member cities) and
    superusers (any city)."""
    return is_superuser(user) or is_city_staff(user) or is_alliance_staff(user)


def dashboard_cities(user: "User | Any") -> frozenset[str] | None:
    """The codes of the cities whose dashboards (summary, series, breakdowns, flows, CSV,
    statement roll-ups, risk signals) the user may see: None for all (superusers); the
    staff city of city staff; the member cities of an alliance staff member's alliance as
    they are now (one query); the empty set for everyone else."""
    if is_superuser(user):
        return None
    if is_city_staff(user):
        return frozenset({str(user.staff_city_id)})
    if is_alliance_staff(user):
        # by name: core imports no app (the model's own one-query read of its members)
        alliance = apps.get_model("accounts", "Alliance")
        return alliance.member_codes(str(user.staff_alliance_id)) or frozenset()
    return frozenset()


def is_staff_account(user: "User | Any") -> bool:
    """Every account that is not a plain resident's: every staff role (merchant staff, city
    staff, platform, and any role added later), superusers, and any account with admin
    access. These log in with a second factor and their sessions expire when idle
    (accounts.staff_auth, docs/accounts.md)."""
    return _active(user) and (
        bool(user.is_superuser) or bool(user.is_staff) or user.role != Role.RESIDENT
    )
