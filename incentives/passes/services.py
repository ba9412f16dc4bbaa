"""The personal credit pass (信用码): issuing it, and checking it at the counter.

A pass check is decided by the database: one statement upserts the resident's tally of
the offer's current period (`used < limit`, under the row's lock) and inserts the use
(unique per offer and pass id); when either does nothing the transaction rolls back and
the refusal says why. So N simultaneous checks of one pass for one offer give one use,
and the per-period limit holds for any number of passes of one person.
"""

import logging
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import errors as account_errors
from accounts.credit import errors as credit_errors
from accounts.credit.models import TIER_RANK, Consent, Honour, Standing
from accounts.credit.services import active_consent
from accounts.identity import mask_name
from accounts.models import City, User
from core.db import prepared_cursor
from core.errors import INVALID_REQUEST, NOT_FOUND
from merchants.models import Merchant, MerchantStaff, Offer

from .. import errors, signing
from ..incidents.models import Incident
from ..models import ClaimTally
from ..selectors import resident_view, view_of
from .models import EntitlementTally, EntitlementUse, RefusalCount

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
MAX_PASS_SECONDS = 300
# The tally key of an offer limited per whole offer (no calendar period).
WHOLE_OFFER = date(1, 1, 1)


# --------------------------------------------------------------------------- the pass


@dataclass(frozen=True)
class CreditPass:
    token: str
    expires_at: datetime
    tier: str
    home_city: City
    holder: str  # masked name


def pass_lifetime() -> timedelta:
    """How long a pass is good for: CREDIT_PASS_SECONDS, never more than five minutes."""
    seconds = int(getattr(settings, "CREDIT_PASS_SECONDS", MAX_PASS_SECONDS))
    return timedelta(seconds=max(30, min(seconds, MAX_PASS_SECONDS)))


def issue_pass(*, resident: User) -> CreditPass:
    """A fresh signed pass for a consenting resident whose standing is on file, current and
    not on the seriously-dishonest list. It names no score and no tier."""
    if active_consent(resident) is None:
        raise credit_errors.CONSENT_REQUIRED()
    who = resident_view(resident)
    if who.standing is None:
        raise credit_errors.NO_STANDING(http_status=403)
    reasons = who.personal_reasons
    if reasons:
        raise errors.NOT_ELIGIBLE(reasons=reasons)
    expires_at = (timezone.now() + pass_lifetime()).replace(microsecond=0)
    token = signing.sign_pass(resident_id=resident.pk, expires_at=expires_at)
    return CreditPass(
        token=token,
        expires_at=expires_at,
        tier=who.standing.tier,
        home_city=resident.home_city,
        holder=mask_name(resident.real_name),
    )


# --------------------------------------------------------------------------- periods


def period_bounds(period: str, at: datetime) -> tuple[date, datetime | None]:
    """The tally key of the period holding `at` (Asia/Shanghai calendar) and when the
    next period begins (None for a limit over the whole offer)."""
    local = at.astimezone(TZ).date()
    if period == Offer.Period.DAY:
        start, after = local, local + timedelta(days=1)
    elif period == Offer.Period.WEEK:
        start = local - timedelta(days=local.weekday())
        after = start + timedelta(days=7)
    elif period == Offer.Period.MONTH:
        start = local.replace(day=1)
        after = (start + timedelta(days=32)).replace(day=1)
    else:
        return WHOLE_OFFER, None
    return start, datetime.combine(after, time.min, tzinfo=TZ)


# --------------------------------------------------------------------------- refusals


def record_refusal(*, source: str, dest_city: str, reason: str, scenario: str) -> None:
    """Count one refusal (all that a refusal leaves behind: no person, no offer)."""
    table = RefusalCount._meta.db_table
    day = timezone.now().astimezone(TZ).date()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (dest_city_id, day, source, reason, scenario, count) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, 1) "
            "ON CONFLICT (dest_city_id, day, source, reason, scenario) "
            f"DO UPDATE SET count = {table}.count + 1",
            [dest_city, connection.ops.adapt_datefield_value(day), source, reason, scenario],
        )


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class CheckedUse:
    """What the counter learns: the use, the offer, the holder's masked name and the last
    four of their ID (to compare with the card). Never a score or tier."""

    id: int
    offer_id: int
    offer_title: str
    offer_title_en: str
    benefit_type: str
    scenario: str
    merchant: str
    used_at: datetime
    holder_name: str
    id_last4: str


# Everything a check decides on, read in one statement: the offer and its merchant, the
# staff member's merchant (if the caller, known from the token's claims alone, is still an
# active user), the holder, their standing and consent, whether their home city is listed
# for the offer, any suspension from the offer's scenario, whether they hold as many of the
# offer's vouchers as one person may, and whether they hold its honour.
_READ_SQL = """
SELECT o.id, o.merchant_id, o.kind, o.status, m.status, m.city_id, m.name, o.scenario,
       o.category, o.title, o.title_en, o.benefit_type, o.min_tier, o.min_score,
       o.min_grade, o.required_honour,
       o.home_city_rule, o.valid_from, o.valid_until, o.limit_per_period, o.period,
       (SELECT ms.merchant_id FROM {staff} ms JOIN {user} su ON su.id = ms.user_id
        WHERE ms.user_id = %(staff)s AND su.is_active),
       u.id, u.real_name, u.id_masked, u.home_city_id,
       s.id, s.tier, s.seriously_dishonest, s.valid_until,
       EXISTS (SELECT 1 FROM {consent} c
               WHERE c.resident_id = u.id AND c.withdrawn_at IS NULL),
       EXISTS (SELECT 1 FROM {home} h WHERE h.offer_id = o.id AND h.city_id = u.home_city_id),
       (SELECT MAX(i.suspended_until) FROM {incident} i
        WHERE i.resident_id = u.id AND i.scenario = o.scenario
          AND i.status IN ('confirmed', 'objected', 'upheld') AND i.suspended_until > %(now)s),
       EXISTS (SELECT 1 FROM {tally} ct
               WHERE ct.offer_id = o.id AND ct.resident_id = u.id
                 AND ct.held >= o.per_resident_limit),
       EXISTS (SELECT 1 FROM {honour} hn
               WHERE hn.person_hash = u.id_hash AND hn.city_id = s.city_id
                 AND hn.kind = o.required_honour
                 AND (hn.valid_until IS NULL OR hn.valid_until >= %(today)s))
FROM {offer} o
JOIN {merchant} m ON m.id = o.merchant_id
LEFT JOIN {user} u ON u.id = %(resident)s AND u.role = 'resident' AND u.is_active
LEFT JOIN {standing} s ON s.resident_id = u.id
WHERE o.id = %(offer)s
"""

_READ_FIELDS = (
    "id", "merchant_id", "kind", "status", "merchant_status", "city_id", "merchant_name",
    "scenario", "category", "title", "title_en", "benefit_type", "min_tier", "min_score",
    "min_grade", "required_honour", "home_city_rule", "valid_from", "valid_until",
    "limit_per_period", "period",
    "staff_merchant", "holder_id", "real_name", "id_masked", "home_city_id", "standing_id",
    "tier", "seriously_dishonest", "standing_valid_until", "consented", "listed_home",
    "suspended_until", "at_limit", "has_honour",
)  # fmt: skip


@dataclass(frozen=True)
class _Facts:
    """One row of _READ_SQL."""

    id: int
    merchant_id: int
    kind: str
    status: str
    merchant_status: str
    city_id: str
    merchant_name: str
    scenario: str
    category: str
    title: str
    title_en: str
    benefit_type: str
    min_tier: str
    min_score: int | None
    min_grade: str
    required_honour: str
    home_city_rule: str
    valid_from: datetime
    valid_until: datetime
    limit_per_period: int | None
    period: str
    staff_merchant: int | None
    holder_id: int | None
    real_name: str | None
    id_masked: str | None
    home_city_id: str | None
    standing_id: int | None
    tier: str | None
    seriously_dishonest: bool | None
    standing_valid_until: datetime | None
    consented: bool
    listed_home: bool
    suspended_until: datetime | None
    at_limit: bool
    has_honour: bool


def _cursor():
    # Both statements of a check run prepared on PostgreSQL (core.db); SQLite plans cheaply.
    return prepared_cursor() if connection.vendor == "postgresql" else connection.cursor()


def _read(staff_id: int, resident_id: int, offer_id: int, now: datetime) -> _Facts | None:
    sql = _READ_SQL.format(
        staff=MerchantStaff._meta.db_table,
        consent=Consent._meta.db_table,
        home=Offer.eligible_home_cities.through._meta.db_table,
        incident=Incident._meta.db_table,
        offer=Offer._meta.db_table,
        merchant=Merchant._meta.db_table,
        user=User._meta.db_table,
        standing=Standing._meta.db_table,
        tally=ClaimTally._meta.db_table,
        honour=Honour._meta.db_table,
    )
    with _cursor() as cur:
        cur.execute(
            sql,
            {
                "staff": staff_id,
                "resident": resident_id,
                "offer": offer_id,
                "now": now,
                "today": timezone.localdate(now),
            },
        )
        row = cur.fetchone()
    if row is None:
        return None
    facts = _Facts(*row)
    if connection.vendor != "postgresql":  # SQLite hands raw times back naive or as text
        facts = replace(facts, **{name: _aware(getattr(facts, name)) for name in _TIMES})
    return facts


_TIMES = ("valid_from", "valid_until", "standing_valid_until", "suspended_until")


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _level_in(facts: _Facts, city: str) -> tuple[int, list[str]]:
    """The holder's score in `city`'s scheme (-1 when it has none) and, in a grade city,
    the grades they meet: only asked for an offer with a minimum score or grade; the
    conversions come from the same one-minute cache as the offer lists (a miss costs the
    standing and the schemes, a few queries)."""
    holder = User(pk=facts.holder_id, home_city_id=facts.home_city_id)
    standing = Standing.objects.select_related("rule_version__scheme").get(pk=facts.standing_id)
    standing.consented = facts.consented
    standing.honour_kinds = ""
    who = view_of(holder, standing)
    return who.scores.get(city, -1), who.grades.get(city, [])


def offer_reasons(facts: _Facts, now: datetime) -> list[str]:
    """Why the holder may not use the offer now, in the order and by the rules of
    selectors.annotate_eligibility / eligibility_of (a test pins them equal)."""
    reasons: list[str] = []
    if facts.standing_id is None:
        reasons.append("no_standing")
    elif not facts.consented:
        reasons.append("consent_withdrawn")  # no stored standing is used
    else:
        if facts.seriously_dishonest:
            reasons.append("seriously_dishonest")
        if facts.standing_valid_until <= now:
            reasons.append("standing_expired")
    rule = facts.home_city_rule
    home_ok = (
        rule == Offer.HomeCityRule.ALL
        or (rule == Offer.HomeCityRule.VISITORS and facts.city_id != facts.home_city_id)
        or (rule == Offer.HomeCityRule.LISTED and facts.listed_home)
    )
    if not home_ok:
        reasons.append("home_city_not_eligible")
    rank = TIER_RANK.get(facts.tier, -1) if facts.standing_id else -1
    if facts.min_tier and TIER_RANK.get(facts.min_tier, -1) > rank:
        reasons.append("tier_too_low")
    if facts.min_score is not None or facts.min_grade:
        score, grades = _level_in(facts, facts.city_id) if facts.standing_id else (-1, [])
        if (facts.min_score is not None and facts.min_score > score) or (
            facts.min_grade and facts.min_grade not in grades
        ):
            reasons.append("score_too_low")
    if facts.at_limit:
        reasons.append("claim_limit_reached")
    if facts.required_honour and not facts.has_honour:
        reasons.append("honour_required")
    if not facts.valid_from <= now:
        reasons.append("offer_not_started")
    if not facts.valid_until > now:
        reasons.append("offer_ended")
    if facts.suspended_until is not None:
        reasons.append("suspended")
    return reasons


class _Undone(Exception):
    """The check's transaction must roll back; `took` says whether the tally moved."""

    def __init__(self, took: bool) -> None:
        self.took = took


def check_pass(*, staff: User, token: str, offer_id: int) -> CheckedUse:
    """Apply an entitlement offer of the staff member's merchant to the holder of a pass.

    Checked in order: the token (signature, type), its expiry, the offer (this merchant's,
    an entitlement, live), the holder's eligibility now (the voucher rules, plus
    `suspended`), then — atomically — this pass not used for this offer yet and the
    per-period limit. A refusal records nothing but its count by reason. Two statements
    when the check passes (one read, one write).
    """
    try:
        claims = signing.verify_pass(token)
    except signing.InvalidToken as exc:
        raise account_errors.INVALID_TOKEN(http_status=400, reason=str(exc)) from None
    now = timezone.now()
    if claims.expires_at <= now:
        raise errors.PASS_EXPIRED(expires_at=timezone.localtime(claims.expires_at).isoformat())
    facts = _read(staff.pk, claims.resident_id, offer_id, now)
    if facts is None:
        raise NOT_FOUND()
    if facts.staff_merchant is None:
        raise errors.NOT_MERCHANT_STAFF()
    if facts.merchant_id != facts.staff_merchant:
        raise errors.WRONG_MERCHANT()
    if facts.holder_id is None:
        raise account_errors.INVALID_TOKEN(http_status=400, reason="unknown_holder")
    if facts.kind != Offer.Kind.ENTITLEMENT:
        raise INVALID_REQUEST(offer_id=["not an entitlement offer: redeem its voucher"])
    if facts.status != Offer.Status.PUBLISHED or facts.merchant_status != Merchant.Status.ACTIVE:
        raise errors.OFFER_NOT_ACTIVE(status=facts.status)
    found = offer_reasons(facts, now)
    timing = [r for r in found if r in ("offer_not_started", "offer_ended")]
    if timing:
        raise errors.OFFER_NOT_ACTIVE(reasons=timing)
    reasons = found
    if reasons:
        _refuse(facts, reasons[0])
        detail: dict = {"reasons": reasons}
        if facts.suspended_until is not None:
            detail["suspended_until"] = timezone.localtime(facts.suspended_until).isoformat()
        raise errors.NOT_ELIGIBLE(**detail)

    period_start, next_at = period_bounds(facts.period, now)
    fields = {
        "offer": facts.id,
        "resident": facts.holder_id,
        "merchant": facts.merchant_id,
        "staff": staff.pk,
        "pass": claims.pass_id,
        "period": period_start,
        "now": now,
        "limit": facts.limit_per_period,
        "scenario": facts.scenario,
        "category": facts.category,
        "dest": facts.city_id,
        "home": facts.home_city_id,
    }
    try:
        if connection.vendor == "postgresql":
            use_id = _take_in_one_statement(fields)
        else:
            use_id = _take_with_orm(fields)
    except _Undone as undone:
        used = EntitlementUse.objects.filter(offer_id=facts.id, pass_id=claims.pass_id)
        if undone.took or used.exists():
            raise errors.PASS_ALREADY_USED() from None
        _refuse(facts, "usage_limit_reached")
        raise errors.USAGE_LIMIT_REACHED(
            limit=facts.limit_per_period,
            period=facts.period,
            next_available_at=None if next_at is None else next_at.isoformat(),
        ) from None
    logger.info("entitlement used id=%s offer=%s merchant=%s", use_id, facts.id, facts.merchant_id)
    return CheckedUse(
        id=use_id,
        offer_id=facts.id,
        offer_title=facts.title,
        offer_title_en=facts.title_en,
        benefit_type=facts.benefit_type,
        scenario=facts.scenario,
        merchant=facts.merchant_name,
        used_at=now,
        holder_name=facts.real_name,
        id_last4=(facts.id_masked or "")[-4:],
    )


def _refuse(facts: _Facts, reason: str) -> None:
    record_refusal(
        source=RefusalCount.Source.PASS_CHECK,
        dest_city=facts.city_id,
        reason=reason,
        scenario=facts.scenario,
    )


# The counter's hot path, one statement (atomic on its own, no transaction round trips):
# the tally upsert (only below the limit, under the row's lock, which orders the checks of
# one person's offer period) and then the use (only once per pass and offer). When the
# tally moved but the use was already there (the same pass again, below the limit), the
# statement aborts itself (xinyou_abort, migration 0006), undoing the tally.
_TAKE_SQL = """
WITH tally AS (
    INSERT INTO {tally} (offer_id, resident_id, period_start, used)
    VALUES (%(offer)s, %(resident)s, %(period)s, 1)
    ON CONFLICT (offer_id, resident_id, period_start)
    DO UPDATE SET used = {tally}.used + 1 WHERE {tally}.used < %(limit)s
    RETURNING used
), taken AS (
    INSERT INTO {use} (offer_id, resident_id, merchant_id, staff_id, pass_id, period_start,
                       used_at, scenario, category, dest_city_id, home_city_id)
    SELECT %(offer)s, %(resident)s, %(merchant)s, %(staff)s, %(pass)s, %(period)s, %(now)s,
           %(scenario)s::text, %(category)s::text, %(dest)s::text, %(home)s::text FROM tally
    ON CONFLICT (offer_id, pass_id) DO NOTHING
    RETURNING id
), outcome AS (
    SELECT (SELECT COUNT(*) FROM tally) AS took, (SELECT id FROM taken) AS use_id
)
SELECT took, use_id,
       CASE WHEN took > 0 AND use_id IS NULL THEN xinyou_abort('pass_already_used') END
FROM outcome
"""
ABORTED = "XY001"


def _take_in_one_statement(fields: dict) -> int:
    sql = _TAKE_SQL.format(tally=EntitlementTally._meta.db_table, use=EntitlementUse._meta.db_table)
    # Inside an outer transaction (a test, a caller's atomic block) a savepoint keeps the
    # abort to this statement; in autocommit the statement is its own transaction.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard, _cursor() as cur:
            cur.execute(sql, fields)
            took, use_id, _ = cur.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == ABORTED:
            raise _Undone(True) from None  # the statement undid itself
        raise
    if use_id is None:
        raise _Undone(bool(took))
    return use_id


def _take_with_orm(fields: dict) -> int:
    with transaction.atomic():
        key = {
            "offer_id": fields["offer"],
            "resident_id": fields["resident"],
            "period_start": fields["period"],
        }
        EntitlementTally.objects.bulk_create([EntitlementTally(**key)], ignore_conflicts=True)
        took = EntitlementTally.objects.filter(**key, used__lt=fields["limit"]).update(
            used=F("used") + 1
        )
        if not took:
            raise _Undone(False)
        try:
            with transaction.atomic():
                use = EntitlementUse.objects.create(
                    offer_id=fields["offer"],
                    resident_id=fields["resident"],
                    merchant_id=fields["merchant"],
                    staff_id=fields["staff"],
                    pass_id=fields["pass"],
                    period_start=fields["period"],
                    used_at=fields["now"],
                    scenario=fields["scenario"],
                    category=fields["category"],
                    dest_city_id=fields["dest"],
                    home_city_id=fields["home"],
                )
        except IntegrityError:
            raise _Undone(True) from None
    return use.pk
