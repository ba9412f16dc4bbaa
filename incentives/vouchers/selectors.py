"""Reads of vouchers: the resident's vouchers, a merchant's redemptions online and offline.
Each runs a fixed number of queries however many rows there are."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User

from .models import OfflineRedemption, Redemption, Voucher


def resident_vouchers(*, resident: User, status: str | None = None) -> QuerySet[Voucher]:
    qs = Voucher.objects.filter(resident=resident).select_related(
        "offer", "merchant", "merchant__city"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-issued_at", "-id")


def merchant_redemptions(
    *, merchant_id: int, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Redemption]:
    """A merchant's redemptions, newest first; dates are Asia/Shanghai calendar days."""
    qs = Redemption.objects.filter(merchant_id=merchant_id).select_related(
        "voucher", "voucher__offer", "voucher__resident", "staff"
    )
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(redeemed_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(
            redeemed_at__lt=datetime.combine(date_to, time.min, tzinfo=tz) + timedelta(days=1)
        )
    return qs.order_by("-redeemed_at", "-id")


def merchant_offline_redemptions(
    *,
    merchant_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    conflict: bool | None = None,
) -> QuerySet[OfflineRedemption]:
    """A merchant's uploaded offline redemptions, newest upload first; dates are
    Asia/Shanghai days of the upload."""
    qs = OfflineRedemption.objects.filter(merchant_id=merchant_id).select_related("voucher")
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(synced_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(
            synced_at__lt=datetime.combine(date_to, time.min, tzinfo=tz) + timedelta(days=1)
        )
    if conflict is not None:
        qs = qs.filter(conflict=conflict)
    return qs.order_by("-synced_at", "-id")
