"""Retention: how long each table of personal or audit data is kept, and the purges
(docs/accounts.md, "Retention", lists them; audit.tasks.purge_expired runs them all from
Celery beat). Each purge deletes rows older than its period, in batches, and returns how
many went.

The trail and the access log are append-only (pgtrigger `Protect` triggers): the purge
is the one path that passes them, through `pgtrigger.ignore` on exactly those triggers,
for the rows past their period only.
"""

from collections.abc import Callable
from datetime import timedelta

import pgtrigger
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from accounts.credit.models import CreditQuery
from accounts.notices.models import Notice, SmsDelivery
from accounts.realname.models import IdentityCheck
from accounts.security.models import LoginFailure, LoginLock
from accounts.sms.models import SmsCode, SmsOutboxMessage
from accounts.staff_auth.models import SecondFactorReset, StaffSession

from .models import EVENT_MODELS, AccessLog

# The floor of the trail's and the access log's period (网络安全法 art. 21: logs ≥ 6 months).
MIN_AUDIT_DAYS = 180
BATCH = 5000


def _days(name: str, default: int, floor: int = 0) -> timedelta:
    return timedelta(days=max(int(getattr(settings, name, default)), floor))


def _hours(name: str, default: int) -> timedelta:
    return timedelta(hours=int(getattr(settings, name, default)))


def _delete_older(
    model: type[models.Model],
    field: str,
    cutoff,
    *,
    protected: str = "",
    exclude: dict | None = None,
) -> int:
    """Delete `model` rows whose `field` is before `cutoff`, BATCH at a time (short
    transactions, short locks). `protected`: the append-only trigger to pass."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                model._default_manager.filter(**{f"{field}__lt": cutoff})
                .exclude(**(exclude or {}))
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return done
            if protected:
                with pgtrigger.ignore(f"{model._meta.label}:{protected}"):
                    model._default_manager.filter(pk__in=ids).delete()
            else:
                model._default_manager.filter(pk__in=ids).delete()
        done += len(ids)
        if len(ids) < BATCH:
            return done


def purge_trail() -> int:
    """Audit trail rows older than AUDIT_TRAIL_RETENTION_DAYS (at least 180)."""
    cutoff = timezone.now() - _days("AUDIT_TRAIL_RETENTION_DAYS", 365, MIN_AUDIT_DAYS)
    return sum(
        _delete_older(m, "pgh_created_at", cutoff, protected="append_only") for m in EVENT_MODELS
    )


def purge_access_log() -> int:
    """Access-log rows older than ACCESS_LOG_RETENTION_DAYS (at least 180)."""
    cutoff = timezone.now() - _days("ACCESS_LOG_RETENTION_DAYS", 365, MIN_AUDIT_DAYS)
    return _delete_older(AccessLog, "at", cutoff, protected="append_only")


def purge_sms_codes() -> int:
    """SMS codes (with their phones) older than SMS_CODE_RETENTION_HOURS (24): a code
    lives 5 minutes and the sending limits look back one hour, so nothing needs them
    later; a person who never registered leaves no phone behind."""
    return _delete_older(
        SmsCode, "created_at", timezone.now() - _hours("SMS_CODE_RETENTION_HOURS", 24)
    )


def purge_sms_outbox() -> int:
    """The sandbox gateway's outbox (demo): SMS_OUTBOX_RETENTION_HOURS (24)."""
    cutoff = timezone.now() - _hours("SMS_OUTBOX_RETENTION_HOURS", 24)
    return _delete_older(SmsOutboxMessage, "sent_at", cutoff)


def purge_login_failures() -> int:
    """Failed logins and ended locks older than LOGIN_RECORD_RETENTION_DAYS (30)."""
    cutoff = timezone.now() - _days("LOGIN_RECORD_RETENTION_DAYS", 30)
    return _delete_older(LoginFailure, "at", cutoff) + _delete_older(LoginLock, "until", cutoff)


def purge_identity_checks() -> int:
    """Real-name check audit rows older than IDENTITY_CHECK_RETENTION_DAYS (3 years)."""
    cutoff = timezone.now() - _days("IDENTITY_CHECK_RETENTION_DAYS", 3 * 365, MIN_AUDIT_DAYS)
    return _delete_older(IdentityCheck, "created_at", cutoff)


def purge_credit_queries() -> int:
    """Credit-query audit rows older than CREDIT_QUERY_RETENTION_DAYS (5 years, as
    征信业管理条例 keeps query records)."""
    cutoff = timezone.now() - _days("CREDIT_QUERY_RETENTION_DAYS", 5 * 365, MIN_AUDIT_DAYS)
    return _delete_older(CreditQuery, "created_at", cutoff)


def purge_notices() -> int:
    """Inbox notices older than NOTICE_RETENTION_DAYS (365): a notice tells of an event
    the resident can still look up where it happened (the voucher, the incident)."""
    return _delete_older(Notice, "created_at", timezone.now() - _days("NOTICE_RETENTION_DAYS", 365))


def purge_notice_sms() -> int:
    """Notice SMS rows (with the phone) older than NOTICE_SMS_RETENTION_DAYS (30), once
    they are no longer waiting to be sent: delivered, or dead letters city staff had a
    month to see."""
    cutoff = timezone.now() - _days("NOTICE_SMS_RETENTION_DAYS", 30)
    return _delete_older(
        SmsDelivery,
        "created_at",
        cutoff,
        exclude={"status__in": [SmsDelivery.Status.PENDING, SmsDelivery.Status.SENDING]},
    )


def purge_staff_records() -> int:
    """Staff sessions' records once the session cannot be alive (twice
    STAFF_SESSION_MAX_SECONDS after it began), and second-factor resets after the audit
    trail's period (AUDIT_TRAIL_RETENTION_DAYS, at least 180)."""
    now = timezone.now()
    ended = now - 2 * timedelta(seconds=int(getattr(settings, "STAFF_SESSION_MAX_SECONDS", 43200)))
    resets = now - _days("AUDIT_TRAIL_RETENTION_DAYS", 365, MIN_AUDIT_DAYS)
    return _delete_older(StaffSession, "started_at", ended) + _delete_older(
        SecondFactorReset, "at", resets
    )


PURGES: dict[str, Callable[[], int]] = {
    "audit_trail": purge_trail,
    "access_log": purge_access_log,
    "sms_codes": purge_sms_codes,
    "sms_outbox": purge_sms_outbox,
    "login_records": purge_login_failures,
    "identity_checks": purge_identity_checks,
    "credit_queries": purge_credit_queries,
    "notices": purge_notices,
    "notice_sms": purge_notice_sms,
    "staff_records": purge_staff_records,
}


def purge_expired() -> dict[str, int]:
    """Run every purge; how many rows each deleted."""
    return {name: purge() for name, purge in PURGES.items()}
