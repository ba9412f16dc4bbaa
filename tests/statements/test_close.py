"""Closing a month: frozen (the database refuses changes), numbered, checksummed; closing
twice or at once is a no-op; later corrections become adjustments of the next close."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import InternalError

from incentives.models import (
    OfflineRedemption,
    Redemption,
    Statement,
    StatementAdjustment,
    StatementClose,
    StatementEntry,
    StatementLine,
)
from incentives.statements import selectors, services
from incentives.statements.rows import add_months
from incentives.statements.services import close_due_at, close_month, verify_statement

from .conftest import at, redeem
from .reference import expected


def close(world, month=None, city="330100"):
    month = month or world.month
    return close_month(city=city, month=month, now=close_due_at(month))


def test_a_month_does_not_close_before_the_third_of_the_next_month(world):
    due = close_due_at(world.month)
    assert due == at(add_months(world.month, 1).replace(day=3), 0)
    assert close_month(city="330100", month=world.month, now=due - timedelta(seconds=1)) is None
    assert not Statement.objects.exists()
    assert close_month(city="330100", month=world.month, now=due) is not None


def test_every_merchant_of_the_city_gets_a_numbered_checksummed_statement(world):
    record = close(world)
    statements = list(Statement.objects.filter(city="330100", month=world.month).order_by("seq"))
    assert record.statements == len(statements) == 2  # the two Hangzhou merchants
    assert [s.merchant_id for s in statements] == sorted([world.merchant.pk, world.other.pk])
    assert [s.number for s in statements] == [
        f"330100-{world.month:%Y%m}-00001",
        f"330100-{world.month:%Y%m}-00002",
    ]
    for s in statements:
        assert len(s.checksum) == 64
        assert verify_statement(s)


def test_the_checksum_covers_the_rows(world):
    close(world)
    stored = Statement.objects.get(merchant=world.merchant, month=world.month)
    # what a tampering superuser would do around the trigger: the checksum no longer fits
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE incentives_statemententry DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE incentives_statemententry SET clerk = 'someone else' "
            "WHERE id = (SELECT min(id) FROM incentives_statemententry "
            "WHERE statement_id = %s)",
            [stored.pk],
        )
        assert not verify_statement(stored)
        transaction.set_rollback(True)
    assert verify_statement(stored)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: Statement.objects.filter(pk=s.pk).update(redemptions=0),
        lambda s: Statement.objects.filter(pk=s.pk).update(checksum="0" * 64),
        lambda s: Statement.objects.filter(pk=s.pk).delete(),
        lambda s: StatementLine.objects.filter(statement=s).update(redemptions=99),
        lambda s: StatementLine.objects.filter(statement=s).delete(),
        lambda s: StatementEntry.objects.filter(statement=s).update(clerk="x"),
        lambda s: StatementEntry.objects.filter(statement=s)._raw_delete("default"),
        lambda s: StatementClose.objects.update(statements=0),
        lambda s: StatementEntry.objects.create(
            statement=s, kind=1, source_id=1, occurred_at=s.closed_at
        ),
        lambda s: StatementAdjustment.objects.create(statement=s, of_month=s.month),
    ],
    ids=[
        "header-totals",
        "checksum",
        "delete",
        "line",
        "line-delete",
        "entry",
        "entry-delete",
        "close-record",
        "insert-entry",
        "insert-adjustment",
    ],
)
def test_the_database_refuses_to_change_a_closed_statement(world, change):
    close(world)
    stored = Statement.objects.get(merchant=world.merchant, month=world.month)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        change(stored)
    stored.refresh_from_db()
    assert verify_statement(stored)


def test_closing_twice_is_a_no_op(world):
    first = close(world)
    counts = (Statement.objects.count(), StatementEntry.objects.count())
    again = close(world)
    assert again.pk == first.pk
    assert (Statement.objects.count(), StatementEntry.objects.count()) == counts


@pytest.mark.django_db(transaction=True)
def test_closing_from_several_workers_at_once_closes_once(world):
    from django.db import connections

    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(close(world).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert StatementClose.objects.count() == 1
    assert Statement.objects.filter(month=world.month).count() == 2
    want = services.checksums(
        {s.pk: services.header_of(s) for s in Statement.objects.filter(month=world.month)}
    )
    assert all(want[s.pk] == s.checksum for s in Statement.objects.all())


def test_a_later_correction_is_an_adjustment_of_the_next_month_never_a_rewrite(world):
    close(world)
    closed = Statement.objects.get(merchant=world.merchant, month=world.month)
    frozen = (closed.redemptions, closed.conflicts, closed.face_value_total, closed.checksum)
    boat = world.offers["boat"]
    # corrections after the close: a redemption revoked, a conflict resolved
    revoked = (
        Redemption.objects.filter(voucher__offer=boat, merchant=world.merchant)
        .filter(
            redeemed_at__gte=at(world.month, 1), redeemed_at__lt=at(add_months(world.month, 1), 0)
        )
        .first()
    )
    revoked.delete()
    OfflineRedemption.objects.filter(merchant_id=world.merchant.pk, conflict=True).update(
        conflict=False
    )
    # the open next month shows them as pending adjustments
    nxt = add_months(world.month, 1)
    redeem(boat, at(nxt.replace(day=10)), world.clerk)
    live = selectors.statement(world.merchant, nxt)
    assert [
        (a.of_month, a.offer_id, a.figures.redemptions, a.figures.conflicts, a.figures.face_value)
        for a in live.adjustments
    ] == [(world.month, boat.pk, -1, -1, Decimal("-30.00"))]
    # the next close carries them, frozen into that statement
    close(world, nxt)
    carried = selectors.statement(world.merchant, nxt)
    assert carried.closed
    assert [
        (a.of_month, a.figures.redemptions, a.figures.conflicts, a.figures.face_value)
        for a in carried.adjustments
    ] == [(world.month, -1, -1, Decimal("-30.00"))]
    want = expected(world.merchant.pk, nxt)["totals"]
    assert [
        carried.totals.redemptions,
        carried.totals.entitlement_uses,
        carried.totals.conflicts,
        carried.totals.face_value,
    ] == want
    # the closed month is unchanged and still verifies
    closed.refresh_from_db()
    assert (
        closed.redemptions,
        closed.conflicts,
        closed.face_value_total,
        closed.checksum,
    ) == frozen
    assert verify_statement(closed)
    # a correction is carried once: the (open) month after has none pending
    assert selectors.statement(world.merchant, add_months(nxt, 1)).adjustments == []


def test_the_beat_task_closes_the_due_months_and_catches_up(world):
    from incentives.tasks import close_due_statements

    assert close_due_statements.name == "incentives.close_due_statements"
    nxt = add_months(world.month, 1)
    # on the 2nd of the month after next: only `month` is due
    on_second = at(add_months(nxt, 1).replace(day=2), 12)
    assert services.close_due_statements(now=on_second, cities=["330100"]) == 1
    assert list(StatementClose.objects.values_list("month", flat=True)) == [world.month]
    assert services.close_due_statements(now=on_second, cities=["330100"]) == 0
    # a beat that was down from the 3rd until later closes what is due, in order
    later = at(add_months(nxt, 1).replace(day=3), 5)
    assert services.close_due_statements(now=later, cities=["330100"]) == 1
    assert sorted(StatementClose.objects.values_list("month", flat=True)) == [world.month, nxt]


def test_the_beat_schedule_runs_the_close_through_the_real_task(world, settings):
    from django.utils import timezone

    from config.scheduler import Scheduler

    scheduler = Scheduler.from_beat_schedule(settings.CELERY_BEAT_SCHEDULE)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == "incentives.close_due_statements"]
    assert [j.every for j in scheduler.jobs] == [3600.0]
    assert scheduler.run_due(now=0) == ["incentives.close_due_statements"]
    due = services.latest_due_month(timezone.now())
    assert StatementClose.objects.filter(city="330100", month=due).exists()
    assert Statement.objects.filter(merchant=world.merchant, month=due).exists()
