"""The personal credit pass (信用码): issuing it, and checking it at the counter.

A pass check is decided by the database: one statement upserts the resident's tally of
the offer's current period (`used < limit`, under the row's lock) and inserts the use
(unique per offer and pass id); when either does nothing the transaction rolls back and
the refusal says why. So N simultaneous checks of one pass for one offer give one use,
and the per-period limit holds for any number of passes of one person.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from accounts import errors as account_errors
from accounts.credit import errors as credit_errors
from accounts.credit.models import Consent
from accounts.credit.services import active_consent
from accounts.identity import mask_name
from accounts.models import City, User
from core.errors import INVALID_REQUEST, NOT_FOUND
from merchants.models import Merchant, MerchantStaff, Offer

from .. import errors, signing
from ..selectors import annotate_eligibility, eligibility_of, resident_view, view_of
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


def _holder(resident_id: int) -> User | None:
    """The resident, their standing and whether their consent is active (one query)."""
    return (
        User.objects.filter(pk=resident_id, role=User.Role.RESIDENT, is_active=True)
        .select_related("standing__rule_version__scheme")
        .annotate(
            consented=Exists(
                Consent.objects.filter(resident=OuterRef("pk"), withdrawn_at__isnull=True)
            )
        )
        .first()
    )


def _standing_of(user: User):
    try:
        return user.standing
    except User.standing.RelatedObjectDoesNotExist:
        return None


class _Undone(Exception):
    """The check's transaction must roll back; `took` says whether the tally moved."""

    def __init__(self, took: bool) -> None:
        self.took = took


def check_pass(*, staff: User, token: str, offer_id: int) -> CheckedUse:
    """Apply an entitlement offer of the staff member's merchant to the holder of a pass.

    Checked in order: the token (signature, type), its expiry, the offer (this merchant's,
    an entitlement, live), the holder's eligibility now (the voucher rules, plus
    `suspended`), then — atomically — this pass not used for this offer yet and the
    per-period limit. A refusal records nothing but its count by reason.
    """
    try:
        claims = signing.verify_pass(token)
    except signing.InvalidToken as exc:
        raise account_errors.INVALID_TOKEN(http_status=400, reason=str(exc)) from None
    now = timezone.now()
    if claims.expires_at <= now:
        raise errors.PASS_EXPIRED(expires_at=timezone.localtime(claims.expires_at).isoformat())
    holder = _holder(claims.resident_id)
    if holder is None:
        raise account_errors.INVALID_TOKEN(http_status=400, reason="unknown_holder")
    who = view_of(holder, _standing_of(holder))
    offer = (
        annotate_eligibility(Offer.objects.filter(pk=offer_id), who, now=now)
        .annotate(
            staff_merchant=Subquery(
                MerchantStaff.objects.filter(user_id=staff.pk).values("merchant_id")[:1]
            )
        )
        .select_related("merchant")
        .first()
    )
    if offer is None:
        raise NOT_FOUND()
    if offer.staff_merchant is None:
        raise errors.NOT_MERCHANT_STAFF()
    if offer.merchant_id != offer.staff_merchant:
        raise errors.WRONG_MERCHANT()
    if offer.kind != Offer.Kind.ENTITLEMENT:
        raise INVALID_REQUEST(offer_id=["not an entitlement offer: redeem its voucher"])
    if offer.status != Offer.Status.PUBLISHED or offer.merchant.status != Merchant.Status.ACTIVE:
        raise errors.OFFER_NOT_ACTIVE(status=offer.status)
    verdict = eligibility_of(offer, who)
    timing = [r for r in verdict["reasons"] if r in ("offer_not_started", "offer_ended")]
    if timing:
        raise errors.OFFER_NOT_ACTIVE(reasons=timing)
    reasons = ([] if holder.consented else ["consent_withdrawn"]) + verdict["reasons"]
    if reasons:
        _refuse(offer, reasons[0])
        detail = {"reasons": reasons}
        if "suspended" in reasons:
            detail["suspended_until"] = suspended_until(holder.pk, offer.scenario, now)
        raise errors.NOT_ELIGIBLE(**detail)

    period_start, next_at = period_bounds(offer.period, now)
    fields = {
        "offer": offer.pk,
        "resident": holder.pk,
        "merchant": offer.merchant_id,
        "staff": staff.pk,
        "pass": claims.pass_id,
        "period": period_start,
        "now": now,
        "limit": offer.limit_per_period,
        "scenario": offer.scenario,
        "category": offer.category,
        "dest": offer.merchant.city_id,
        "home": holder.home_city_id,
    }
    try:
        if connection.vendor == "postgresql":
            use_id = _take_in_one_statement(fields)
        else:
            use_id = _take_with_orm(fields)
    except _Undone as undone:
        used = EntitlementUse.objects.filter(offer_id=offer.pk, pass_id=claims.pass_id)
        if undone.took or used.exists():
            raise errors.PASS_ALREADY_USED() from None
        _refuse(offer, "usage_limit_reached")
        raise errors.USAGE_LIMIT_REACHED(
            limit=offer.limit_per_period,
            period=offer.period,
            next_available_at=None if next_at is None else next_at.isoformat(),
        ) from None
    logger.info("entitlement used id=%s offer=%s merchant=%s", use_id, offer.pk, offer.merchant_id)
    return CheckedUse(
        id=use_id,
        offer_id=offer.pk,
        offer_title=offer.title,
        offer_title_en=offer.title_en,
        benefit_type=offer.benefit_type,
        scenario=offer.scenario,
        merchant=offer.merchant.name,
        used_at=now,
        holder_name=holder.real_name,
        id_last4=holder.id_last4,
    )


def _refuse(offer: Offer, reason: str) -> None:
    record_refusal(
        source=RefusalCount.Source.PASS_CHECK,
        dest_city=offer.merchant.city_id,
        reason=reason,
        scenario=offer.scenario,
    )


def suspended_until(resident_id: int, scenario: str, now: datetime) -> str | None:
    """When the resident's suspension from a scenario ends (the latest one), ISO."""
    from ..incidents.models import Incident

    until = (
        Incident.objects.filter(
            resident_id=resident_id,
            scenario=scenario,
            status__in=Incident.SUSPENDING,
            suspended_until__gt=now,
        )
        .order_by("-suspended_until")
        .values_list("suspended_until", flat=True)
        .first()
    )
    return None if until is None else timezone.localtime(until).isoformat()


# The counter's hot path: the tally upsert (only below the limit) and the use (only once per
# pass and offer) in one statement; the use is inserted only for a tally row the upsert
# returned, so the tally's row lock orders the checks of one person's offer period.
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
           %(scenario)s, %(category)s, %(dest)s, %(home)s FROM tally
    ON CONFLICT (offer_id, pass_id) DO NOTHING
    RETURNING id
)
SELECT (SELECT COUNT(*) FROM tally), (SELECT id FROM taken)
"""


def _take_in_one_statement(fields: dict) -> int:
    sql = _TAKE_SQL.format(tally=EntitlementTally._meta.db_table, use=EntitlementUse._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql, fields)
            took, use_id = cur.fetchone()
        if use_id is None:
            raise _Undone(bool(took))  # rolls the tally back with the transaction
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
