"""Each event gives one notice (and at most one SMS), however often and however
concurrently it is announced: the unique key (resident, kind, event) and
INSERT … ON CONFLICT DO NOTHING decide, in PostgreSQL."""

import threading

import pytest
from django.db import connection

from accounts.notices.models import Notice, NoticeKind, SmsDelivery
from accounts.notices.services import notify
from incentives.notices import notify_expiring_vouchers

from .conftest import make_resident


@pytest.mark.django_db
def test_an_event_announced_twice_gives_one_notice(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(kind=NoticeKind.SUSPENSION_ENDED, resident_id=resident.pk, event="7")
        second = notify(kind=NoticeKind.SUSPENSION_ENDED, resident_id=resident.pk, event="7")
    assert first is not None and second is None
    assert Notice.objects.filter(resident=resident).count() == 1
    assert SmsDelivery.objects.filter(resident=resident).count() == 1
    # another event of the same kind, or the same event id of another kind, is new
    assert notify(kind=NoticeKind.SUSPENSION_ENDED, resident_id=resident.pk, event="8")
    assert notify(kind=NoticeKind.INCIDENT_REPORTED, resident_id=resident.pk, event="7")


@pytest.mark.django_db
def test_the_expiry_sweep_run_twice_tells_once(
    resident, voucher, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    now = voucher.expires_at - timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_expiring_vouchers(now=now) == 1
        assert notify_expiring_vouchers(now=now) == 0
        assert notify_expiring_vouchers(now=now + timedelta(hours=1)) == 0
    assert list(Notice.objects.values_list("kind", "event")) == [
        (NoticeKind.VOUCHER_EXPIRING, voucher.code)
    ]


THREADS = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(5))
def test_concurrent_announcements_of_one_event_give_one_notice(world, run):
    """Eight threads, each its own connection, announce the same event at the same moment:
    one notice, one SMS delivery (run five times)."""
    resident = make_resident()
    barrier = threading.Barrier(THREADS)
    results: list[int | None] = []
    errors: list[BaseException] = []

    def announce() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(
                notify(kind=NoticeKind.INCIDENT_REPORTED, resident_id=resident.pk, event="42")
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=announce) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == THREADS
    assert len([r for r in results if r is not None]) == 1
    assert Notice.objects.filter(resident=resident).count() == 1
    assert SmsDelivery.objects.filter(resident=resident).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(5))
def test_concurrent_sweeps_tell_each_holder_once(world, merchant, run):
    """Two expiry sweeps at once over the same vouchers: one notice per voucher."""
    from datetime import timedelta

    from .conftest import client_for, publish

    offer = publish(merchant=merchant, min_tier="", total_quota=10, per_resident_limit=1)
    holders = [make_resident() for _ in range(4)]
    for holder in holders:
        assert client_for(holder).post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201
    from incentives.models import Voucher

    now = Voucher.objects.order_by("expires_at").first().expires_at - timedelta(hours=2)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(notify_expiring_vouchers(now=now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(counts) == len(holders)
    assert Notice.objects.filter(kind=NoticeKind.VOUCHER_EXPIRING).count() == len(holders)
    assert SmsDelivery.objects.filter(kind=NoticeKind.VOUCHER_EXPIRING).count() == len(holders)
