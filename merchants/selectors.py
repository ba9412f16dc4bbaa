"""Reads of offers, each with a fixed number of queries however many rows there are."""

from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import City

from .models import Merchant, Offer, Station


def published_offers(
    *,
    city: City | str | None = None,
    category: str | None = None,
    benefit_type: str | None = None,
    scenario: str | None = None,
    kind: str | None = None,
    station: Station | int | None = None,
    q: str | None = None,
    trustworthy: bool | None = None,
    now: datetime | None = None,
) -> QuerySet[Offer]:
    """Offers residents may see: published, inside their dates, of an active merchant.

    Merchant, city and scheme come by join; home cities and stations by one prefetch
    each, so a page costs the same number of queries whatever its size.
    """
    now = now or timezone.now()
    qs = Offer.objects.filter(
        status=Offer.Status.PUBLISHED,
        valid_from__lte=now,
        valid_until__gt=now,
        merchant__status=Merchant.Status.ACTIVE,
    )
    if city:
        qs = qs.filter(merchant__city=city)
    if category:
        qs = qs.filter(category=category)
    if benefit_type:
        qs = qs.filter(benefit_type=benefit_type)
    if scenario:
        qs = qs.filter(scenario=scenario)
    if kind:
        qs = qs.filter(kind=kind)
    if station:
        qs = qs.filter(merchant__stations=station)
    if trustworthy:
        qs = qs.filter(merchant__credit_grade="A", merchant__seriously_dishonest=False)
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(title_en__icontains=q) | Q(merchant__name__icontains=q)
        )
    return (
        qs.select_related("merchant", "merchant__city", "merchant__city__scheme")
        .prefetch_related(
            Prefetch("eligible_home_cities", queryset=City.objects.only("code").order_by("code")),
            Prefetch("merchant__stations", queryset=Station.objects.order_by("name")),
        )
        .order_by("-published_at", "-id")
    )


def stations(*, city: City | str | None = None) -> QuerySet[Station]:
    """Stations with their active merchant count, by city then name (one query)."""
    qs = Station.objects.select_related("city").annotate(
        merchant_count=Count("merchants", filter=Q(merchants__status=Merchant.Status.ACTIVE))
    )
    if city:
        qs = qs.filter(city=city)
    return qs.order_by("city_id", "name")
