"""Who sees and may do what with merchants, stations and offers: one place for admin and
services alike.

Roles: a superuser sees and may do everything; city staff see the merchants, stations and
offers of their own city and review those offers; merchant staff see only their own
merchant and its offers and edit and submit them.
"""

from django.db.models import QuerySet

from accounts.models import User

from .models import Merchant, Offer, Station

# Who may take each workflow action (superusers may take all).
ALLOWED_ACTORS: dict[str, frozenset[str]] = {
    "submit": frozenset({"merchant"}),
    "withdraw": frozenset({"merchant"}),
    "revise": frozenset({"merchant"}),
    "publish": frozenset({"city"}),
    "reject": frozenset({"city"}),
    "pause": frozenset({"merchant", "city"}),
    "resume": frozenset({"merchant", "city"}),
    "end": frozenset({"city"}),
}


def is_superuser(user: User) -> bool:
    return bool(user.is_active and user.is_superuser)


def is_city_staff(user: User) -> bool:
    return bool(user.is_active and user.role == User.Role.CITY_STAFF and user.staff_city_id)


def staff_merchant_id(user: User) -> int | None:
    """The merchant a merchant-staff user belongs to, or None."""
    if not user.is_active or user.role != User.Role.MERCHANT_STAFF:
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
    """The roles ("merchant", "city", "superuser") the user holds towards this offer."""
    roles = set()
    if is_superuser(user):
        roles.add("superuser")
    if is_city_staff(user) and user.staff_city_id == offer.merchant.city_id:
        roles.add("city")
    if staff_merchant_id(user) == offer.merchant_id:
        roles.add("merchant")
    return roles


def may(user: User, action: str, offer: Offer) -> bool:
    """Whether the user may take a workflow action on this offer (status aside)."""
    roles = roles_on_offer(user, offer)
    return "superuser" in roles or bool(roles & ALLOWED_ACTORS[action])
