"""What incentives holds about a person, for GET /api/v1/me/data."""

from typing import cast

from accounts.models import User

from .models import Voucher


def vouchers_of(user: User) -> list[dict]:
    rows = (
        Voucher.objects.filter(resident=user)
        .select_related("offer__merchant")
        .order_by("-issued_at", "-pk")
    )
    return [
        {
            "code": v.code,
            "status": v.status,
            "offer": {"id": v.offer_id, "title": v.offer.title, "merchant": v.offer.merchant.name},
            "issued_at": v.issued_at.isoformat(),
            "expires_at": v.expires_at.isoformat(),
            "redeemed_at": v.redeemed_at.isoformat() if v.redeemed_at else None,
            "closed_at": v.closed_at.isoformat() if v.closed_at else None,
        }
        for v in rows
    ]


def entitlement_uses_of(user: User) -> list[dict]:
    """The resident's uses of entitlements, as `GET /me/entitlement-uses` shows them."""
    from .passes import selectors
    from .passes.serializers import ResidentUseOutput

    # many=True makes a ListSerializer, whose data is a list; the stubs keep the child's
    return cast(
        list[dict], ResidentUseOutput(selectors.resident_uses(resident=user), many=True).data
    )


def incidents_of(user: User) -> list[dict]:
    """Incidents reported against the resident, as `GET /me/incidents` shows them."""
    from .incidents import selectors
    from .incidents.serializers import IncidentOutput

    return cast(
        list[dict], IncidentOutput(selectors.resident_incidents(resident=user), many=True).data
    )
