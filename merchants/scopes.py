"""Who sees and may do what with merchants, stations and offers: one place for admin and
services alike.

Roles: a superuser sees and may do everything; city staff see the merchants, stations and
offers of their own city and review those offers; merchant staff see only their own
merchant and its offers and edit and submit them.
"""

from django.db.models import QuerySet

from accounts.models import User
from core.roles import has_merchant_staff_role, is_city_staff, is_superuser

from .models import Merchant, Offer, Station
from .workflow import ALLOWED_ACTORS, CITY, MERCHANT, SUPERUSER

__all__ = [
    "is_city_staff",
    "is_merchant_staff",
    "is_superuser",
    "may",
    "merchants_visible_to",
    "offers_visible_to",
    "roles_on_offer",
    "staff_merchant_id",
    "stations_visible_to",
]


def staff_merchant_id(user: User) -> int | None:
    """The merchant a merchant-staff user belongs to, or None."""
    if not has_merchant_staff_role(user):
        return None
    membership = getattr(user, "merchant_membership", None)
    return membership.merchant_id if membership is not None else None


def is_merchant_staff(user: User) -> bool:
    return staff_merchant_id(user) is not None


def merchants_visible_to(user: User) -> QuerySet[Merchant]:
    qs = Merchant.objects.all()
    if is_superuser(user):
        return qs
    if is_city_staff(user):
        return qs.filter(city_id=user.staff_city_id)
    merchant_id = staff_merchant_id(user)
    if merchant_id is not None:
        return qs.filter(pk=merchant_id)
    return qs.none()


def stations_visible_to(user: User) -> QuerySet[Station]:
    qs = Station.objects.all()
    if is_superuser(user):
        return qs
    if is_city_staff(user):
        return qs.filter(city_id=user.staff_city_id)
    return qs.none()


def offers_visible_to(user: User) -> QuerySet[Offer]:
    qs = Offer.objects.all()
    if is_superuser(user):
        return qs
    if is_city_staff(user):
        return qs.filter(merchant__city_id=user.staff_city_id)
    merchant_id = staff_merchant_id(user)
    if merchant_id is not None:
        return qs.filter(merchant_id=merchant_id)
    return qs.none()


def roles_on_offer(user: User, offer: Offer) -> set[str]:
    """The workflow actors (merchants.workflow: MERCHANT, CITY, SUPERUSER) the user is
    towards this offer."""
    roles = set()
    if is_superuser(user):
        roles.add(SUPERUSER)
    if is_city_staff(user) and user.staff_city_id == offer.merchant.city_id:
        roles.add(CITY)
    if staff_merchant_id(user) == offer.merchant_id:
        roles.add(MERCHANT)
    return roles


def may(user: User, action: str, offer: Offer) -> bool:
    """Whether the user may take a workflow action on this offer (status aside)."""
    roles = roles_on_offer(user, offer)
    return SUPERUSER in roles or bool(roles & ALLOWED_ACTORS[action])
