"""A statement's rows and totals equal the raw rows: open (live) and closed (frozen)."""

from datetime import timedelta
from decimal import Decimal

from incentives.models import Statement, StatementEntry
from incentives.statements import selectors
from incentives.statements.services import close_due_at, close_month

from .reference import expected


def lines_of(data) -> dict:
    return {
        line.offer_id: [
            line.figures.redemptions,
            line.figures.entitlement_uses,
            line.figures.conflicts,
            line.figures.face_value,
        ]
        for line in data.lines
    }


def totals_of(data) -> list:
    t = data.totals
    return [t.redemptions, t.entitlement_uses, t.conflicts, t.face_value]


def test_an_open_statement_equals_the_raw_rows_of_the_month(world):
    want = expected(world.merchant.pk, world.month)
    data = selectors.statement(world.merchant, world.month)
    assert not data.closed
    assert lines_of(data) == want["lines"]
    assert totals_of(data) == want["totals"]
    # the planted month, by hand: 8 redemptions, 3 uses, 1 conflict; 4×30 + 30 (20% of
    # 150) + 20 (100 less 80) + 60 (a free ticket of 60) + 2×10 = 250.00
    assert want["totals"] == [8, 3, 1, Decimal("250.00")]


def test_face_value_is_empty_not_zero_where_the_offer_states_no_price(world):
    data = selectors.statement(world.merchant, world.month)
    by_offer = lines_of(data)
    assert by_offer[world.offers["spa"].pk] == [1, 0, 0, None]  # 10% of no stated price
    assert by_offer[world.offers["deposit"].pk] == [0, 1, 0, None]  # a deposit waiver
    assert by_offer[world.offers["museum"].pk][3] == Decimal("30.00")


def test_a_closed_statement_froze_the_same_rows_and_totals(world):
    want = expected(world.merchant.pk, world.month)
    close_month(city="330100", month=world.month, now=close_due_at(world.month))
    data = selectors.statement(world.merchant, world.month)
    assert data.closed
    assert lines_of(data) == want["lines"]
    assert totals_of(data) == want["totals"]
    stored = Statement.objects.get(merchant=world.merchant, month=world.month)
    assert [
        stored.redemptions,
        stored.entitlement_uses,
        stored.conflicts,
        stored.face_value_total,
    ] == want["totals"]
    entries = list(
        StatementEntry.objects.filter(statement=stored)
        .order_by("id")
        .values(
            "kind",
            "occurred_at",
            "synced_at",
            "offer_id",
            "code_last4",
            "clerk",
            "offline",
            "face_value",
        )
    )
    assert entries == want["entries"]
    # offline: scanned the evening before the month, synced (and counted) in it
    offline = [e for e in entries if e["offline"] and e["kind"] == 1]
    assert len(offline) == 1
    assert offline[0]["synced_at"] - offline[0]["occurred_at"] == timedelta(hours=11)


def test_the_other_merchants_of_the_city_get_their_own_statement(world):
    close_month(city="330100", month=world.month, now=close_due_at(world.month))
    other = selectors.statement(world.other, world.month)
    assert totals_of(other) == expected(world.other.pk, world.month)["totals"]
    assert totals_of(other) == [2, 0, 0, Decimal("10.00")]
    # Shanghai's month is not closed by Hangzhou's close
    assert not selectors.statement(world.shanghai, world.month).closed
