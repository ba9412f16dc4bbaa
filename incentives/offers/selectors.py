"""Reads of offers: the resident's view (what eligibility needs of them), published offers
matched to a resident, a merchant's own offers. Each runs a fixed number of queries however
many rows there are."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from accounts.credit.models import TIER_RANK, Consent, Honour, Standing
from accounts.credit.selectors import equivalents
from accounts.models import User
from merchants.models import Merchant, Offer, Station
from merchants.selectors import published_offers

from .. import eligibility
from ..eligibility import Person, Reason, personal_reasons
from .place_names import english_place

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from ..eligibility import Eligibility

EQUIVALENTS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class ResidentView:
    """What eligibility needs to know of a resident, read once per request."""

    home_city: str | None
    standing: Standing | None
    tier_rank: int = -1
    scores: dict[str, int] = field(default_factory=dict)  # city code -> score in its scheme
    resident_id: int | None = None
    consented: bool = True  # withdrawn consent: no stored standing is used
    # grade-scheme city -> the grades the resident's equivalent meets (theirs and below)
    grades: dict[str, list[str]] = field(default_factory=dict)
    honours: tuple[str, ...] = ()  # honour kinds in force on the home city's lists

    @property
    def person(self) -> Person:
        """What the personal rules read (incentives.eligibility)."""
        standing = self.standing
        return Person(
            has_standing=standing is not None,
            consented=self.consented,
            flagged=bool(standing and standing.seriously_dishonest),
            standing_valid_until=standing.valid_until if standing else None,
        )

    @property
    def personal_reasons(self) -> list[Reason]:
        return personal_reasons(self.person, timezone.now())


def resident_view(resident: User) -> ResidentView:
    """The resident's standing (with whether they still consent and the honours in force),
    tier and equivalent score or grades in every partner city's scheme (their own scheme
    included): one to four queries."""
    active = Consent.objects.filter(resident_id=OuterRef("resident_id"), withdrawn_at__isnull=True)
    # The honours in force come in the same query, as one comma-separated string.
    honours = (
        Honour.objects.filter(
            person_hash=OuterRef("resident__id_hash"), city_id=OuterRef("city_id")
        )
        .exclude(valid_until__lt=timezone.localdate())
        .values("person_hash")
        .annotate(kinds=StringAgg("kind", delimiter=Value(",")))
        .values("kinds")
    )
    standing = (
        Standing.objects.select_related("rule_version__scheme")
        .annotate(consented=Exists(active), honour_kinds=Subquery(honours))
        .filter(resident=resident)
        .first()
    )
    if standing is None:
        return view_of(resident, None)
    return view_of(
        resident, standing, consented=standing.consented, honour_kinds=standing.honour_kinds
    )


def view_of(
    resident: User,
    standing: Standing | None,
    *,
    consented: bool = True,
    honour_kinds: str | None = None,
) -> ResidentView:
    """`resident_view` for a standing already read (at most three queries, usually none),
    with whether the resident still consents and the honour kinds in force (comma-separated)."""
    if standing is None:
        return ResidentView(resident.home_city_id, None, resident_id=resident.pk)
    # Every list page and claim needs these; they change only with a new verification or
    # a new rule version, so a minute's reuse is safe (and saves three queries).
    key = (
        f"equivalents:{standing.pk}:{standing.verified_at.timestamp()}:"
        f"{standing.score}:{standing.grade}"
    )
    cached = cache.get(key)
    if cached is None:
        scores, grades = {}, {}
        for e in equivalents(standing):
            if e.get("grade") is not None:
                grades[e["city"]] = e["admits"]
            else:
                scores[e["city"]] = e["score"]
        if standing.grade:
            grades[standing.city_id] = standing.rule_version.grade_scale.at_most(standing.grade)
        else:
            scores[standing.city_id] = standing.score
        cached = (scores, grades)
        cache.set(key, cached, EQUIVALENTS_CACHE_SECONDS)
    scores, grades = cached
    kinds = tuple(sorted(filter(None, (honour_kinds or "").split(","))))
    return ResidentView(
        resident.home_city_id,
        standing,
        TIER_RANK[standing.tier],
        scores,
        resident_id=resident.pk,
        consented=consented,
        grades=grades,
        honours=kinds,
    )


def annotate_eligibility(
    qs: QuerySet[Offer], who: ResidentView, *, now: datetime | None = None
) -> "QuerySet[WithAnnotations[Offer, Eligibility]]":
    """Adds the flags of ELIGIBILITY_FLAGS and `eligible` in SQL (incentives.eligibility)."""
    return eligibility.annotate(qs, who, who.person, now or timezone.now())


def eligibility_of(offer: Any, who: ResidentView) -> dict:
    """`{eligible, reasons}` from the annotations of `annotate_eligibility` (no query)."""
    reasons = eligibility.reasons_of_flags(offer, who.person, timezone.now())
    return {"eligible": not reasons, "reasons": reasons}


def matched_offers(
    *,
    resident: User,
    who: ResidentView | None = None,
    eligible_only: bool = False,
    near: str | None = None,
    **filters: Any,
) -> QuerySet[Offer]:
    """Published offers with the resident's eligibility: eligible first, then those in
    the chosen city (`near`, else the city filter, else home), its province, closing soonest."""
    who = who or resident_view(resident)
    qs = annotate_eligibility(published_offers(**filters), who)
    if eligible_only:
        qs = qs.filter(eligible=True)
    near_city = near or filters.get("city") or who.home_city
    near_code: str | None = getattr(near_city, "code", near_city)
    qs = qs.annotate(
        _near=Case(
            When(merchant__city_id=near_code, then=Value(2)),
            When(merchant__city_id__in=_same_province(near_code), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    ranking = ("-_near", "valid_until", "id")
    return qs.order_by(*ranking) if eligible_only else qs.order_by("-eligible", *ranking)


ELIGIBILITY_FLAGS = eligibility.FLAGS


# What an offer list shows, read as plain rows: a page is built without model instances.
OFFER_ROW_FIELDS = (
    "id", "title", "title_en", "description", "description_en", "category",
    "benefit_type", "benefit_value", "benefit_note", "min_tier", "min_score",
    "min_grade", "required_honour", "home_city_rule", "eligible_alliance_id",
    "valid_from", "valid_until",
    "total_quota", "claimed_count",
    "per_resident_limit", "voucher_lifetime_hours", "usage_notes", "terms_version",
    "kind", "scenario", "limit_per_period", "period",
    "merchant_id", "merchant__name", "merchant__city_id", "merchant__city__name",
    "merchant__district", "merchant__address", "merchant__category",
    "merchant__credit_grade", "merchant__seriously_dishonest",
    "merchant__city__scheme__name",
)  # fmt: skip


@dataclass(frozen=True)
class OfferPage:
    rows: list[dict]  # OFFER_ROW_FIELDS, in page order, with their eligibility flags
    home_cities: dict[int, list[str]]  # offer id -> city codes
    stations: dict[int, list[dict]]  # merchant id -> [{id, name}]


def offer_page(rows: list[tuple], *, all_eligible: bool = False) -> OfferPage:
    """A page of `(id, *flags)` rows as plain rows (three queries): the list's hot path,
    where building model instances and serializers cost more than the database."""
    ids = [row[0] for row in rows]
    found = {r["id"]: r for r in Offer.objects.filter(pk__in=ids).values(*OFFER_ROW_FIELDS)}
    ordered = []
    for pk, *flags in rows:
        if pk in found:
            values = [True] * len(ELIGIBILITY_FLAGS) if all_eligible else flags
            ordered.append({**found[pk], **dict(zip(ELIGIBILITY_FLAGS, values, strict=False))})
    home: dict[int, list[str]] = {}
    through = Offer.eligible_home_cities.through
    for offer_id, city in (
        through.objects.filter(offer_id__in=ids)
        .order_by("city_id")
        .values_list("offer_id", "city_id")
    ):
        home.setdefault(offer_id, []).append(city)
    stations: dict[int, list[dict]] = {}
    membership = Station.merchants.through.objects.filter(
        merchant_id__in={r["merchant_id"] for r in ordered}
    ).order_by("station__name", "station_id")
    for merchant_id, station_id, name in membership.values_list(
        "merchant_id", "station_id", "station__name"
    ):
        stations.setdefault(merchant_id, []).append(
            {"id": station_id, "name": name, "name_en": english_place(name)}
        )
    return OfferPage(ordered, home, stations)


def _same_province(code: str | None) -> list[str | None]:
    """Partner cities of the same province (a list, so ranking needs no join); `code` is
    None for a resident without a home city."""
    from accounts.models import City

    key = f"same-province:{code}"
    codes = cache.get(key)
    if codes is None:
        province = City.objects.filter(code=code).values("province")[:1]
        codes = list(City.objects.filter(province=province).values_list("code", flat=True))
        cache.set(key, codes or [code], 3600)
    return codes or [code]


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
