"""Reads of entitlement uses and incidents (a fixed number of queries each)."""

from django.db.models import QuerySet

from accounts.models import User
from merchants.models import Merchant, Offer

from ..incidents.models import Incident
from .models import EntitlementUse


def resident_uses(*, resident: User) -> QuerySet[EntitlementUse]:
    """The resident's entitlement uses, newest first, with offer and merchant joined."""
    return (
        EntitlementUse.objects.filter(resident=resident)
        .select_related("offer", "merchant", "dest_city")
        .order_by("-used_at", "-id")
    )


def merchant_uses(*, merchant_id: int) -> QuerySet[EntitlementUse]:
    """A merchant's entitlement uses, newest first (the scanner's history)."""
    return (
        EntitlementUse.objects.filter(merchant_id=merchant_id)
        .select_related("offer", "resident", "merchant")
        .order_by("-used_at", "-id")
    )


def resident_incidents(*, resident: User) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(resident=resident)
        .select_related("merchant", "offer")
        .order_by("-reported_at", "-id")
    )


def merchant_offers(*, merchant_id: int, kind: str | None = None) -> QuerySet[Offer]:
    """The merchant's published offers (what a counter may apply), newest first."""
    qs = Offer.objects.filter(
        merchant_id=merchant_id,
        status=Offer.Status.PUBLISHED,
        merchant__status=Merchant.Status.ACTIVE,
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("merchant", "merchant__city", "merchant__city__scheme").order_by(
        "-published_at", "-id"
    )
