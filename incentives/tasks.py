"""Celery tasks of incentives: thin wrappers around services, idempotent, safe to retry."""

from celery import shared_task

# --------------------------------------------------------------------------- vouchers


@shared_task(name="incentives.expire_vouchers", acks_late=True)
def expire_vouchers() -> int:
    """Mark issued vouchers past their time as expired (running it twice is harmless)."""
    from .services import expire_due_vouchers

    return expire_due_vouchers()


@shared_task(name="incentives.revoke_resident_vouchers", acks_late=True)
def revoke_resident_vouchers(resident_id: int) -> int:
    """Revoke a listed resident's open vouchers (a second run finds none left)."""
    from .services import revoke_open_vouchers

    return revoke_open_vouchers(resident_id=resident_id)


@shared_task(name="incentives.purge_idempotency_records", acks_late=True)
def purge_idempotency_records() -> int:
    from .idempotency import purge_expired

    return purge_expired()
