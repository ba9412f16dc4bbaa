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


@shared_task(name="accounts.query_standing", acks_late=True)
def query_standing(resident_id: int, purpose: str, requested_by: str) -> str:
    """One provider query for a resident (single-flight per resident); returns the outcome.
    Safe to run twice: a second run queries again under the same rules and is audited."""
    from accounts.credit.services import query_once

    return query_once(resident_id=resident_id, purpose=purpose, requested_by=requested_by)


@shared_task(name="accounts.sync_dishonest_list", acks_late=True)
def sync_dishonest_list(city_code: str) -> dict:
    from accounts.credit.services import sync_dishonest_list as sync

    report = sync(city_code=city_code)
    return {
        "city": report.city,
        "entries": report.entries,
        "newly_listed": report.newly_listed,
        "removed": report.removed,
        "restored": report.restored,
    }


@shared_task(name="accounts.sync_all_dishonest_lists", acks_late=True)
def sync_all_dishonest_lists() -> int:
    """Queue one list sync per partner city that has a credit scheme."""
    from accounts.models import City

    codes = list(City.objects.filter(scheme__isnull=False).values_list("code", flat=True))
    for code in codes:
        sync_dishonest_list.delay(code)
    return len(codes)


@shared_task(name="accounts.sync_honours", acks_late=True)
def sync_honours(city_code: str) -> dict:
    from accounts.credit.services import sync_honours as sync

    report = sync(city_code=city_code)
    return {"city": report.city, "entries": report.entries}


@shared_task(name="accounts.sync_all_honour_lists", acks_late=True)
def sync_all_honour_lists() -> int:
    """Queue one honour-list sync per partner city that has a credit scheme."""
    from accounts.models import City

    codes = list(City.objects.filter(scheme__isnull=False).values_list("code", flat=True))
    for code in codes:
        sync_honours.delay(code)
    return len(codes)


@shared_task(name="accounts.refresh_lapsing_standings", acks_late=True)
def refresh_lapsing_standings() -> int:
    from accounts.credit.services import refresh_lapsing_standings as refresh

    return refresh()


# the notices' tasks (accounts/notices/tasks.py), found by the worker through this module
from accounts.notices.tasks import send_due_notice_sms, send_notice_sms  # noqa: E402, F401
