"""Recording what staff look at (the personal-data access log)."""

from django.http import HttpRequest

from accounts.models import User
from accounts.security.services import client_ip
from core.roles import Role

from .models import AccessLog


class What:
    """What a member of staff opened (AccessLog.what): stable codes, shown to the resident."""

    INCIDENT = "incident"
    INCIDENT_LIST = "incident_list"
    OFFLINE_CONFLICT = "offline_redemption"
    OFFLINE_CONFLICT_LIST = "offline_redemption_list"
    ACCOUNT = "account"
    ACCOUNT_LIST = "account_list"
    # for the packages to come (statements with holders, data requests): record_access
    DATA_REQUEST = "data_request"
    STATEMENT = "statement"


def record_access(
    *,
    request: HttpRequest,
    resident_id: int | None,
    what: str,
    object_ref: str = "",
) -> AccessLog | None:
    """Log that the request's user (staff) opened `what` about resident `resident_id`.
    Nothing is logged for a resident looking at their own data or for no resident."""
    staff = getattr(request, "user", None)
    if resident_id is None or staff is None or not staff.is_authenticated:
        return None
    if staff.pk == resident_id:
        return None
    role = "superuser" if staff.is_superuser else staff.role
    membership = (
        getattr(staff, "merchant_membership", None) if staff.role == Role.MERCHANT_STAFF else None
    )
    return AccessLog.objects.create(
        staff_id=staff.pk,
        staff_role=role,
        staff_city=(staff.staff_city_id or "") if staff.role == Role.CITY_STAFF else "",
        staff_merchant=membership.merchant.name if membership is not None else "",
        resident_id=resident_id,
        what=what,
        object_ref=object_ref[:80],
        ip=client_ip(request),
        path=request.path[:300],
    )


def record_accesses(
    *, request: HttpRequest, resident_ids: list[int], what: str, object_ref: str = ""
) -> int:
    """One row per resident shown on a page (a list): one INSERT for all."""
    staff: User | None = getattr(request, "user", None)
    if staff is None or not staff.is_authenticated:
        return 0
    ids = sorted({r for r in resident_ids if r is not None and r != staff.pk})
    if not ids:
        return 0
    role = "superuser" if staff.is_superuser else staff.role
    membership = (
        getattr(staff, "merchant_membership", None) if staff.role == Role.MERCHANT_STAFF else None
    )
    common = {
        "staff_id": staff.pk,
        "staff_role": role,
        "staff_city": (staff.staff_city_id or "") if staff.role == Role.CITY_STAFF else "",
        "staff_merchant": membership.merchant.name if membership is not None else "",
        "what": what,
        "object_ref": object_ref[:80],
        "ip": client_ip(request),
        "path": request.path[:300],
    }
    AccessLog.objects.bulk_create([AccessLog(resident_id=r, **common) for r in ids])
    return len(ids)
