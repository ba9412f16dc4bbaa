"""Offline redemptions: what a scanner redeemed while it could not reach the server,
uploaded later as a batch (api.md, Merchant staff: `POST merchant/redemptions/batch`).

Each row is applied on its own, atomically, through the same one-statement redemption as
an online scan (`services.redeem_voucher_id`), so a voucher is redeemed exactly once
whichever path reaches the server first:

- the row's nonce is claimed first by inserting its `OfflineRedemption` (unique per
  merchant and nonce): a second upload of the same nonce waits for the first to commit and
  then answers the stored outcome (and `idempotency_key_reused` when the same nonce comes
  with another voucher);
- the voucher is judged as it was when the clerk scanned it (`scanned_at`, clamped to no
  later than now and no earlier than `MAX_OFFLINE_AGE` ago): a voucher that was good at
  the scan and expired while the scanner was offline is still redeemed;
- a voucher that someone else (an online scan, another device) redeemed first comes back
  `already_redeemed` with the first time and is recorded as a conflict, which merchant
  staff see in `GET merchant/redemptions/offline` and city staff in admin and on the
  dashboard.

The redemption keeps both times: `redeemed_at` is when the server recorded it (the sync),
`scanned_at` when the clerk scanned it. Dashboards count it on the day of the sync, so
past days' roll-ups never move.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core.errors import DomainError
from merchants.models import Merchant

from .. import errors, signing
from ..dashboard.rollup import TZ, mark_days_dirty
from . import services
from .models import OfflineRedemption

logger = logging.getLogger(__name__)

# The most rows one upload may carry (api.md leaves it to us; documented in the schema).
MAX_BATCH = 500
# How far back a scan time is believed: a voucher is judged as it was at the scan, but
# never earlier than this before the upload.
MAX_OFFLINE_AGE = timedelta(hours=72)

REDEEMED = OfflineRedemption.Outcome.REDEEMED


@dataclass(frozen=True)
class OfflineScan:
    """One row of a scanner's offline queue."""

    nonce: str
    device_id: str
    scanned_at: datetime
    token: str | None = None
    code: str | None = None

    @property
    def fingerprint(self) -> str:
        if self.token:
            what = "token:" + self.token.strip().upper()
        else:
            what = "code:" + (signing.normalize_code(self.code or "") or (self.code or "").upper())
        return hashlib.sha256(what.encode()).hexdigest()


@dataclass(frozen=True)
class OfflineResult:
    nonce: str
    outcome: str
    redeemed_at: datetime | None


def judged_at(scanned_at: datetime, now: datetime) -> datetime:
    """The time a scanned voucher is judged at: the scan, within [now - max age, now]."""
    return min(max(scanned_at, now - MAX_OFFLINE_AGE), now)


def redeem_offline_batch(*, staff_id: int, scans: list[OfflineScan]) -> list[OfflineResult]:
    """Apply a scanner's offline queue, row by row in order, each row atomically and
    exactly once per nonce; answer each row's outcome."""
    merchant_id = services.merchant_of(staff_id)
    city_id = Merchant.objects.values_list("city_id", flat=True).get(pk=merchant_id)
    results = [_redeem_one(staff_id, merchant_id, city_id, scan) for scan in scans]
    conflicts = sum(1 for r in results if r.outcome == "already_redeemed")
    logger.info(
        "offline batch merchant=%s rows=%s conflicts=%s", merchant_id, len(scans), conflicts
    )
    return results


# Claims the nonce: waits for a concurrent upload of the same nonce to commit, then does
# nothing (no row returned) and the stored outcome is answered instead.
_CLAIM_SQL = """
INSERT INTO {table} (merchant_id, city_id, staff_id, nonce, device_id, fingerprint,
                     scanned_at, synced_at, outcome, conflict)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, FALSE)
ON CONFLICT (merchant_id, nonce) DO NOTHING
RETURNING id
"""


def _redeem_one(staff_id: int, merchant_id: int, city_id: str, scan: OfflineScan) -> OfflineResult:
    now = timezone.now()
    voucher_id: int | None = None
    failure: str | None = None
    try:
        voucher_id = services.resolve_voucher_id(token=scan.token, code=scan.code)
    except DomainError as exc:
        failure = exc.code
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                _CLAIM_SQL.format(table=OfflineRedemption._meta.db_table),
                [
                    merchant_id,
                    city_id,
                    staff_id,
                    scan.nonce,
                    scan.device_id,
                    scan.fingerprint,
                    scan.scanned_at,
                    now,
                    failure or "",
                ],
            )
            claimed = cur.fetchone()
        if claimed is None:  # this nonce was uploaded before
            return _replay(merchant_id, scan)
        if voucher_id is None:
            assert failure is not None  # no voucher: the reason why
            result = OfflineResult(scan.nonce, failure, None)
        else:
            result = _apply(claimed[0], staff_id, voucher_id, now, scan)
    return result


def _apply(
    row_id: int, staff_id: int, voucher_id: int, now: datetime, scan: OfflineScan
) -> OfflineResult:
    voucher: int | None = voucher_id
    conflict, redeemed_at = False, None
    try:
        redemption = services.redeem_voucher_id(
            staff_id=staff_id,
            voucher_id=voucher_id,
            now=now,
            valid_at=judged_at(scan.scanned_at, now),
            scanned_at=scan.scanned_at,
            device_id=scan.device_id,
        )
    except DomainError as refusal:
        outcome = refusal.code
        if outcome == "not_found":
            voucher = None
        elif outcome == "already_redeemed":
            conflict = True
            redeemed_at = datetime.fromisoformat(refusal.detail["redeemed_at"])
    else:
        outcome, redeemed_at = REDEEMED, redemption.redeemed_at
        expires_at = redemption.expires_at
        if expires_at <= now:
            # the expiry task may have counted it as expired since: recount those days
            first = expires_at.astimezone(TZ).date()
            days = [
                first + timedelta(days=n)
                for n in range((now.astimezone(TZ).date() - first).days + 1)
            ]
            transaction.on_commit(lambda: mark_days_dirty(days=days))
    OfflineRedemption.objects.filter(pk=row_id).update(
        outcome=outcome, voucher_id=voucher, conflict=conflict, redeemed_at=redeemed_at
    )
    return OfflineResult(scan.nonce, outcome, redeemed_at)


def _replay(merchant_id: int, scan: OfflineScan) -> OfflineResult:
    row = OfflineRedemption.objects.get(merchant_id=merchant_id, nonce=scan.nonce)
    if row.fingerprint != scan.fingerprint:
        return OfflineResult(scan.nonce, errors.IDEMPOTENCY_KEY_REUSED.code, None)
    return OfflineResult(row.nonce, row.outcome, row.redeemed_at)
