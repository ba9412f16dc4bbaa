"""Write use cases of vouchers: claim, cancel, redeem, expire, revoke.

Every rule that must hold under concurrency is decided by the database: the per-resident
limit and the quota by conditional UPDATEs under row locks (taken in one order: claim
tally, then offer), redemption by one conditional UPDATE from `issued` to `redeemed`, and a
unique voucher column on the redemption.
"""

import json
import logging
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NoReturn

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts import errors as account_errors
from accounts.credit import errors as credit_errors
from accounts.models import User
from core.db import prepared_cursor
from core.errors import NOT_AUTHENTICATED, NOT_FOUND, PERMISSION_DENIED, DomainError
from merchants.models import Merchant, MerchantStaff, Offer

from .. import errors, idempotency, signing
from ..eligibility import LEFT, TIMING, Reason, holder_listed_sql
from ..facts import (
    Aborted,
    Facts,
    db_tables,
    offer_reasons,
    present,
    read_claim_facts,
    record_refusal,
    run_take,
)
from .models import ClaimTally, Redemption, Voucher

logger = logging.getLogger(__name__)

_HIDDEN_STATUSES = {Offer.Status.DRAFT, Offer.Status.SUBMITTED, Offer.Status.REJECTED}


# --------------------------------------------------------------------------- claim


def claim_offer(*, resident_id: int, offer_id: int, idempotency_key: str = "") -> Voucher:
    """Issue a voucher of the offer to the resident if they may have it now.

    The resident (still an active resident: a closed or deactivated account is
    `401 not_authenticated`, one whose role changed `403 permission_denied`, as when the
    authentication loaded the caller), their consent and standing, the offer and its
    eligibility are read in one statement (incentives.facts; equivalent scores only for an
    offer with a minimum score or grade); the per-resident limit and the quota are then
    taken and the voucher inserted atomically (one statement), and the offer's
    terms are copied onto the voucher (later changes of the offer do not touch it).
    """
    claimed = _claim(resident_id, offer_id, idempotency_key, None, None)
    return claimed.voucher


@dataclass(frozen=True)
class Claimed:
    voucher: Voucher
    answer: dict  # what `claim_offer_keyed`'s caller answers (and the key's row keeps)


def claim_offer_keyed(
    *,
    resident_id: int,
    offer_id: int,
    keyed: idempotency.Keyed,
    answer: Callable[[Voucher], dict],
) -> Claimed:
    """`claim_offer` under an Idempotency-Key, the key's answer stored by the claim itself
    (incentives.idempotency.recorded_in_work): its row is read with the claim's facts, the
    `201` answer (`answer(voucher)`) is written by the take's one statement and a refusal
    by one more. Raises idempotency.Recorded when the key is already answered (nothing
    done)."""
    return _claim(resident_id, offer_id, keyed.key, keyed, answer)


def _claim(
    resident_id: int,
    offer_id: int,
    key: str,
    keyed: idempotency.Keyed | None,
    answer: Callable[[Voucher], dict] | None,
) -> Claimed:
    now = timezone.now()
    read = read_claim_facts(resident_id=resident_id, offer_id=offer_id, now=now, keyed=keyed)
    if keyed is not None and read.prior is not None and read.prior.live(now):
        raise idempotency.Recorded(read.prior)
    facts = read.facts
    refusal = _refusal_of(facts, now)
    if refusal is not None:
        _refuse(refusal, facts, keyed, now)

    fields = {
        "voucher_id": read.voucher_id,
        "offer": facts.id,
        "resident": facts.holder_id,
        "limit": facts.per_resident_limit,
        "merchant": facts.merchant_id,
        "dest": facts.city_id,
        "home": facts.home_city_id,
        "category": facts.category,
        "terms": facts.terms(),
        "terms_version": facts.terms_version,
        "key_id": signing.active_key().kid,
        "now": now,
        "expires_at": min(
            now + timedelta(hours=present(facts.voucher_lifetime_hours)),
            present(facts.valid_until),
        ),
        "voucher_key": key[:64],
    }
    try:
        claimed = _take_in_one_statement(fields, keyed, answer)
    except DomainError as refused:  # no place left, or the limit: the take's own refusals
        _refuse(_Refusal(refused), facts, keyed, now)
    logger.info("voucher issued id=%s offer=%s resident=%s", read.voucher_id, facts.id, resident_id)
    return claimed


@dataclass(frozen=True)
class _Refusal:
    error: DomainError
    counted: str = ""  # the reason a refusal counts under (incentives.facts.record_refusal)


def _refusal_of(facts: Facts, now: datetime) -> _Refusal | None:
    """Why the claim is refused before its take, or None (the take decides what is left)."""
    if facts.holder_id is None:  # closed or deactivated (401), or no longer a resident (403)
        return _Refusal(NOT_AUTHENTICATED() if facts.active_role is None else PERMISSION_DENIED())
    if facts.standing_id is None:
        if not facts.consented:
            return _Refusal(credit_errors.CONSENT_REQUIRED())
        return _Refusal(credit_errors.NO_STANDING(http_status=403))
    if not facts.consented:  # withdrawn: no stored standing is used
        return _Refusal(credit_errors.CONSENT_REQUIRED(reasons=[Reason.CONSENT_WITHDRAWN]))
    if facts.id is None or facts.status in _HIDDEN_STATUSES:
        return _Refusal(NOT_FOUND())
    if facts.status != Offer.Status.PUBLISHED or facts.merchant_status != Merchant.Status.ACTIVE:
        return _Refusal(errors.OFFER_NOT_ACTIVE(status=facts.status))
    if facts.kind == Offer.Kind.ENTITLEMENT:
        return _Refusal(errors.OFFER_NOT_CLAIMABLE())  # shown with the credit pass instead
    reasons = offer_reasons(facts, now)
    timing = [r for r in reasons if r in TIMING]
    if timing:
        return _Refusal(errors.OFFER_NOT_ACTIVE(reasons=timing))
    if Reason.CLAIM_LIMIT_REACHED in reasons and set(reasons) <= {
        Reason.CLAIM_LIMIT_REACHED,
        *LEFT,
    }:
        return _Refusal(errors.CLAIM_LIMIT_REACHED(limit=facts.per_resident_limit))
    if reasons and not set(reasons) <= set(LEFT):  # sold out alone: the take answers it
        return _Refusal(errors.NOT_ELIGIBLE(reasons=reasons), counted=reasons[0])
    return None


def _refuse(
    refusal: _Refusal, facts: Facts, keyed: idempotency.Keyed | None, now: datetime
) -> NoReturn:
    """Count the refusal (if it counts) and, under a key, store it as the key's answer, both
    or neither (idempotency.Recorded, the count undone, when the key was answered since)."""
    if keyed is None:
        if refusal.counted:
            _count_refusal(facts, refusal.counted)
        raise refusal.error
    try:
        with transaction.atomic() if refusal.counted else nullcontext():
            if refusal.counted:
                _count_refusal(facts, refusal.counted)
            idempotency.store_refusal(keyed, refusal.error, now)
    except IntegrityError:  # no such user (any more): nothing to keep the answer on
        pass
    raise refusal.error


def _count_refusal(facts: Facts, reason: str) -> None:
    record_refusal(
        source="claim",
        dest_city=present(facts.city_id),
        reason=reason,
        scenario=present(facts.scenario),
    )


# The claim's hot path, one statement (atomic on its own): the resident's tally upsert (only
# below the per-resident limit, under the row's lock), then the offer's quota (a conditional
# UPDATE of the offer row: tally first, then offer, the lock order of _give_back), then the
# voucher with its drawn code and the id its read drew, then (under an Idempotency-Key) the
# key's row with the answer (incentives.idempotency.RECORD_CTE). When the tally moved but no
# voucher was inserted (no place left or the offer no longer published; or the code is
# taken), or the key was answered meanwhile, the statement aborts itself (xinyou_abort),
# undoing all of it. The tally only moves while the statement's snapshot sees a place
# (`seen`), so an offer with no place left is refused without an abort; the abort is left
# to races (the last place taken between the snapshot and the offer row's lock), code
# clashes and a repeat of a key racing its first. Text parameters are cast: the statement
# runs prepared (core.db), and the server cannot infer their types in an INSERT's SELECT
# list.
_CLAIM_SQL = """
WITH seen AS (
    SELECT 1 FROM {offer}
    WHERE id = %(offer)s AND status = 'published'
      AND (total_quota IS NULL OR claimed_count < total_quota)
), tally AS (
    INSERT INTO {tally} (offer_id, resident_id, held)
    SELECT %(offer)s, %(resident)s, 1 WHERE EXISTS (SELECT 1 FROM seen)
    ON CONFLICT (offer_id, resident_id)
    DO UPDATE SET held = {tally}.held + 1 WHERE {tally}.held < %(limit)s
    RETURNING held
), placed AS (
    UPDATE {offer} SET claimed_count = claimed_count + 1
    WHERE id = %(offer)s AND status = 'published'
      AND (total_quota IS NULL OR claimed_count < total_quota)
      AND EXISTS (SELECT 1 FROM tally)
    RETURNING id
), issued AS (
    INSERT INTO {voucher} (id, code, offer_id, resident_id, status, merchant_id, dest_city_id,
                           home_city_id, category, terms, terms_version, key_id, issued_at,
                           expires_at, idempotency_key)
    SELECT %(voucher_id)s, %(code)s::text, %(offer)s, %(resident)s, 'issued', %(merchant)s,
           %(dest)s::text, %(home)s::text, %(category)s::text, %(terms_json)s::jsonb,
           %(terms_version)s, %(key_id)s::text, %(now)s, %(expires_at)s, %(voucher_key)s::text
    FROM placed
    ON CONFLICT (code) DO NOTHING
    RETURNING id
), {recorded}, outcome AS (
    SELECT (SELECT COUNT(*) FROM tally) AS took, (SELECT COUNT(*) FROM placed) AS placed,
           (SELECT id FROM issued) AS voucher_id, (SELECT COUNT(*) FROM seen) AS seen,
           (SELECT COUNT(*) FROM recorded) AS recorded
)
SELECT took, voucher_id, seen,
       CASE WHEN took > 0 AND voucher_id IS NULL
            THEN xinyou_abort(CASE WHEN placed > 0 THEN 'code_taken' ELSE 'no_place' END)
            WHEN voucher_id IS NOT NULL AND %(key)s::text IS NOT NULL AND recorded = 0
            THEN xinyou_abort('key_answered') END
FROM outcome
"""
_CODE_DRAWS = 5  # 29^9 codes: a clash is rare, and then we just draw again


@cache
def _claim_sql() -> str:
    tables = db_tables(
        tally=ClaimTally, offer=Offer, voucher=Voucher, record=idempotency.IdempotencyRecord
    )
    recorded = idempotency.RECORD_CTE.format(record=tables["record"], source="issued")
    return _CLAIM_SQL.format(**tables, recorded=recorded)


def _take_in_one_statement(
    fields: dict,
    keyed: idempotency.Keyed | None,
    answer: Callable[[Voucher], dict] | None,
) -> Claimed:
    # (without a key the record's part of the statement does nothing: `key` is NULL there)
    params = {
        **fields,
        "terms_json": json.dumps(fields["terms"]),
        **(keyed.params(fields["now"]) if keyed else _UNKEYED),
        "answer_status": 201,
    }
    # a claim without a key under the locking protocol (idempotency.idempotent) may be run
    # again whole after a race: there its take keeps no savepoint (facts.run_take)
    race_only = keyed is None
    for _attempt in range(_CODE_DRAWS):
        code = signing.new_code()
        voucher = _voucher_of(fields, fields["voucher_id"], code)
        body = answer(voucher) if answer else {}
        params["code"] = code
        params["answer"] = idempotency.answer_json(body) if keyed else None
        try:
            took, voucher_id, seen, _ = run_take(_claim_sql(), params, race_only=race_only)
        except Aborted as undone:
            if undone.reason == "code_taken":
                continue
            if undone.reason == "key_answered":
                raise idempotency.Recorded() from None
            _no_place(fields["offer"])
        if not seen:
            _no_place(fields["offer"])
        if not took:
            raise errors.CLAIM_LIMIT_REACHED(limit=fields["limit"])
        assert voucher_id == voucher.pk
        return Claimed(voucher, body)
    raise RuntimeError("could not draw a unique voucher code")


_UNKEYED = {"scope": None, "key": None, "fingerprint": None, "stale": None}


def _no_place(offer_id: int) -> NoReturn:
    """The refusal when the quota could not be taken: gone, or the offer left `published`."""
    still_published = Offer.objects.filter(pk=offer_id, status=Offer.Status.PUBLISHED).exists()
    raise (errors.QUOTA_EXHAUSTED if still_published else errors.OFFER_NOT_ACTIVE)()


def _voucher_of(fields: dict, voucher_id: int | None, code: str) -> Voucher:
    return Voucher(
        pk=voucher_id,
        code=code,
        offer_id=fields["offer"],
        resident_id=fields["resident"],
        status=Voucher.Status.ISSUED,
        merchant_id=fields["merchant"],
        dest_city_id=fields["dest"],
        home_city_id=fields["home"],
        category=fields["category"],
        terms=fields["terms"],
        terms_version=fields["terms_version"],
        key_id=fields["key_id"],
        issued_at=fields["now"],
        expires_at=fields["expires_at"],
        idempotency_key=fields["voucher_key"],
    )


# --------------------------------------------------------------------------- cancel


def cancel_voucher(*, resident_id: int, code: str) -> Voucher:
    """The resident gives an unused voucher back; its quota and limit return at once."""
    normalized = signing.normalize_code(code)  # None: cannot be a code (e.g. holds a NUL)
    voucher = (
        Voucher.objects.filter(code=normalized, resident_id=resident_id).first()
        if normalized
        else None
    )
    if voucher is None:
        raise NOT_FOUND()
    now = timezone.now()
    with transaction.atomic():
        flipped = Voucher.objects.filter(
            pk=voucher.pk, status=Voucher.Status.ISSUED, expires_at__gt=now
        ).update(status=Voucher.Status.CANCELLED, closed_at=now)
        if not flipped:
            voucher.refresh_from_db(fields=["status"])
            raise errors.VOUCHER_NOT_CANCELLABLE(status=voucher.status)
        _give_back(Counter({voucher.offer_id: 1}), resident_id)
    voucher.refresh_from_db()
    return voucher


def _give_back(per_offer: Counter, resident_id: int) -> None:
    """Return claimed places, tally first then offer (the claim's lock order)."""
    for offer_id in sorted(per_offer):
        n = per_offer[offer_id]
        ClaimTally.objects.filter(offer_id=offer_id, resident_id=resident_id).update(
            held=F("held") - n
        )
        Offer.objects.filter(pk=offer_id).update(claimed_count=F("claimed_count") - n)


# --------------------------------------------------------------------------- redeem


def _active_merchant_id(staff_id: int) -> int | None:
    return (
        MerchantStaff.objects.filter(
            user_id=staff_id, user__is_active=True, merchant__status=Merchant.Status.ACTIVE
        )
        .values_list("merchant_id", flat=True)
        .first()
    )


def merchant_of(staff_id: int) -> int:
    """The merchant a staff member redeems for; refuses anyone else."""
    merchant_id = _active_merchant_id(staff_id)
    if merchant_id is None:
        raise errors.NOT_MERCHANT_STAFF()
    return merchant_id


def merchant_for_scanner(staff_id: int) -> Merchant:
    """The merchant a scanner redeems for (what it checks offline tokens against)."""
    return Merchant.objects.only("pk", "name").get(pk=merchant_of(staff_id))


def resolve_voucher_id(*, token: str | None = None, code: str | None = None) -> int:
    """The voucher a QR token (signature checked) or a typed code points at."""
    if token:
        try:
            return signing.verify(token).voucher_id
        except signing.InvalidToken as exc:
            raise account_errors.INVALID_TOKEN(http_status=400, reason=str(exc)) from None
    normalized = signing.normalize_code(code or "")
    if normalized is None:
        raise account_errors.INVALID_TOKEN(http_status=400, reason="bad_code")
    found = Voucher.objects.filter(code=normalized).values_list("pk", flat=True).first()
    if found is None:
        raise NOT_FOUND()
    return found


def holder_listed(resident_id: int) -> bool:
    """Whether the holder is on a seriously-dishonest list (synced from any city, or flagged
    on their standing), whatever became of the task that revokes their vouchers."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {holder_listed_sql('%(holder)s')}", {"holder": resident_id})
        return bool(cur.fetchone()[0])


def _refusal(voucher: Voucher, merchant_id: int, now: datetime) -> DomainError | None:
    """Why a voucher cannot be redeemed by this merchant now, or None."""
    if voucher.merchant_id != merchant_id:
        return errors.WRONG_MERCHANT()
    if voucher.status == Voucher.Status.REDEEMED:
        redeemed_at = timezone.localtime(voucher.redeemed_at).isoformat()
        return errors.ALREADY_REDEEMED(redeemed_at=redeemed_at)
    if voucher.status == Voucher.Status.CANCELLED:
        return errors.VOUCHER_CANCELLED()
    if voucher.status == Voucher.Status.REVOKED:
        return errors.VOUCHER_REVOKED()
    if voucher.status == Voucher.Status.EXPIRED or voucher.expires_at <= now:
        expires_at = timezone.localtime(voucher.expires_at).isoformat()
        return errors.VOUCHER_EXPIRED(expires_at=expires_at)
    if holder_listed(voucher.resident_id):
        return errors.VOUCHER_REVOKED()
    return None


@dataclass(frozen=True)
class Preview:
    voucher: Voucher
    redeemable: bool
    reason: str | None
    same_merchant: bool


def preview_voucher(*, staff_id: int, token: str | None = None, code: str | None = None) -> Preview:
    """What a scan shows the clerk; changes nothing."""
    merchant_id = merchant_of(staff_id)
    voucher_id = resolve_voucher_id(token=token, code=code)
    voucher = (
        Voucher.objects.select_related("offer", "resident", "merchant")
        .filter(pk=voucher_id)
        .first()
    )
    if voucher is None or voucher.merchant_id != merchant_id:
        raise NOT_FOUND()  # another merchant's voucher: not even its status
    refusal = _refusal(voucher, merchant_id, timezone.now())
    return Preview(
        voucher,
        refusal is None,
        refusal.code if refusal else None,
        voucher.merchant_id == merchant_id,
    )


@dataclass(frozen=True)
class Redeemed:
    """A redemption as its answer shows it (api.md): built from the row the redemption
    statement returns, with no model instances (the gate's hot path)."""

    id: int
    voucher_id: int
    code: str
    terms: dict
    merchant_id: int
    expires_at: datetime
    holder_name: str
    holder_id_masked: str
    staff_id: int
    redeemed_at: datetime
    scanned_at: datetime | None
    device_id: str


def redeem_voucher(*, staff_id: int, token: str | None = None, code: str | None = None) -> Redeemed:
    """Redeem a voucher exactly once: one conditional UPDATE from `issued` to `redeemed`
    (of this merchant's voucher, not expired) and the redemption row, atomically;
    whoever loses a race learns why."""
    return redeem_voucher_id(
        staff_id=staff_id, voucher_id=resolve_voucher_id(token=token, code=code)
    )


def redeem_voucher_id(
    *,
    staff_id: int,
    voucher_id: int,
    now: datetime | None = None,
    valid_at: datetime | None = None,
    scanned_at: datetime | None = None,
    device_id: str = "",
) -> Redeemed:
    """The redemption of both paths, online and offline (`incentives.vouchers.offline`). The
    voucher must not have expired by `valid_at` (default: now; an offline scan is judged at
    its scan time, so a voucher that expired while the scanner was offline is redeemed
    even if the expiry task has already marked it); `scanned_at` and `device_id` record an
    offline scan (only an offline scan may redeem a voucher the expiry task has marked)."""
    now = now or timezone.now()
    when = _When(now, valid_at or now, scanned_at, device_id)
    redeemed = _redeem_in_one_statement(staff_id, voucher_id, when)
    if redeemed is None:
        merchant_id = merchant_of(staff_id)  # raises for someone who redeems for no merchant
        voucher = Voucher.objects.filter(pk=voucher_id).first()
        if voucher is None:
            raise NOT_FOUND()
        refusal = _refusal(voucher, merchant_id, when.valid_at) or errors.ALREADY_REDEEMED()
        if refusal.code == "voucher_revoked" and voucher.status == Voucher.Status.ISSUED:
            # the lost task's work
            close_open_vouchers(resident_id=voucher.resident_id, status=Voucher.Status.REVOKED)
        raise refusal
    logger.info("voucher redeemed id=%s merchant=%s", voucher_id, redeemed.merchant_id)
    return redeemed


@dataclass(frozen=True)
class _When:
    now: datetime  # the redemption's time (the server's clock)
    valid_at: datetime  # the time expiry is judged at
    scanned_at: datetime | None
    device_id: str


# The gate's hot path, as one statement: the staff member's merchant, the conditional flip
# (which re-checks the holder's listing: a voucher whose revocation task was lost is still
# refused), the redemption row and what the answer shows, in one round trip (a single
# statement is atomic). Table names come from model metadata. Only an offline scan made before the
# voucher's expiry may flip one that the expiry task has since marked `expired`. It runs
# prepared (core.db): planning it cost more than running it.
_REDEEM_SQL = """
WITH staff_merchant AS (
    SELECT ms.merchant_id FROM {staff} ms JOIN {merchant} m ON m.id = ms.merchant_id
    JOIN {user} su ON su.id = ms.user_id
    WHERE ms.user_id = %(staff)s AND m.status = 'active' AND su.is_active
), flipped AS (
    UPDATE {voucher} SET status = 'redeemed', redeemed_at = %(now)s, closed_at = NULL
    WHERE id = %(voucher_id)s AND expires_at > %(valid_at)s
      AND (status = 'issued' OR (status = 'expired' AND %(offline)s))
      AND merchant_id = (SELECT merchant_id FROM staff_merchant)
      AND NOT {listed}
    RETURNING id, code, terms, resident_id, merchant_id, expires_at
), redemption AS (
    INSERT INTO {redemption} (voucher_id, merchant_id, staff_id, redeemed_at, scanned_at,
                              device_id)
    SELECT id, merchant_id, %(staff)s, %(now)s, %(scanned_at)s::timestamptz,
           %(device_id)s::text FROM flipped
    RETURNING id
)
SELECT r.id, f.id, f.code, f.terms, f.merchant_id, f.expires_at, u.real_name, u.id_masked
FROM flipped f JOIN redemption r ON TRUE JOIN {user} u ON u.id = f.resident_id
"""


@cache
def _redeem_sql() -> str:
    tables = db_tables(
        staff=MerchantStaff, merchant=Merchant, voucher=Voucher, redemption=Redemption, user=User
    )
    listed = holder_listed_sql(f"{tables['voucher']}.resident_id")
    return _REDEEM_SQL.format(**tables, listed=listed)


def _redeem_in_one_statement(staff_id: int, voucher_id: int, when: _When) -> Redeemed | None:
    with prepared_cursor() as cur:
        cur.execute(
            _redeem_sql(),
            {
                "staff": staff_id,
                "now": when.now,
                "valid_at": when.valid_at,
                "scanned_at": when.scanned_at,
                "device_id": when.device_id,
                "offline": when.scanned_at is not None,
                "voucher_id": voucher_id,
            },
        )
        row = cur.fetchone()
    if row is None:
        return None
    redemption_id, vid, code, terms, merchant_id, expires_at, real_name, id_masked = row
    return Redeemed(
        id=redemption_id,
        voucher_id=vid,
        code=code,
        terms=json.loads(terms) if isinstance(terms, str) else terms,
        merchant_id=merchant_id,
        expires_at=expires_at,
        holder_name=real_name,
        holder_id_masked=id_masked,
        staff_id=staff_id,
        redeemed_at=when.now,
        scanned_at=when.scanned_at,
        device_id=when.device_id,
    )


# --------------------------------------------------------------------------- lifecycle


def expire_due_vouchers(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Issued vouchers past their time become `expired` (their quota stays taken)."""
    now = now or timezone.now()
    total = 0
    while True:
        ids = list(
            Voucher.objects.filter(status=Voucher.Status.ISSUED, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return total
        total += Voucher.objects.filter(pk__in=ids, status=Voucher.Status.ISSUED).update(
            status=Voucher.Status.EXPIRED, closed_at=now
        )


def close_open_vouchers(*, resident_id: int, status: str) -> int:
    """Every open voucher of the resident is closed with `status`, and the places return to
    the offers: `revoked` when they are on the seriously-dishonest list, `cancelled` when
    they close their account (inside the closing transaction: no commit of its own)."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Voucher.objects.select_for_update()
            .filter(resident_id=resident_id, status=Voucher.Status.ISSUED)
            .order_by("pk")
            .values_list("pk", "offer_id")
        )
        if not rows:
            return 0
        Voucher.objects.filter(pk__in=[pk for pk, _ in rows]).update(status=status, closed_at=now)
        _give_back(Counter(offer_id for _, offer_id in rows), resident_id)
    logger.info("vouchers %s resident=%s count=%s", status, resident_id, len(rows))
    return len(rows)


def revoke_listed_holders_vouchers() -> int:
    """The periodic sweep: every open voucher of a holder on a seriously-dishonest list (or
    flagged so) is revoked and its place returned, whatever became of the revocation task
    the listing queued. Returns how many were revoked; a second run finds none."""
    voucher = Voucher._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT v.resident_id FROM {voucher} v "  # noqa: S608  (metadata names)
            f"WHERE v.status = %s AND {holder_listed_sql('v.resident_id')} ORDER BY 1",
            [Voucher.Status.ISSUED],
        )
        holders = [row[0] for row in cur.fetchall()]
    revoked = Voucher.Status.REVOKED
    return sum(close_open_vouchers(resident_id=rid, status=revoked) for rid in holders)
