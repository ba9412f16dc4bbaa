"""Reads of entitlement uses (a fixed number of queries each)."""

from django.db.models import QuerySet

from accounts.models import User

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
