"""Celery tasks of accounts: thin, idempotent, safe to retry."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="accounts.record_worker_heartbeat", acks_late=True)
def record_worker_heartbeat(marker: str = "beat") -> str:
    """Write when a worker last ran a task; running it twice just writes the time again."""
    stamp = timezone.now().isoformat()
    cache.set(f"worker-heartbeat:{marker}", stamp, 3600)
    return stamp
