"""Phone proof by SMS code: send a code, check it, spend it.

Codes are kept only as a keyed hash (HMAC-SHA256 with a server key) in the database, so
login and registration work whether Redis is up or not. The rules are decided by the
database: one live code per phone and purpose (a partial unique constraint), wrong tries
counted under the row's lock.
"""

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import INVALID_SMS_CODE, SMS_UNAVAILABLE
from core.errors import THROTTLED

from .gateways import SmsUnavailable
from .models import SmsCode, SmsPurpose
from .registry import gateway

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentCode:
    expires_in: int
    resend_after: int


def _code_hash(phone: str, purpose: str, code: str) -> str:
    key = f"xinyou-sms-code:{settings.SMS_CODE_KEY}".encode()
    return hmac.new(key, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def _retry_after(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def send_code(*, phone: str, purpose: str) -> SentCode:
    """Send a fresh 6-digit code to `phone` for `purpose` (register or login).

    A new code replaces the live one, but not within SMS_RESEND_SECONDS of it; at most
    SMS_CODES_PER_PHONE_PER_HOUR codes per phone per hour (`429 throttled`,
    `detail.retry_after`). A login code goes out only when an active account has this
    phone; the answer is the same either way (no account enumeration).
    """
    if purpose not in SmsPurpose.values:
        raise ValueError(purpose)
    now = timezone.now()
    ttl = settings.SMS_CODE_TTL_SECONDS
    resend = settings.SMS_RESEND_SECONDS
    hour_ago = now - timedelta(hours=1)
    recent = list(
        SmsCode.objects.filter(phone=phone, created_at__gt=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)[: settings.SMS_CODES_PER_PHONE_PER_HOUR]
    )
    if len(recent) >= settings.SMS_CODES_PER_PHONE_PER_HOUR:
        raise THROTTLED(retry_after=_retry_after(recent[0] + timedelta(hours=1), now))
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        with transaction.atomic():
            live = (
                SmsCode.objects.select_for_update()
                .filter(phone=phone, purpose=purpose, closed_at__isnull=True)
                .first()
            )
            if live is not None:
                if live.created_at > now - timedelta(seconds=resend):
                    raise THROTTLED(
                        retry_after=_retry_after(live.created_at + timedelta(seconds=resend), now)
                    )
                live.closed_at, live.closed_reason = now, "replaced"
                live.save(update_fields=["closed_at", "closed_reason"])
            row = SmsCode.objects.create(
                phone=phone,
                purpose=purpose,
                code_hash=_code_hash(phone, purpose, code),
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
    except IntegrityError:  # a simultaneous send won the one live place
        raise THROTTLED(retry_after=resend) from None
    if purpose == SmsPurpose.REGISTER or _has_active_account(phone):
        minutes = max(1, ttl // 60)
        text = _(
            "【信游】验证码 %(code)s，%(minutes)s 分钟内有效，仅用于%(purpose)s。请勿告诉他人。"
        ) % {
            "code": code,
            "minutes": minutes,
            "purpose": SmsPurpose(purpose).label,
        }
        try:
            gateway().send_code(phone=phone, code=code, minutes=minutes, text=text)
        except SmsUnavailable as exc:
            logger.warning("sms gateway failed: %s", exc)
            SmsCode.objects.filter(pk=row.pk).update(closed_at=now, closed_reason="unsent")
            raise SMS_UNAVAILABLE() from None
    return SentCode(expires_in=ttl, resend_after=resend)


def _has_active_account(phone: str) -> bool:
    from accounts.models import User

    return User.objects.filter(phone=phone, is_active=True).exists()


def check_code(*, phone: str, purpose: str, code: str, consume: bool) -> int:
    """Check `code` against the live code of `phone`; return the code row's id.

    A wrong code counts a try (committed even though the request fails); the fifth wrong
    try voids it. `consume=True` spends it at once (login); registration spends it with
    `spend_code` in the transaction that creates the account.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, closed_at__isnull=True)
            .first()
        )
        if row is None or row.expires_at <= now:
            left = 0
        elif hmac.compare_digest(row.code_hash, _code_hash(phone, purpose, code)):
            if consume:
                row.closed_at, row.closed_reason = now, "used"
                row.save(update_fields=["closed_at", "closed_reason"])
            return row.pk
        else:
            left = _count_wrong_try(row, now)
    raise INVALID_SMS_CODE(attempts_left=left)


def _count_wrong_try(row: SmsCode, now: datetime) -> int:
    row.attempts += 1
    fields = ["attempts"]
    if row.attempts >= settings.SMS_MAX_ATTEMPTS:
        row.closed_at, row.closed_reason = now, "voided"
        fields += ["closed_at", "closed_reason"]
    row.save(update_fields=fields)
    return max(0, settings.SMS_MAX_ATTEMPTS - row.attempts)


def try_code(*, phone: str, purpose: str, code: str) -> int:
    """Tell whether `code` is the live code of `phone` without spending it (registration
    checks it as the person leaves the phone step), and return the tries left. Each check
    costs a try, right or wrong, so that checking is no cheaper oracle than using: a wrong
    code is `400 invalid_sms_code` (`detail.attempts_left`) as anywhere else."""
    code_id = check_code(phone=phone, purpose=purpose, code=code, consume=False)
    with transaction.atomic():
        row = SmsCode.objects.select_for_update().filter(pk=code_id, closed_at__isnull=True).first()
        if row is None:  # spent or replaced meanwhile
            raise INVALID_SMS_CODE(attempts_left=0)
        left = _count_wrong_try(row, timezone.now())
    if left == 0:  # that was its last try: the code is void now
        raise INVALID_SMS_CODE(attempts_left=0)
    return left


def spend_try(code_id: int) -> None:
    """Count one wrong try on a code that was right but whose use failed otherwise (a
    name the identity provider refused): each code buys at most five identity checks."""
    with transaction.atomic():
        row = SmsCode.objects.select_for_update().filter(pk=code_id, closed_at__isnull=True).first()
        if row is not None:
            _count_wrong_try(row, timezone.now())


def spend_code(code_id: int) -> None:
    """Spend a checked code inside the caller's transaction; a code spent meanwhile (two
    registrations racing with one code) is `400 invalid_sms_code`."""
    spent = SmsCode.objects.filter(pk=code_id, closed_at__isnull=True).update(
        closed_at=timezone.now(), closed_reason="used"
    )
    if not spent:
        raise INVALID_SMS_CODE(attempts_left=0)
