"""Eligibility, defined once: why a resident may not use an offer now.

`Reason` is the one enumeration of the reason codes (docs/api.md: `eligibility.reasons` of
the offer lists and detail, `detail.reasons` of a claim's or a pass check's refusal), in
the order they are told. The rules are two tables, in that order:

- `PERSONAL_RULES` decide from the person alone (standing, consent, listing): in Python
  from a `Person` for the lists, the detail and the pass's issue (`applies`), and in SQL
  over the one row that the claim, the pass check and its preview read (`row`).
- `OFFER_RULES` decide from the person and the offer. Each rule holds its SQL (the offer
  lists and the detail annotate every offer with it: `annotate`), the column it needs in
  the one row that the claim and the pass check read (incentives.facts builds that
  statement's rule columns from `FACTS`) and the same rule over that row (`row`).

Each rule's `row` is its one-row decision, in SQL over the facts row (alias `f`, columns
named as `Facts`' fields): the one-row read computes a flag per rule from it (`ROW_RULES`,
`row_flags_sql`) and `reasons_of` reads the flags, so that a statement may also act only
where every flag is true (the pass check's take does: incentives.passes.services). Only the
minimum score or grade needs more than the row (`level()`, a few queries): its `row` is
NULL where that is asked, and `ok` decides it in Python. A rule is written here and
nowhere else; tests/incentives/test_eligibility_grid.py crosses every reason with every
path.

"Holder is listed" (严重失信: on a synced seriously-dishonest list, or flagged so on their
standing) is one SQL expression, `holder_listed_sql`, used by the redemption, the scan
preview and the sweep that revokes the vouchers of listed holders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact

from accounts.credit.models import TIER_RANK
from merchants.models import Offer

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from .facts import Facts
    from .offers.selectors import ResidentView


class Reason(StrEnum):
    """The eligibility reason codes of docs/api.md, in the order they are told."""

    NO_STANDING = "no_standing"  # nothing verified yet
    CONSENT_WITHDRAWN = "consent_withdrawn"  # a standing is on file, consent withdrawn
    SERIOUSLY_DISHONEST = "seriously_dishonest"
    STANDING_EXPIRED = "standing_expired"
    HOME_CITY_NOT_ELIGIBLE = "home_city_not_eligible"
    TIER_TOO_LOW = "tier_too_low"
    SCORE_TOO_LOW = "score_too_low"  # an offer's minimum local score, or grade
    CLAIM_LIMIT_REACHED = "claim_limit_reached"
    HONOUR_REQUIRED = "honour_required"
    OFFER_NOT_STARTED = "offer_not_started"
    OFFER_ENDED = "offer_ended"
    SUSPENDED = "suspended"
    # What is left (issue 23: a card never promises what the server refuses): the voucher
    # offer's quota (a claim answers `409 quota_exhausted`) and the holder's uses of an
    # entitlement in the current period (a pass check answers `409 usage_limit_reached`).
    QUOTA_EXHAUSTED = "quota_exhausted"
    USAGE_LIMIT_REACHED = "usage_limit_reached"


REASONS: tuple[str, ...] = tuple(reason.value for reason in Reason)
# The reasons of the offer's dates: a claim or a check answers them `410 offer_not_active`.
TIMING = (Reason.OFFER_NOT_STARTED, Reason.OFFER_ENDED)
# The reasons of what is left, decided again by the take itself (its statement is the one
# that cannot be raced): told alone, the claim and the check leave them to the take, which
# answers them with their own codes (and `pass_already_used` before a used-up period).
LEFT = (Reason.QUOTA_EXHAUSTED, Reason.USAGE_LIMIT_REACHED)


# --------------------------------------------------------------------------- the person


@dataclass(frozen=True)
class Person:
    """What the personal rules read, from a ResidentView (lists) or a Facts row (one offer)."""

    has_standing: bool
    consented: bool  # withdrawn consent: no stored standing is used
    flagged: bool  # the standing's seriously-dishonest flag
    standing_valid_until: datetime | None


@dataclass(frozen=True)
class PersonalRule:
    """`applies(person, now)`: the rule refuses the person (the lists, the detail, the
    pass's issue); `row`: SQL true where it lets them through, over the facts row (`f`)."""

    reason: Reason
    applies: Callable[[Person, datetime], bool]
    row: str
    alone: bool = False  # when it applies, no later personal reason is told


PERSONAL_RULES: tuple[PersonalRule, ...] = (
    PersonalRule(
        Reason.NO_STANDING, lambda p, now: not p.has_standing, "f.standing_id IS NOT NULL", True
    ),
    PersonalRule(Reason.CONSENT_WITHDRAWN, lambda p, now: not p.consented, "f.consented", True),
    PersonalRule(
        Reason.SERIOUSLY_DISHONEST,
        lambda p, now: p.flagged,
        "NOT COALESCE(f.seriously_dishonest, FALSE)",
    ),
    PersonalRule(
        Reason.STANDING_EXPIRED,
        lambda p, now: p.standing_valid_until is not None and p.standing_valid_until <= now,
        "NOT COALESCE(f.standing_valid_until <= %(now)s, FALSE)",
    ),
)


def personal_reasons(person: Person, now: datetime) -> list[Reason]:
    """The personal rules that refuse this person now, in order."""
    return _told_personal(lambda rule: rule.applies(person, now))


def _told_personal(refuses: Callable[[PersonalRule], bool]) -> list[Reason]:
    reasons: list[Reason] = []
    for rule in PERSONAL_RULES:
        if refuses(rule):
            reasons.append(rule.reason)
            if rule.alone:
                break
    return reasons


# --------------------------------------------------------------------------- the offer


@dataclass(frozen=True)
class One:
    """One offer's facts (incentives.facts) as the offer rules read them. `level()` is the
    holder's score in the offer city's scheme (-1 when none) and the grades they meet
    there: a few queries, so asked only by an offer with a minimum score or grade."""

    facts: Facts
    now: datetime
    level: Callable[[], tuple[int, list[str]]]


@dataclass(frozen=True)
class OfferRule:
    """A rule over the person and the offer: `sql(who, now)` is true in the lists' query
    where the rule lets the offer through; `row` is the same over one offer's facts row
    (SQL over `f`, the read's parameters), and where it is NULL `ok(one)` decides in Python.
    `fact` names the column that the one-offer read (incentives.facts) adds for the rule,
    `fact_sql` its SQL there (aliases o: offer, m: merchant, u: holder, s: standing;
    `{table}` names and the read's parameters)."""

    reason: Reason
    sql: Callable[[ResidentView, datetime], Any]
    row: str
    fact: str = ""
    fact_sql: str = ""
    ok: Callable[[One], bool] | None = None

    @property
    def flag(self) -> str:
        """The annotation the lists carry for this rule (true: not refused by it), named
        as its flag column in the one-row read."""
        return row_flag(self)


def _home_sql(who: ResidentView, now: datetime) -> Q:
    listed = Exists(
        Offer.eligible_home_cities.through.objects.filter(
            offer_id=OuterRef("pk"), city_id=who.home_city
        )
    )
    rule = Offer.HomeCityRule
    return (
        Q(home_city_rule=rule.ALL)
        | (Q(home_city_rule=rule.VISITORS) & ~Q(merchant__city_id=who.home_city))
        | (Q(home_city_rule=rule.LISTED) & (Q(listed) | _alliance_member_sql(who)))
    )


# A listed offer may also name an alliance: its member cities' residents qualify, by the
# member list as it is when asked (a city that joins later is in). The one-offer twin is
# the second EXISTS of the `listed_home` fact below.
def _alliance_member_sql(who: ResidentView) -> Q:
    from accounts.models import Alliance

    members = Alliance.members.through.objects.filter(
        alliance_id=OuterRef("eligible_alliance_id"), city_id=who.home_city
    )
    return Q(Exists(members))


_HOME_ROW = (
    f"f.home_city_rule = '{Offer.HomeCityRule.ALL}'"
    f" OR (f.home_city_rule = '{Offer.HomeCityRule.VISITORS}'"
    " AND f.city_id IS DISTINCT FROM f.home_city_id)"
    f" OR (f.home_city_rule = '{Offer.HomeCityRule.LISTED}' AND f.listed_home)"
)


def _tier_sql(who: ResidentView, now: datetime) -> Q:
    above = [tier for tier, rank in TIER_RANK.items() if rank > who.tier_rank]
    return ~Q(min_tier__in=above) if above else Q(pk__isnull=False)


def _rank_sql(tier: str) -> str:
    """SQL of TIER_RANK's rank of the tier `tier` (an SQL expression), -1 for none."""
    branches = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in TIER_RANK.items())
    return f"CASE {tier} {branches} ELSE -1 END"


# (the standing's tier counts only with its row: `f.tier` is NULL without one)
_TIER_ROW = f"f.min_tier = '' OR {_rank_sql('f.min_tier')} <= {_rank_sql('f.tier')}"


def _score_sql(who: ResidentView, now: datetime) -> Q:
    # The resident's score in the offer city's scheme. Written as one plain SQL CASE: the
    # ORM's 17-branch Case costs milliseconds to compile, each time it is referenced.
    # (`merchants_merchant` is joined by published_offers' filter on the merchant.)
    branches = " ".join("WHEN %s THEN %s" for _ in who.scores)
    my_score = RawSQL(  # noqa: S611  (values are parameters, the SQL is fixed)
        f"CASE merchants_merchant.city_id {branches} ELSE -1 END" if who.scores else "-1",
        [v for item in who.scores.items() for v in item],
        output_field=IntegerField(),
    )
    # In a grade city: does the offer's minimum grade lie at or below the resident's?
    grade_branches = " ".join(
        "WHEN %s THEN merchants_offer.min_grade IN ({})".format(", ".join(["%s"] * len(g)))
        for g in who.grades.values()
    )
    grade_ok = RawSQL(  # noqa: S611  (values are parameters, the SQL is fixed)
        f"CASE merchants_merchant.city_id {grade_branches} ELSE FALSE END"
        if who.grades
        else "FALSE",
        [v for city, g in who.grades.items() for v in (city, *g)],
        output_field=BooleanField(),
    )
    return (Q(min_score__isnull=True) | Q(min_score__lte=my_score)) & (
        Q(min_grade="") | Q(grade_ok)
    )


# Decided in SQL only without a minimum; with one, `_score_ok` asks `level()`.
_SCORE_ROW = "CASE WHEN f.min_score IS NULL AND COALESCE(f.min_grade, '') = '' THEN TRUE END"


def _score_ok(one: One) -> bool:
    f = one.facts
    score, grades = one.level() if f.standing_id else (-1, [])
    return not (
        (f.min_score is not None and f.min_score > score)
        or (f.min_grade and f.min_grade not in grades)
    )


def _limit_sql(who: ResidentView, now: datetime) -> Q:
    from .models import ClaimTally

    return ~Q(
        Exists(
            ClaimTally.objects.filter(
                offer_id=OuterRef("pk"),
                resident_id=who.resident_id,
                held__gte=OuterRef("per_resident_limit"),
            )
        )
    )


def _honour_sql(who: ResidentView, now: datetime) -> Q:
    # Honours only ever add an offer; the dishonest flag still refuses it (personal rules).
    return Q(required_honour="") | Q(required_honour__in=who.honours)


def _suspended_sql(who: ResidentView, now: datetime) -> Q:
    from .incidents.models import Incident

    # a confirmed incident suspends the resident from the offers of its scenario
    return ~Q(
        Exists(
            Incident.objects.filter(
                resident_id=who.resident_id,
                scenario=OuterRef("scenario"),
                status__in=Incident.SUSPENDING,
                suspended_until__gt=now,
            )
        )
    )


def _quota_sql(who: ResidentView, now: datetime) -> Q:
    # only a voucher offer has places to take (an entitlement's quota is not read)
    return (
        ~Q(kind=Offer.Kind.VOUCHER)
        | Q(total_quota__isnull=True)
        | Q(claimed_count__lt=F("total_quota"))
    )


def period_start_sql(period: str) -> str:
    """SQL of the tally key of the current period for the kind of period `period` (an SQL
    expression), from the read's parameters (incentives.facts: `period_starts`' dates)."""
    return (
        f"CASE {period} WHEN 'day' THEN %(day)s::date WHEN 'week' THEN %(week)s::date"
        " WHEN 'month' THEN %(month)s::date ELSE %(offer_period)s::date END"
    )


def period_starts(now: datetime) -> dict[str, date]:
    """The tally key (`EntitlementTally.period_start`) of the period holding `now`, for each
    kind of period (incentives.passes.services.period_bounds decides them)."""
    from .passes.services import period_bounds

    return {period: period_bounds(period, now)[0] for period in Offer.Period.values}


def _usage_sql(who: ResidentView, now: datetime) -> Q:
    from .passes.models import EntitlementTally

    starts = period_starts(now)
    this_period = Q()
    for period, start in starts.items():
        this_period |= Q(Exact(OuterRef("period"), period), period_start=start)
    return ~Q(
        Exists(
            EntitlementTally.objects.filter(
                this_period,
                offer_id=OuterRef("pk"),
                resident_id=who.resident_id,
                used__gte=OuterRef("limit_per_period"),
            )
        )
    )


OFFER_RULES: tuple[OfferRule, ...] = (
    OfferRule(
        Reason.HOME_CITY_NOT_ELIGIBLE,
        _home_sql,
        _HOME_ROW,
        "listed_home",
        "(EXISTS (SELECT 1 FROM {home} h WHERE h.offer_id = o.id AND h.city_id = u.home_city_id)"
        " OR EXISTS (SELECT 1 FROM {members} am"
        " WHERE am.alliance_id = o.eligible_alliance_id AND am.city_id = u.home_city_id))",
    ),
    OfferRule(Reason.TIER_TOO_LOW, _tier_sql, _TIER_ROW),
    OfferRule(Reason.SCORE_TOO_LOW, _score_sql, _SCORE_ROW, ok=_score_ok),
    OfferRule(
        Reason.CLAIM_LIMIT_REACHED,
        _limit_sql,
        "NOT f.at_limit",
        "at_limit",
        """EXISTS (SELECT 1 FROM {tally} ct
               WHERE ct.offer_id = o.id AND ct.resident_id = u.id
                 AND ct.held >= o.per_resident_limit)""",
    ),
    OfferRule(
        Reason.HONOUR_REQUIRED,
        _honour_sql,
        "f.required_honour = '' OR f.has_honour",
        "has_honour",
        """EXISTS (SELECT 1 FROM {honour} hn
               WHERE hn.person_hash = u.id_hash AND hn.city_id = s.city_id
                 AND hn.kind = o.required_honour
                 AND (hn.valid_until IS NULL OR hn.valid_until >= %(today)s))""",
    ),
    OfferRule(
        Reason.OFFER_NOT_STARTED,
        lambda who, now: Q(valid_from__lte=now),
        "f.valid_from <= %(now)s",
    ),
    OfferRule(
        Reason.OFFER_ENDED,
        lambda who, now: Q(valid_until__gt=now),
        "f.valid_until > %(now)s",
    ),
    OfferRule(
        Reason.SUSPENDED,
        _suspended_sql,
        "f.suspended_until IS NULL",
        "suspended_until",
        """(SELECT MAX(i.suspended_until) FROM {incident} i
        WHERE i.resident_id = u.id AND i.scenario = o.scenario
          AND i.status IN ({suspending}) AND i.suspended_until > %(now)s)""",
    ),
    OfferRule(
        Reason.QUOTA_EXHAUSTED,
        _quota_sql,
        "NOT f.sold_out",
        "sold_out",
        """(o.kind = 'voucher' AND o.total_quota IS NOT NULL
            AND o.claimed_count >= o.total_quota)""",
    ),
    OfferRule(
        Reason.USAGE_LIMIT_REACHED,
        _usage_sql,
        "NOT f.used_up",
        "used_up",
        # (fixed SQL: the period's tally key comes from the read's parameters)
        """EXISTS (SELECT 1 FROM {entitlement_tally} et
               WHERE et.offer_id = o.id AND et.resident_id = u.id
                 AND et.used >= o.limit_per_period
                 AND et.period_start = """  # noqa: S608
        + period_start_sql("o.period")
        + ")",
    ),
)

# Every rule with a one-row decision, in the order the reasons are told.
ROW_RULES: tuple[PersonalRule | OfferRule, ...] = (*PERSONAL_RULES, *OFFER_RULES)


def row_flags_sql(rules: tuple[PersonalRule | OfferRule, ...] | None = None) -> str:
    """The one-row read's flag columns (`ROW_RULES`' order, or `rules`'), over the facts row
    `f`: each rule's `row`, false where it is NULL unless the rule decides that case in
    Python."""
    return ",\n       ".join(
        (
            f"({rule.row})"
            if isinstance(rule, OfferRule) and rule.ok
            else f"COALESCE(({rule.row}), FALSE)"
        )
        + f" AS {row_flag(rule)}"
        for rule in (ROW_RULES if rules is None else rules)
    )


def row_flag(rule: PersonalRule | OfferRule) -> str:
    """The name of a rule's flag column in the one-row read."""
    return f"ok_{rule.reason.value}"


FLAGS: tuple[str, ...] = tuple(rule.flag for rule in OFFER_RULES)


class Eligibility(TypedDict):
    """What `annotate` adds that is read by name (the flags, FLAGS, are read by `getattr`)."""

    eligible: bool


# The columns the one-offer read adds for the rules, in the rules' order.
FACTS: tuple[OfferRule, ...] = tuple(rule for rule in OFFER_RULES if rule.fact)

# --------------------------------------------------------------------------- the two paths


def annotate(
    qs: QuerySet[Offer], who: ResidentView, person: Person, now: datetime
) -> QuerySet[WithAnnotations[Offer, Eligibility]]:
    """The lists' and the detail's eligibility in SQL: each offer rule's flag (FLAGS) and
    `eligible` (every flag, and no personal reason)."""
    bool_ = BooleanField()
    conditions = [rule.sql(who, now) for rule in OFFER_RULES]
    qs = qs.annotate(
        **{
            rule.flag: ExpressionWrapper(condition, output_field=bool_)
            for rule, condition in zip(OFFER_RULES, conditions, strict=True)
        }
    )
    if personal_reasons(person, now):
        return qs.annotate(eligible=Value(False))
    every = conditions[0]
    for condition in conditions[1:]:
        every &= condition
    return qs.annotate(eligible=ExpressionWrapper(every, output_field=bool_))


def reasons_of_flags(flags: Any, person: Person, now: datetime) -> list[Reason]:
    """The reasons of one annotated offer (an object with the FLAGS as attributes)."""
    reasons = personal_reasons(person, now)
    reasons += [rule.reason for rule in OFFER_RULES if not getattr(flags, rule.flag)]
    return reasons


def reasons_of(one: One) -> list[Reason]:
    """The reasons of one offer from its facts row and its flags (`row_flags_sql`): the
    claim's, the pass check's and its preview's."""
    flags = one.facts.ok
    reasons = _told_personal(lambda rule: not flags[rule.reason])
    for rule in OFFER_RULES:
        decided = flags[rule.reason]
        if decided is None:  # not decided by the row (a minimum score or grade)
            decided = rule.ok is not None and rule.ok(one)
        if not decided:
            reasons.append(rule.reason)
    return reasons


def decided_in_sql(facts: Facts) -> bool:
    """Whether the row's flags decided every rule (no rule was left to Python)."""
    return all(flag is not None for flag in facts.ok.values())


# --------------------------------------------------------------------------- listed


def holder_listed_sql(holder: str) -> str:
    """SQL true when the holder (`holder`: an SQL expression of their user id) is on a
    seriously-dishonest list synced from any city, or flagged so on their standing."""
    from accounts.credit.models import ListedPerson, Standing
    from accounts.models import User

    standing, listed, user = (m._meta.db_table for m in (Standing, ListedPerson, User))
    # table names come from model metadata, `holder` from the calling statement's text
    return (
        f"(EXISTS (SELECT 1 FROM {standing} ls "  # noqa: S608
        f"WHERE ls.resident_id = {holder} AND ls.seriously_dishonest) "
        f"OR EXISTS (SELECT 1 FROM {listed} ll JOIN {user} lu ON lu.id_hash = ll.person_hash "
        f"WHERE lu.id = {holder}))"
    )
