"""Reads of incentives: offers matched to a resident, their vouchers, a merchant's
redemptions. Each runs a fixed number of queries however many rows there are."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.credit.models import TIER_RANK, Standing
from accounts.credit.selectors import equivalents
from accounts.models import User
from merchants.models import Offer, Station
from merchants.selectors import published_offers

from .incidents.models import Incident
from .models import Redemption, Voucher

EQUIVALENTS_CACHE_SECONDS = 60

REASONS = (
    "no_standing",
    "seriously_dishonest",
    "standing_expired",
    "home_city_not_eligible",
    "tier_too_low",
    "offer_not_started",
    "offer_ended",
    "suspended",
)


@dataclass(frozen=True)
class ResidentView:
    """What eligibility needs to know of a resident, read once per request."""

    home_city: str
    standing: Standing | None
    tier_rank: int = -1
    scores: dict[str, int] = field(default_factory=dict)  # city code -> score in its scheme
    resident_id: int | None = None

    @property
    def personal_reasons(self) -> list[str]:
        if self.standing is None:
            return ["no_standing"]
        reasons = []
        if self.standing.seriously_dishonest:
            reasons.append("seriously_dishonest")
        if self.standing.valid_until <= timezone.now():
            reasons.append("standing_expired")
        return reasons


def resident_view(resident: User) -> ResidentView:
    """The resident's standing, tier and equivalent score in every partner city's scheme
    (their own scheme included): three or four queries."""
    standing = (
        Standing.objects.select_related("rule_version__scheme").filter(resident=resident).first()
    )
    return view_of(resident, standing)


def view_of(resident: User, standing: Standing | None) -> ResidentView:
    """`resident_view` for a standing already read (at most three queries, usually none)."""
    if standing is None:
        return ResidentView(resident.home_city_id, None, resident_id=resident.pk)
    # Every list page and claim needs these; they change only with a new verification or
    # a new rule version, so a minute's reuse is safe (and saves three queries).
    key = f"equivalents:{standing.pk}:{standing.verified_at.timestamp()}:{standing.score}"
    scores = cache.get(key)
    if scores is None:
        scores = {e["city"]: e["score"] for e in equivalents(standing)}
        scores[standing.city_id] = standing.score
        cache.set(key, scores, EQUIVALENTS_CACHE_SECONDS)
    return ResidentView(
        resident.home_city_id, standing, TIER_RANK[standing.tier], scores, resident.pk
    )


def annotate_eligibility(qs: QuerySet[Offer], who: ResidentView, *, now: datetime | None = None):
    """Adds `e_home`, `e_level`, `e_started`, `e_not_ended` and `eligible` in SQL."""
    now = now or timezone.now()
    through = Offer.eligible_home_cities.through
    min_rank = Case(
        *[When(min_tier=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()],
        default=Value(-1),
        output_field=IntegerField(),
    )
    # The resident's score in the offer city's scheme. Written as one plain SQL CASE: the
    # ORM's 17-branch Case costs milliseconds to compile, each time it is referenced.
    # (`merchants_merchant` is joined by published_offers' filter on the merchant.)
    branches = " ".join("WHEN %s THEN %s" for _ in who.scores)
    my_score = RawSQL(  # noqa: S611  (values are parameters, the SQL is fixed)
        f"CASE merchants_merchant.city_id {branches} ELSE -1 END" if who.scores else "-1",
        [v for item in who.scores.items() for v in item],
        output_field=IntegerField(),
    )
    qs = qs.annotate(
        _min_rank=min_rank,
        _my_score=my_score,
        _listed_home=Exists(through.objects.filter(offer_id=OuterRef("pk"), city_id=who.home_city)),
        # a confirmed incident suspends the resident from the offers of its scenario
        _suspended=Exists(
            Incident.objects.filter(
                resident_id=who.resident_id,
                scenario=OuterRef("scenario"),
                status__in=Incident.SUSPENDING,
                suspended_until__gt=now,
            )
        ),
    )
    home_ok = (
        Q(home_city_rule=Offer.HomeCityRule.ALL)
        | (Q(home_city_rule=Offer.HomeCityRule.VISITORS) & ~Q(merchant__city_id=who.home_city))
        | (Q(home_city_rule=Offer.HomeCityRule.LISTED) & Q(_listed_home=True))
    )
    level_ok = (Q(min_tier="") | Q(_min_rank__lte=who.tier_rank)) & (
        Q(min_score__isnull=True) | Q(min_score__lte=F("_my_score"))
    )
    personal_ok = not who.personal_reasons
    bool_ = BooleanField()
    qs = qs.annotate(
        e_home=ExpressionWrapper(home_ok, output_field=bool_),
        e_level=ExpressionWrapper(level_ok, output_field=bool_),
        e_started=ExpressionWrapper(Q(valid_from__lte=now), output_field=bool_),
        e_not_ended=ExpressionWrapper(Q(valid_until__gt=now), output_field=bool_),
        e_not_suspended=ExpressionWrapper(Q(_suspended=False), output_field=bool_),
    )
    eligible = (
        home_ok & level_ok & Q(valid_from__lte=now) & Q(valid_until__gt=now) & Q(_suspended=False)
    )
    return qs.annotate(
        eligible=ExpressionWrapper(eligible, output_field=bool_) if personal_ok else Value(False)
    )


def eligibility_of(offer: Offer, who: ResidentView) -> dict:
    """`{eligible, reasons}` from the annotations of `annotate_eligibility` (no query)."""
    reasons = list(who.personal_reasons)
    if not offer.e_home:
        reasons.append("home_city_not_eligible")
    if not offer.e_level:
        reasons.append("tier_too_low")
    if not offer.e_started:
        reasons.append("offer_not_started")
    if not offer.e_not_ended:
        reasons.append("offer_ended")
    if not offer.e_not_suspended:
        reasons.append("suspended")
    return {"eligible": not reasons, "reasons": reasons}


def matched_offers(
    *,
    resident: User,
    who: ResidentView | None = None,
    eligible_only: bool = False,
    near: str | None = None,
    **filters,
) -> QuerySet[Offer]:
    """Published offers with the resident's eligibility: eligible first, then those in
    the chosen city (`near`, else the city filter, else home), its province, closing soonest."""
    who = who or resident_view(resident)
    qs = annotate_eligibility(published_offers(**filters), who)
    if eligible_only:
        qs = qs.filter(eligible=True)
    near_city = near or filters.get("city") or who.home_city
    near_code = getattr(near_city, "code", near_city)
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


ELIGIBILITY_FLAGS = ("e_home", "e_level", "e_started", "e_not_ended", "e_not_suspended")


# What an offer list shows, read as plain rows: a page is built without model instances.
OFFER_ROW_FIELDS = (
    "id", "title", "title_en", "description", "description_en", "category",
    "benefit_type", "benefit_value", "benefit_note", "min_tier", "min_score",
    "home_city_rule", "valid_from", "valid_until", "total_quota", "claimed_count",
    "per_resident_limit", "voucher_lifetime_hours", "usage_notes", "terms_version",
    "kind", "scenario", "limit_per_period", "period",
    "merchant_id", "merchant__name", "merchant__city_id", "merchant__city__name",
    "merchant__district", "merchant__address", "merchant__category",
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
        stations.setdefault(merchant_id, []).append({"id": station_id, "name": name})
    return OfferPage(ordered, home, stations)


def _same_province(code: str) -> list[str]:
    """Partner cities of the same province (a list, so ranking needs no join)."""
    from accounts.models import City

    key = f"same-province:{code}"
    codes = cache.get(key)
    if codes is None:
        province = City.objects.filter(code=code).values("province")[:1]
        codes = list(City.objects.filter(province=province).values_list("code", flat=True))
        cache.set(key, codes or [code], 3600)
    return codes or [code]


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
