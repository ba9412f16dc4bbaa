"""Celery tasks of incentives: thin wrappers around services, idempotent, safe to retry."""

from celery import shared_task

# the statements package's task, found by autodiscovery through this module
from .statements.tasks import close_due_statements  # noqa: F401

# --------------------------------------------------------------------------- vouchers


@shared_task(name="incentives.expire_vouchers", acks_late=True)
def expire_vouchers() -> int:
    """Mark issued vouchers past their time as expired (running it twice is harmless)."""
    from .vouchers.services import expire_due_vouchers

    return expire_due_vouchers()


@shared_task(name="incentives.revoke_resident_vouchers", acks_late=True)
def revoke_resident_vouchers(resident_id: int) -> int:
    """Revoke a listed resident's open vouchers (a second run finds none left)."""
    from .models import Voucher
    from .vouchers.services import close_open_vouchers

    return close_open_vouchers(resident_id=resident_id, status=Voucher.Status.REVOKED)


@shared_task(name="incentives.revoke_listed_vouchers", acks_late=True)
def revoke_listed_vouchers() -> int:
    """The beat sweep behind the listing signal: revoke any open voucher of a listed
    holder that a lost task left open (a second run finds none)."""
    from .vouchers.services import revoke_listed_holders_vouchers

    return revoke_listed_holders_vouchers()


@shared_task(name="incentives.purge_idempotency_records", acks_late=True)
def purge_idempotency_records() -> int:
    from .idempotency import purge_expired

    return purge_expired()


# --------------------------------------------------------------------------- dashboards
# (incentives/dashboard/: roll-ups of the city dashboards)


@shared_task(name="incentives.refresh_dashboard_rollups", acks_late=True)
def refresh_dashboard_rollups(lookback_days: int = 1) -> list[str]:
    """Recompute the roll-ups of today, `lookback_days` before it and every dirty day
    (idempotent: a second run writes the same rows)."""
    from .dashboard.rollup import refresh_recent_rollups

    return [d.isoformat() for d in refresh_recent_rollups(lookback_days=lookback_days)]


@shared_task(name="incentives.rebuild_dashboard_rollups", acks_late=True)
def rebuild_dashboard_rollups(date_from: str, date_to: str) -> dict:
    """Rebuild the roll-ups of an inclusive range of days (ISO dates)."""
    from datetime import date

    from .dashboard.rollup import rebuild_rollups

    report = rebuild_rollups(
        date_from=date.fromisoformat(date_from), date_to=date.fromisoformat(date_to)
    )
    return {"city_rows": report.city_rows, "offer_rows": report.offer_rows}


@shared_task(name="incentives.compute_risk_signals", acks_late=True)
def compute_risk_signals() -> int:
    """Risk signals of today and yesterday, every city (docs/risk-signals.md)."""
    from .risk.services import compute_recent

    return compute_recent()


@shared_task(name="incentives.purge_risk_rows", acks_late=True)
def purge_risk_rows() -> dict[str, int]:
    """Signals older than RISK_SIGNAL_DAYS and sign-up events older than SIGNUP_EVENT_DAYS."""
    from accounts.signups.services import purge as purge_signups

    from .risk.services import purge_signals

    return {"signals": purge_signals(), "signup_events": purge_signups()}


# --------------------------------------------------------------------------- notices
# (incentives/notices.py: what residents are told, through accounts.notices)


@shared_task(name="incentives.notify_expiring_vouchers", acks_late=True)
def notify_expiring_vouchers() -> int:
    """Tell each holder of a voucher lapsing within 24 hours, once (a second run finds
    them announced)."""
    from .notices import notify_expiring_vouchers as sweep

    return sweep()


@shared_task(name="incentives.notify_ended_suspensions", acks_late=True)
def notify_ended_suspensions() -> int:
    """Tell each resident whose suspension ended, once."""
    from .notices import notify_ended_suspensions as sweep

    return sweep()
