"""Reads of the city dashboards, from the roll-up tables only (never a voucher scan).

Every function takes the scope (one city, the member cities of an alliance, or every
city) and an inclusive range of Asia/Shanghai days, and runs a fixed number of queries:
summary 9, series 1, breakdown 2 (1 by category, scenario and refusal reason), flows 2.
Summary totals and series read CityTotalDay (one row per city and day), distinct
residents the ClaimantSet bitmaps, breakdowns and flows a month table for the range's
whole calendar months and its day table for the other days (set_pieces): the category
breakdown CityMonth/CityDay, the flows and the home-city breakdown
CityPairMonth/CityPairDay (one row per pair of cities, whatever the categories), the
others OfferMonth/OfferDay.

Scope rules (docs/api.md "City staff"):
- summary, series and the category, merchant, offer and home-city breakdowns count the
  vouchers of offers located in the city (`dest_city = city`); the home-city breakdown
  groups those by the residents' home city ("where our visitors come from");
- flows count every voucher that involves the city on either side: offers located there
  (`dest_city = city`) or residents whose home city it is (`home_city = city`);
- entitlement uses (credit pass checks) count like redemptions, at the offer's city;
  refusals (claims and pass checks turned away, by first reason) and incidents (reported
  against residents by the city's merchants) at the offer's / merchant's city;
- an alliance (`cities`: its member cities) counts like the sum of its members, except
  that a resident who claimed in two member cities is one of its `unique_residents`, and
  its flows are the pairs of which both cities are members;
- `city=None` and `cities=None` (superusers only) counts every city.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, Manager, Model, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from pyroaring import BitMap64

from accounts.models import City
from core import i18n
from core.i18n import localized
from merchants.models import Category, Merchant, Offer, Scenario, Station

from ..incidents.models import Incident
from ..models import OfflineRedemption
from ..passes.models import RefusalCount
from .models import (
    CityDay,
    CityMonth,
    CityPairDay,
    CityPairMonth,
    CityTotalDay,
    ClaimantSet,
    OfferDay,
    OfferMonth,
    RollupRefresh,
)
from .rollup import day_start

COUNTS = ("claims", "redemptions", "cancelled", "expired", "revoked", "uses")
INTERVALS = ("day", "week", "month")
BREAKDOWNS = (
    "category",
    "merchant",
    "offer",
    "home_city",
    "scenario",
    "station",
    "refusal_reason",
)


@dataclass(frozen=True)
class Scope:
    """Whose figures over which days (inclusive): one city (`city`), else the member
    cities of an alliance (`cities`, `alliance` its code), else every city (both None).
    With an alliance and a city, the city is one of its members, and the flows keep to
    pairs of members."""

    city: str | None
    date_from: date
    date_to: date
    cities: frozenset[str] | None = None
    alliance: str | None = None

    @property
    def codes(self) -> frozenset[str] | None:
        """The cities whose offers count: one, the alliance's members, or None for all."""
        return frozenset({self.city}) if self.city is not None else self.cities


def rate(redemptions: int, claims: int) -> float | None:
    """Redemptions per claim over the same days, 4 decimals; None when nothing was claimed."""
    return round(redemptions / claims, 4) if claims else None


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in COUNTS}


def _counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(row.get(name) or 0) for name in COUNTS}


def _in_range[Row: Model](rows: QuerySet[Row] | Manager[Row], scope: Scope) -> QuerySet[Row]:
    return rows.filter(day__gte=scope.date_from, day__lte=scope.date_to)


def _at_destination[Row: Model](rows: QuerySet[Row] | Manager[Row], scope: Scope) -> QuerySet[Row]:
    qs = _in_range(rows, scope)
    if scope.city is not None:
        return qs.filter(dest_city_id=scope.city)
    return qs if scope.cities is None else qs.filter(dest_city_id__in=scope.cities)


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def set_pieces(date_from: date, date_to: date) -> tuple[list[date], list[tuple[date, date]]]:
    """The calendar months wholly inside date_from..date_to (their first days), and the
    runs of days of the range outside them (at most two: its partial months' days)."""
    months: list[date] = []
    days: list[tuple[date, date]] = []
    month = date_from.replace(day=1)
    while month <= date_to:
        end = _month_end(month)
        lo, hi = max(month, date_from), min(end, date_to)
        if lo == month and hi == end:
            months.append(month)
        elif days and days[-1][1] + timedelta(days=1) == lo:
            days[-1] = (days[-1][0], hi)
        else:
            days.append((lo, hi))
        month = end + timedelta(days=1)
    return months, days


def unique_residents(scope: Scope) -> int:
    """How many residents claimed at least once in the scope's cities over its range:
    the size of the union of the ClaimantSet bitmaps of the range's whole months and of
    its other days (1 query; exact)."""
    months, days = set_pieces(scope.date_from, scope.date_to)
    pieces = Q(period=ClaimantSet.Period.MONTH, start__in=months)  # none: matches nothing
    for lo, hi in days:
        pieces |= Q(period=ClaimantSet.Period.DAY, start__gte=lo, start__lte=hi)
    codes = scope.codes
    where = Q(scope=ClaimantSet.ALL) if codes is None else Q(scope__in=codes)
    rows = list(ClaimantSet.objects.filter(where & pieces).values_list("residents", "count"))
    if len(rows) <= 1:
        return int(rows[0][1]) if rows else 0
    return len(BitMap64.union(*(BitMap64.deserialize(bytes(blob)) for blob, _n in rows)))


# The month table of each day table: a range reads its whole months from the first.
MONTHS_OF: dict[type[Model], type[Model]] = {
    CityDay: CityMonth,
    CityPairDay: CityPairMonth,
    OfferDay: OfferMonth,
}


def _grouped(
    source: type[Model],
    scope: Scope,
    fields: list[str],
    narrow: Callable[[QuerySet[Any]], QuerySet[Any]],
) -> list[dict[str, Any]]:
    """The six counts of the range grouped by `fields`, over the rows `narrow` keeps: the
    range's whole months from the month table, its other days from `source`, one query
    (UNION ALL of the two GROUP BYs, summed here)."""
    months, days = set_pieces(scope.date_from, scope.date_to)
    parts: list[QuerySet[Any]] = []
    if months:
        parts.append(MONTHS_OF[source]._default_manager.filter(day__in=months))
    if days:
        runs = (Q(day__gte=lo, day__lte=hi) for lo, hi in days)
        parts.append(source._default_manager.filter(reduce(or_, runs)))
    grouped = [narrow(qs).values(*fields).annotate(**_sums()).order_by() for qs in parts]
    rows = grouped[0] if len(grouped) == 1 else grouped[0].union(grouped[1], all=True)
    merged: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[f] for f in fields)
        total = merged.setdefault(key, {**{f: row[f] for f in fields}, **dict.fromkeys(COUNTS)})
        for name in COUNTS:
            total[name] = (total[name] or 0) + int(row[name] or 0)
    return list(merged.values())


def _destination(scope: Scope) -> Callable[[QuerySet[Any]], QuerySet[Any]]:
    """Keep the rows of offers in the scope's cities (all rows for every city)."""

    def narrow(qs: QuerySet[Any]) -> QuerySet[Any]:
        if scope.city is not None:
            return qs.filter(dest_city_id=scope.city)
        return qs if scope.cities is None else qs.filter(dest_city_id__in=scope.cities)

    return narrow


def summary(*, scope: Scope) -> dict[str, Any]:
    """Totals of the range, distinct claiming residents, refusals and incidents, the city's
    live and paused offers and merchants, offline redemptions that met a voucher redeemed
    first elsewhere, and the time of the figures (9 queries)."""
    totals = _counts(_at_destination(CityTotalDay.objects, scope).aggregate(**_sums()))
    residents = unique_residents(scope)
    # Published offers whose validity overlaps the range; participating merchants.
    offers = Offer.objects.filter(
        status=Offer.Status.PUBLISHED,
        valid_from__lt=day_start(scope.date_to + timedelta(days=1)),
        valid_until__gt=day_start(scope.date_from),
    )
    merchants = Merchant.objects.filter(status=Merchant.Status.ACTIVE)
    incidents = Incident.objects.filter(
        reported_at__gte=day_start(scope.date_from),
        reported_at__lt=day_start(scope.date_to + timedelta(days=1)),
    )
    paused = Offer.objects.filter(status=Offer.Status.PAUSED, valid_until__gt=timezone.now())
    conflicts = OfflineRedemption.objects.filter(
        conflict=True,
        synced_at__gte=day_start(scope.date_from),
        synced_at__lt=day_start(scope.date_to + timedelta(days=1)),
    )
    codes = scope.codes
    if codes is not None:
        offers = offers.filter(merchant__city_id__in=codes)
        merchants = merchants.filter(city_id__in=codes)
        incidents = incidents.filter(dest_city_id__in=codes)
        paused = paused.filter(merchant__city_id__in=codes)
        conflicts = conflicts.filter(city_id__in=codes)
    paused_counts = paused.aggregate(
        all=Count("pk"), credit=Count("pk", filter=Q(credit_paused_at__isnull=False))
    )
    refusals = _at_destination(RefusalCount.objects, scope).aggregate(n=Sum("count"))["n"]
    return {
        "city": scope.city,
        "alliance": scope.alliance,
        "cities": sorted(scope.codes) if scope.codes is not None else None,
        "date_from": scope.date_from,
        "date_to": scope.date_to,
        **totals,
        "redemption_rate": rate(totals["redemptions"], totals["claims"]),
        "unique_residents": residents or 0,
        "active_offers": offers.count(),
        "paused_offers": paused_counts["all"],
        "credit_paused_offers": paused_counts["credit"],
        "merchants": merchants.count(),
        "entitlement_uses": totals["uses"],
        "refusals": int(refusals or 0),
        "incidents": incidents.count(),
        "offline_conflicts": conflicts.count(),
        "as_of": RollupRefresh.last(),
    }


def _period_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def series(*, scope: Scope, interval: str = "day") -> list[dict[str, Any]]:
    """One row per day, ISO week (from Monday) or calendar month of the range, zeros
    included; edge periods count only their days inside the range (1 query)."""
    rows = (
        _at_destination(CityTotalDay.objects, scope)
        .values("day")
        .annotate(**_sums())
        .order_by("day")
    )
    by_day = {row["day"]: _counts(row) for row in rows}
    periods: dict[date, dict[str, Any]] = {}
    day = scope.date_from
    while day <= scope.date_to:
        start = _period_start(day, interval)
        period = periods.setdefault(
            start, {"period": start, "start": day, "end": day, **dict.fromkeys(COUNTS, 0)}
        )
        period["end"] = day
        for name, value in by_day.get(day, {}).items():
            period[name] += value
        day += timedelta(days=1)
    return list(periods.values())


def _with_rates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["redemption_rate"] = rate(row["redemptions"], row["claims"])
    rows.sort(key=lambda r: (-r["claims"], -r["redemptions"], r["key"]))
    return rows


def breakdown(*, scope: Scope, by: str) -> list[dict[str, Any]]:
    """The range's counts per category, merchant, offer, residents' home city, scenario or
    station, most claimed first; or refusals per reason, most first. A row appears when
    any of its counts is not zero (≤ 2 queries)."""
    if by == "refusal_reason":
        return _refusals_by_reason(scope)
    source: type[Model]  # the city roll-up or the offer roll-up (and their months)
    if by == "category":
        source, field = CityDay, "category"
    elif by == "home_city":
        source, field = CityPairDay, "home_city_id"
    elif by == "scenario":
        source, field = OfferDay, "offer__scenario"  # the offer's scenario now
    elif by == "station":
        # a merchant in two stations counts in both; merchants in none are not a row
        source, field = OfferDay, "merchant__stations"
    else:
        source, field = OfferDay, f"{by}_id"
    at_destination = _destination(scope)

    def narrow(qs: QuerySet[Any]) -> QuerySet[Any]:
        qs = at_destination(qs)
        return qs.filter(merchant__stations__isnull=False) if by == "station" else qs

    grouped = _grouped(source, scope, [field], narrow)
    rows: list[dict[str, Any]] = [
        {"key": str(row[field]), **_counts(row), "refusals": 0} for row in grouped
    ]
    rows = [row for row in rows if any(row[name] for name in COUNTS)]
    labels = _labels(by, [row["key"] for row in rows])
    for row in rows:
        row["label"] = labels.get(row["key"], row["key"])
    return _with_rates(rows)


def _refusals_by_reason(scope: Scope) -> list[dict[str, Any]]:
    """Refused claims and pass checks per (first) reason (1 query)."""
    grouped = (
        _at_destination(RefusalCount.objects, scope)
        .values("reason")
        .annotate(n=Sum("count"))
        .order_by()
    )
    rows: list[dict[str, Any]] = [
        {
            "key": row["reason"],
            "label": reason_label(row["reason"]),
            **dict.fromkeys(COUNTS, 0),
            "refusals": int(row["n"]),
            "redemption_rate": None,
        }
        for row in grouped
        if row["n"]
    ]
    rows.sort(key=lambda r: (-r["refusals"], r["key"]))
    return rows


# Refusal reasons as the dashboards name them (eligibility reasons of api.md, and the
# per-period limit of entitlements): a heading's words, not the resident's message.
REASON_LABELS = {
    "no_standing": pgettext_lazy("refusal reason", "尚未完成信用核验"),
    "seriously_dishonest": pgettext_lazy("refusal reason", "已列入严重失信主体名单"),
    "standing_expired": pgettext_lazy("refusal reason", "信用核验已过期"),
    "home_city_not_eligible": pgettext_lazy("refusal reason", "户籍城市不在适用范围内"),
    "tier_too_low": pgettext_lazy("refusal reason", "信用等级未达到要求"),
    "score_too_low": pgettext_lazy("refusal reason", "信用分未达到要求"),
    "consent_withdrawn": pgettext_lazy("refusal reason", "已撤回信用查询授权"),
    "honour_required": pgettext_lazy("refusal reason", "需要相应的荣誉"),
    "suspended": pgettext_lazy("refusal reason", "因失信事件暂停该场景权益"),
    "claim_limit_reached": pgettext_lazy("refusal reason", "已达领取上限"),
    "usage_limit_reached": pgettext_lazy("refusal reason", "本周期使用次数已用完"),
    "offer_not_started": pgettext_lazy("refusal reason", "优惠尚未开始"),
    "offer_ended": pgettext_lazy("refusal reason", "优惠已结束"),
}


def reason_label(code: str) -> str:
    """A refusal reason's display name in the active language."""
    return str(REASON_LABELS.get(code, code))


def _labels(by: str, keys: list[str]) -> dict[str, str]:
    """Display names of breakdown keys in the active language (0 or 1 query)."""
    english = i18n.english()
    if by == "category":
        names = dict(Category.choices)
        return {key: str(names.get(key, key)) for key in keys}
    if by == "scenario":
        names = dict(Scenario.choices)
        return {key: str(names.get(key, key)) for key in keys}
    if not keys:
        return {}
    if by == "station":
        stations = Station.objects.filter(pk__in=keys).values_list("pk", "name")
        return {str(pk): name for pk, name in stations}
    if by == "home_city":
        return {
            c.code: localized(c.name, c.name_en, in_english=english)
            for c in City.objects.filter(code__in=keys).only("code", "name", "name_en")
        }
    if by == "merchant":
        merchants = Merchant.objects.filter(pk__in=keys).values_list("pk", "name")
        return {str(pk): name for pk, name in merchants}
    offers = Offer.objects.filter(pk__in=keys).values_list("pk", "title", "title_en")
    return {str(pk): localized(title, en, in_english=english) for pk, title, en in offers}


def flows(*, scope: Scope) -> list[dict[str, Any]]:
    """Counts per (residents' home city → offers' city) pair involving the scope's city on
    either side, largest first (2 queries). In an alliance, only pairs of two members
    (and, narrowed to a member city, those that involve it)."""

    def narrow(qs: QuerySet[Any]) -> QuerySet[Any]:
        if scope.city is not None:
            qs = qs.filter(Q(dest_city_id=scope.city) | Q(home_city_id=scope.city))
        if scope.cities is not None:
            qs = qs.filter(dest_city_id__in=scope.cities, home_city_id__in=scope.cities)
        return qs

    grouped = _grouped(CityPairDay, scope, ["home_city_id", "dest_city_id"], narrow)
    rows: list[dict[str, Any]] = [
        {"home_city": row["home_city_id"], "dest_city": row["dest_city_id"], **_counts(row)}
        for row in grouped
    ]
    rows = [row for row in rows if any(row[name] for name in COUNTS)]
    codes = {row["home_city"] for row in rows} | {row["dest_city"] for row in rows}
    english = i18n.english()
    names = {
        c.code: localized(c.name, c.name_en, in_english=english)
        for c in (City.objects.filter(code__in=codes) if codes else City.objects.none())
    }
    for row in rows:
        row["home_city_name"] = names.get(row["home_city"], row["home_city"])
        row["dest_city_name"] = names.get(row["dest_city"], row["dest_city"])
    rows.sort(key=lambda r: (-r["claims"], -r["redemptions"], r["home_city"], r["dest_city"]))
    return rows


def dashboard(*, scope: Scope, interval: str = "day") -> dict[str, Any]:
    """Everything the page and the CSV show (a fixed number of queries)."""
    return {
        "summary": summary(scope=scope),
        "series": series(scope=scope, interval=interval),
        "breakdowns": {by: breakdown(scope=scope, by=by) for by in BREAKDOWNS},
        "flows": flows(scope=scope),
    }
