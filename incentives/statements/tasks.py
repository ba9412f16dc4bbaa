"""Celery task of statements: a thin wrapper, idempotent and safe to retry."""

from celery import shared_task


@shared_task(name="incentives.close_due_statements", acks_late=True, time_limit=3600)
def close_due_statements() -> int:
    """Close every partner city's months whose close time (the 3rd of the next month,
    00:00 Asia/Shanghai) has come; the beat runs it hourly, a closed month is a no-op."""
    from .services import close_due_statements as close

    return close()
