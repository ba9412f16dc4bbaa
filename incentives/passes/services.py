"""The personal credit pass (信用码): issuing it, and checking it at the counter.

A pass check is decided by the database, in one statement: it reads the facts of the
holder and the offer (incentives.facts, with the one-row decision of every eligibility
rule) and, only where the check's gates and every rule let it through, upserts the
resident's tally of the offer's current period (`used < limit`, under the row's lock) and
inserts the use (unique per offer and pass id); when the tally moved but the use was
already there, the statement undoes itself. A refusal is told from the same row. So N
simultaneous checks of one pass for one offer give one use, and the per-period limit
holds for any number of passes of one person.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import NoReturn

from django.conf import settings
from django.utils import timezone

from accounts import errors as account_errors
from accounts.credit import errors as credit_errors
from accounts.credit.services import active_consent
from accounts.identity import mask_name
from accounts.models import City, User
from core.errors import INVALID_REQUEST, NOT_FOUND, DomainError
from merchants.models import Merchant, Offer

from .. import errors, signing
from ..eligibility import (
    LEFT,
    ROW_RULES,
    TIMING,
    decided_in_sql,
    period_start_sql,
    row_flag,
)
from ..facts import (
    FACTS_WIDTH,
    TZ,
    Aborted,
    Facts,
    db_tables,
    facts_of,
    facts_params,
    facts_sql,
    offer_reasons,
    present,
    record_refusal,
    run_take,
)
from ..offers.selectors import resident_view
from .models import EntitlementTally, EntitlementUse, RefusalCount

logger = logging.getLogger(__name__)

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
    home_city = resident.home_city
    assert home_city is not None, "a resident always has a home city (resident_has_identity)"
    return CreditPass(
        token=token,
        expires_at=expires_at,
        tier=who.standing.tier,
        home_city=home_city,
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


# The check's gates before eligibility, in the order they are told: each is SQL over the
# facts row (`f`, incentives.facts), read back as a column, and the take goes ahead only
# where every gate (and every eligibility rule) is true.
_GATES: tuple[tuple[str, Callable[[Facts], DomainError]], ...] = (
    ("f.id IS NOT NULL", lambda f: NOT_FOUND()),
    ("f.staff_merchant IS NOT NULL", lambda f: errors.NOT_MERCHANT_STAFF()),
    ("f.merchant_id = f.staff_merchant", lambda f: errors.WRONG_MERCHANT()),
    (
        "f.holder_id IS NOT NULL",
        lambda f: account_errors.INVALID_TOKEN(http_status=400, reason="unknown_holder"),
    ),
    (
        f"f.kind = '{Offer.Kind.ENTITLEMENT}'",
        lambda f: INVALID_REQUEST(offer_id=["not an entitlement offer: redeem its voucher"]),
    ),
    (
        f"f.status = '{Offer.Status.PUBLISHED}' AND f.merchant_status = '{Merchant.Status.ACTIVE}'",
        lambda f: errors.OFFER_NOT_ACTIVE(status=f.status),
    ),
)


def check_pass(*, staff_id: int, token: str, offer_id: int) -> CheckedUse:
    """Apply an entitlement offer of the staff member's merchant to the holder of a pass.

    Checked in order: the token (signature, type), its expiry, the offer (this merchant's,
    an entitlement, live), the holder's eligibility now (the voucher rules, plus
    `suspended`), then — atomically — this pass not used for this offer yet and the
    per-period limit. A refusal records nothing but its count by reason. One statement
    when the check passes (the read and the take together); an offer with a minimum score
    or grade, which the row cannot decide, runs it twice (the second time with Python's
    decision).
    """
    try:
        claims = signing.verify_pass(token)
    except signing.InvalidToken as exc:
        raise account_errors.INVALID_TOKEN(http_status=400, reason=str(exc)) from None
    now = timezone.now()
    if claims.expires_at <= now:
        raise errors.PASS_EXPIRED(expires_at=timezone.localtime(claims.expires_at).isoformat())
    params = facts_params(
        resident_id=claims.resident_id, offer_id=offer_id, now=now, staff_id=staff_id
    )
    # First the row decides (`decided` false: a rule it leaves open takes nothing); when a
    # rule needed Python (a minimum score or grade) and Python let the holder through,
    # the same statement runs again with `decided` true, and takes. A second run that
    # takes nothing is refused (`_refused_take`), so there is never a third.
    for decided in (False, True):
        try:
            row = run_take(_check_sql(), {**params, "pass": claims.pass_id, "decided": decided})
        except Aborted:  # the tally moved, the use was there: the statement undid itself
            raise errors.PASS_ALREADY_USED() from None
        facts = facts_of(row)
        gates = row[FACTS_WIDTH : FACTS_WIDTH + len(_GATES)]
        took, use_id = row[FACTS_WIDTH + len(_GATES) : FACTS_WIDTH + len(_GATES) + 2]
        if use_id is not None:
            break
        for (_sql, refusal), passed in zip(_GATES, gates, strict=True):
            if not passed:
                raise refusal(facts)
        reasons = offer_reasons(facts, now)
        timing = [r for r in reasons if r in TIMING]
        if timing:
            raise errors.OFFER_NOT_ACTIVE(reasons=timing)
        if reasons and not set(reasons) <= set(LEFT):  # used up alone: the take answers it
            _refuse(facts, reasons[0])
            detail: dict = {"reasons": reasons}
            if facts.suspended_until is not None:
                detail["suspended_until"] = timezone.localtime(facts.suspended_until).isoformat()
            raise errors.NOT_ELIGIBLE(**detail)
        if decided or decided_in_sql(facts):  # the take ran, and found nothing to take
            _refused_take(facts, claims.pass_id, now, took=bool(took))
    logger.info("entitlement used id=%s offer=%s merchant=%s", use_id, facts.id, facts.merchant_id)
    return CheckedUse(
        id=use_id,
        offer_id=present(facts.id),
        offer_title=present(facts.title),
        offer_title_en=present(facts.title_en),
        benefit_type=present(facts.benefit_type),
        scenario=present(facts.scenario),
        merchant=present(facts.merchant_name),
        used_at=now,
        holder_name=present(facts.real_name),
        id_last4=(facts.id_masked or "")[-4:],
    )


def _refused_take(facts: Facts, pass_id: int, now: datetime, *, took: bool) -> NoReturn:
    """A take that did nothing: the pass already used for the offer, or the period's uses
    used up (its count recorded)."""
    used = EntitlementUse.objects.filter(offer_id=present(facts.id), pass_id=pass_id)
    if took or used.exists():
        raise errors.PASS_ALREADY_USED()
    _refuse(facts, "usage_limit_reached")
    _start, next_at = period_bounds(present(facts.period), now)
    raise errors.USAGE_LIMIT_REACHED(
        limit=facts.limit_per_period,
        period=facts.period,
        next_available_at=None if next_at is None else next_at.isoformat(),
    )


def _refuse(facts: Facts, reason: str) -> None:
    record_refusal(
        source=RefusalCount.Source.PASS_CHECK,
        dest_city=present(facts.city_id),
        reason=reason,
        scenario=present(facts.scenario),
    )


# The check in one statement (atomic on its own, no transaction round trips): the facts
# row with its flags (`f`, incentives.facts); then, only where every gate and every
# eligibility rule but the ones of what is left (LEFT: the take decides them itself) let
# it through, the take: the tally upsert (only below the limit, under the row's lock,
# which orders the checks of one person's offer period) and the use (only once per pass
# and offer); then the row with the gates (in `_GATES`' order) and the take's outcome.
# A rule the row leaves open (NULL: a minimum score or grade) counts as `decided`, the
# caller's word. When the tally moved but the use was already there (the same pass
# again, below the limit), the statement aborts itself (xinyou_abort, migration 0006),
# undoing the tally.
_CHECK_SQL = """
WITH f AS (
{facts}
), tally AS (
    INSERT INTO {tally} (offer_id, resident_id, period_start, used)
    SELECT f.id, f.holder_id, {period_start}, 1 FROM f WHERE {guard}
    ON CONFLICT (offer_id, resident_id, period_start)
    DO UPDATE SET used = {tally}.used + 1
    WHERE {tally}.used < (SELECT f.limit_per_period FROM f)
    RETURNING used
), taken AS (
    INSERT INTO {use} (offer_id, resident_id, merchant_id, staff_id, pass_id, period_start,
                       used_at, scenario, category, dest_city_id, home_city_id)
    SELECT f.id, f.holder_id, f.merchant_id, %(staff)s, %(pass)s, {period_start}, %(now)s,
           f.scenario, f.category, f.city_id, f.home_city_id FROM f, tally
    ON CONFLICT (offer_id, pass_id) DO NOTHING
    RETURNING id
), outcome AS (
    SELECT (SELECT COUNT(*) FROM tally) AS took, (SELECT id FROM taken) AS use_id
)
SELECT f.*, {gates}, took, use_id,
       CASE WHEN took > 0 AND use_id IS NULL THEN xinyou_abort('pass_already_used') END
FROM f, outcome
"""


@cache
def _check_sql() -> str:
    gates = [f"COALESCE(({sql}), FALSE)" for sql, _refusal in _GATES]
    rules = [f"f.{row_flag(rule)}" for rule in ROW_RULES if rule.reason not in LEFT]
    return _CHECK_SQL.format(
        facts=facts_sql(),
        period_start=period_start_sql("f.period"),
        guard=" AND ".join(
            [*gates, *(f"COALESCE({flag}, %(decided)s::boolean)" for flag in rules)]
        ),
        gates=", ".join(gates),
        **db_tables(tally=EntitlementTally, use=EntitlementUse),
    )
