"""The admin's home page: what a merchant's back office and a city's reviewers need first.

Selectors only (reads, a fixed number of queries each), scoped with merchants.scopes and
incentives.incidents.services: merchant staff see their own merchant's figures, city staff
their city's queue, superusers the whole programme's queue. The page itself is
admin/xinyou/index.html with the {% admin_home %} tag (merchants.templatetags.admin_home).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User
from core.roles import is_city_staff, is_superuser

from ..models import Merchant, Offer
from ..scopes import offers_visible_to, staff_merchant_id

S = Offer.Status


@dataclass(frozen=True)
class Rejected:
    """A rejected offer and what the city asked to change."""

    pk: int
    title: str
    reason: str


@dataclass(frozen=True)
class MerchantHome:
    merchant: Merchant
    redemptions_today: int
    redemptions_month: int
    uses_today: int
    uses_month: int
    drafts: int
    submitted: int
    rejected: int
    published: int
    credit_paused: int
    paused: int
    offline_conflicts: int
    rejections: tuple[Rejected, ...]


@dataclass(frozen=True)
class CityHome:
    submitted: int
    revisions: int
    incidents_reported: int
    incidents_objected: int


def day_and_month_start(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start of today and of this month in the service's time zone (Beijing time)."""
    local = timezone.localtime(now or timezone.now())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def offer_counts(offers) -> dict[str, int]:
    """Offers by state, in one query (paused for the merchant's credit apart)."""
    credit = Q(status=S.PAUSED, credit_paused_at__isnull=False)
    return offers.aggregate(
        drafts=Count("pk", filter=Q(status=S.DRAFT)),
        submitted=Count("pk", filter=Q(status=S.SUBMITTED)),
        rejected=Count("pk", filter=Q(status=S.REJECTED)),
        published=Count("pk", filter=Q(status=S.PUBLISHED)),
        credit_paused=Count("pk", filter=credit),
        paused=Count("pk", filter=Q(status=S.PAUSED) & ~credit),
    )


def merchant_home(*, user: User, now: datetime | None = None) -> MerchantHome | None:
    """The merchant staff member's figures (None for anyone else): today's and this
    month's redemptions and entitlement uses, offers by state, offline conflicts."""
    from incentives.passes.models import EntitlementUse
    from incentives.vouchers.models import OfflineRedemption, Redemption

    merchant_id = staff_merchant_id(user)
    if merchant_id is None:
        return None
    merchant = Merchant.objects.get(pk=merchant_id)
    day, month = day_and_month_start(now)
    redemptions = Redemption.objects.filter(merchant_id=merchant_id, redeemed_at__gte=month)
    r = redemptions.aggregate(month=Count("pk"), today=Count("pk", filter=Q(redeemed_at__gte=day)))
    uses = EntitlementUse.objects.filter(merchant_id=merchant_id, used_at__gte=month)
    u = uses.aggregate(month=Count("pk"), today=Count("pk", filter=Q(used_at__gte=day)))
    offers = offers_visible_to(user)
    rejections = tuple(
        Rejected(pk=pk, title=title, reason=reason)
        for pk, title, reason in offers.filter(status=S.REJECTED)
        .order_by("-pk")
        .values_list("pk", "title", "rejection_reason")[:5]
    )
    conflicts = OfflineRedemption.objects.filter(merchant_id=merchant_id, conflict=True).count()
    return MerchantHome(
        merchant=merchant,
        redemptions_today=r["today"],
        redemptions_month=r["month"],
        uses_today=u["today"],
        uses_month=u["month"],
        offline_conflicts=conflicts,
        rejections=rejections,
        **offer_counts(offers),
    )


def city_home(*, user: User) -> CityHome | None:
    """City staff's (or a superuser's) queue: offers and changes of terms waiting for
    review, incidents waiting for a decision. None for anyone else."""
    from incentives.incidents.models import Incident
    from incentives.incidents.services import incidents_visible_to

    if not (is_superuser(user) or is_city_staff(user)):
        return None
    offers = offers_visible_to(user).aggregate(
        submitted=Count("pk", filter=Q(status=S.SUBMITTED)),
        revisions=Count("pk", filter=Q(status__in=[S.PUBLISHED, S.PAUSED]) & ~Q(pending_terms={})),
    )
    incidents = incidents_visible_to(user).aggregate(
        reported=Count("pk", filter=Q(status=Incident.Status.REPORTED)),
        objected=Count("pk", filter=Q(status=Incident.Status.OBJECTED)),
    )
    return CityHome(
        submitted=offers["submitted"],
        revisions=offers["revisions"],
        incidents_reported=incidents["reported"],
        incidents_objected=incidents["objected"],
    )


def greeting_name(user: User) -> str:
    """Who is signed in, as the header greets them: the person's name and the merchant
    or city they work for; never the phone number (the login)."""
    name = user.real_name or ""
    merchant_id = staff_merchant_id(user)
    if merchant_id is not None:
        place = user.merchant_membership.merchant.name
    elif is_city_staff(user) and (city := user.staff_city) is not None:
        place = city.name_en if get_language() == "en" and city.name_en else city.name
    else:
        place = ""
    return " · ".join(part for part in (name, place) if part)
