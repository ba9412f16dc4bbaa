"""Computing and keeping the risk signals, and city staff's handling of them."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import City, User
from core import roles
from core.errors import NOT_FOUND, PERMISSION_DENIED, DomainError

from ..dashboard.rollup import local_today
from ..incidents.services import report_from_risk_signal
from . import compute, explain
from .models import RiskSignal
from .selectors import signals_visible_to

logger = logging.getLogger(__name__)


def _save(day: date, city: str | None, found: list[compute.Found]) -> int:
    now = timezone.now()
    signals = [
        RiskSignal(
            kind=f.kind,
            city_id=f.city if f.kind == RiskSignal.Kind.SIGNUP_BURST else city,
            day=day,
            fingerprint=f"{f.kind}:{city or '-'}:{day:%Y%m%d}:{f.key}"[:200],
            subject=f.subject[:200],
            facts=f.facts,
            rows=f.rows,
            resident_id=f.resident_id,
            voucher_id=f.voucher_id,
            first_seen=now,
            last_seen=now,
        )
        for f in found
    ]
    # A recomputation refreshes what the signal says and keeps its state and first_seen.
    RiskSignal.objects.bulk_create(
        signals,
        update_conflicts=True,
        unique_fields=["fingerprint"],
        update_fields=["subject", "facts", "rows", "last_seen", "city"],
    )
    return len(signals)


def compute_day(day: date, cities: list[str] | None = None) -> int:
    """Every signal of `day` in each city (default: all partner cities) and the day's
    sign-up bursts; returns how many patterns were found (new or seen before)."""
    codes = cities if cities is not None else list(City.objects.values_list("code", flat=True))
    total = 0
    for code in codes:
        for finder in compute.CITY_FINDERS:
            total += _save(day, code, finder(code, day))
    if cities is None:
        total += _save(day, None, compute.signup_burst(day))
    logger.info("risk signals day=%s cities=%s found=%s", day, len(codes), total)
    return total


def compute_recent() -> int:
    """The beat task's work: today so far, and yesterday (offline rows of yesterday's scans
    keep arriving, and the last hours of yesterday were not seen whole)."""
    today = local_today()
    return compute_day(today - timedelta(days=1)) + compute_day(today)


STATE_CHANGES = (RiskSignal.State.LOOKED_AT, RiskSignal.State.DISMISSED, RiskSignal.State.ESCALATED)


def change_state(*, actor: User, signal_id: int, state: str, reason: str = "") -> RiskSignal:
    """City staff of the signal's city (or a superuser) mark it looked at, dismiss it with a
    reason, or escalate it (an incident where a resident's voucher is concerned). An
    escalated signal stays escalated."""
    if roles.is_alliance_staff(actor):
        raise PERMISSION_DENIED()  # alliance staff read the signals of their members, only
    if not (roles.is_city_staff(actor) or roles.is_superuser(actor)):
        raise NOT_FOUND()
    reason = reason.strip()
    if state == RiskSignal.State.DISMISSED and not reason:
        raise DomainError(detail={"reason": [_("排除信号须说明原因。")]})
    with transaction.atomic():
        signal = signals_visible_to(actor).select_for_update().filter(pk=signal_id).first()
        if signal is None:
            raise NOT_FOUND()
        if signal.state == RiskSignal.State.ESCALATED:
            return signal
        if state == RiskSignal.State.ESCALATED and signal.voucher_id is not None:
            note = _("由风险信号转来：") + explain.why(signal)
            signal.incident = report_from_risk_signal(
                actor=actor, voucher_id=signal.voucher_id, note=note[:2000]
            )
        signal.state = state
        signal.state_reason = reason[:2000]
        signal.state_by = actor
        signal.state_at = timezone.now()
        signal.save(update_fields=["state", "state_reason", "state_by", "state_at", "incident"])
    logger.info("risk signal id=%s state=%s by=%s", signal.pk, state, actor.pk)
    return signal


def retention_days() -> int:
    return int(getattr(settings, "RISK_SIGNAL_DAYS", 365))


def purge_signals(now=None) -> int:
    """Delete signals found more than RISK_SIGNAL_DAYS ago; returns how many."""
    now = now or timezone.now()
    cutoff = now.astimezone(compute.TZ).date() - timedelta(days=retention_days())
    deleted, _count = RiskSignal.objects.filter(day__lt=cutoff).delete()
    return deleted
