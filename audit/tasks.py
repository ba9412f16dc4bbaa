"""Celery tasks of the audit app (thin: audit.retention does the work)."""

from celery import shared_task


@shared_task(name="audit.purge_expired", acks_late=True)
def purge_expired() -> dict[str, int]:
    """Delete what is past its retention period (audit.retention); safe to run twice."""
    from .retention import purge_expired as run

    return run()
