"""Reads of the audit trail and the access log."""

from typing import Any

from accounts.models import User

from .models import AccessLog


def accesses_for_resident(user: User) -> list[dict[str, Any]]:
    """Who among the staff opened this resident's data, newest first (GET /me/data's
    `accessed_by`): their role, city and merchant, never their phone or name."""
    rows = AccessLog.objects.filter(resident_id=user.pk).order_by("-at", "-id")
    return [
        {
            "at": a.at.isoformat(),
            "role": a.staff_role,
            "city": a.staff_city or None,
            "merchant": a.staff_merchant or None,
            "what": a.what,
        }
        for a in rows
    ]
