"""The flows (and the home-city breakdown) from the narrow roll-up keyed by (home city,
dest city, day or month): for any range, whole months and partial ones, and any scope
(one city, an alliance with or without a member city, every city) they equal a count over
the raw vouchers; CityPairDay is CityDay summed over categories and CityPairMonth its
days summed, through new and back-dated claims, refreshes and partial rebuilds; the
flows read only those two tables, in a fixed number of queries; the migration that
introduced them builds the same rows from the existing roll-ups."""

import importlib
import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incentives.dashboard.models import CityPairDay, CityPairMonth
from incentives.dashboard.rollup import TZ, mark_days_dirty, rebuild_rollups, refresh_recent_rollups
from incentives.dashboard.selectors import Scope, breakdown, flows, set_pieces
from incentives.models import Voucher

from . import factories as f
from .conftest import build_history, for_any_range, range_of
from .reference import KINDS, Raw

pytestmark = pytest.mark.django_db

# Days of history before today: any 62 consecutive days hold a whole calendar month, so
# the long ranges below read month rows whatever the date the tests run on.
SPAN = 80
# (city, alliance members): one city, alliances (whole, and narrowed to a member city;
# 320500 has residents and no offers), every city
SCOPES = [
    ("330100", None),
    ("460100", None),
    ("310100", None),
    ("320500", None),
    (None, frozenset({"330100", "310100", "320500"})),
    ("330100", frozenset({"330100", "310100", "320500"})),
    (None, frozenset({"330100", "460100"})),
    (None, None),
]


def scope_of(city, members, d0, d1) -> Scope:
    if members is None:
        return Scope(city, d0, d1)
    return Scope(city, d0, d1, cities=members, alliance="test")


def got_flows(scope: Scope) -> dict:
    return {(r["home_city"], r["dest_city"]): {k: r[k] for k in KINDS} for r in flows(scope=scope)}


def got_homes(scope: Scope) -> dict:
    rows = breakdown(scope=scope, by="home_city")
    return {r["key"]: {k: r[k] for k in KINDS} for r in rows}


def assert_flows_match(raw: Raw, city, members, d0, d1) -> None:
    scope = scope_of(city, members, d0, d1)
    where = (city, members, d0, d1)
    assert got_flows(scope) == raw.flows(city, d0, d1, members=members), where
    if city is not None or members is not None:  # the home-city breakdown's scope rules
        assert got_homes(scope) == raw.breakdown(city, d0, d1, "home_city", members=members)


def assert_pairs_are_sums_of_city_rows() -> None:
    """CityPairDay equals CityDay summed over categories; CityPairMonth equals
    CityPairDay summed over each calendar month (and so CityMonth over categories)."""
    counts = ", ".join(f"SUM({c})::int" for c in (*KINDS, "uses"))
    plain = ", ".join((*KINDS, "uses"))
    keys = "dest_city_id, home_city_id"
    with connection.cursor() as cursor:
        for pair_table, sql in (
            (
                "incentives_citypairday",
                f"SELECT day, {keys}, {counts} FROM incentives_cityday GROUP BY 1, 2, 3",
            ),
            (
                "incentives_citypairmonth",
                f"SELECT date_trunc('month', day)::date, {keys}, {counts} "
                "FROM incentives_citypairday GROUP BY 1, 2, 3",
            ),
            (
                "incentives_citypairmonth",
                f"SELECT day, {keys}, {counts} FROM incentives_citymonth GROUP BY 1, 2, 3",
            ),
        ):
            cursor.execute(f"SELECT day, {keys}, {plain} FROM {pair_table} ORDER BY 1, 2, 3")
            stored = cursor.fetchall()
            cursor.execute(f"{sql} ORDER BY 1, 2, 3")
            assert stored and stored == cursor.fetchall(), (pair_table, sql)


@pytest.fixture
def built(cities):
    """The shared history plus claims (some redeemed or closed) over the SPAN days before
    today, rebuilt; `raw` counts the vouchers as they are then."""
    h = build_history(count=400, seed=2715)
    rng = random.Random(2715)
    now = timezone.now()
    offers = list(h.offers.values())
    for _ in range(160):
        issued = now - timedelta(seconds=rng.randint(0, SPAN * 86400))
        status = rng.choice(["issued", "redeemed", "redeemed", "cancelled", "expired"])
        later = min(issued + timedelta(hours=rng.choice([1, 20, 50])), now)
        f.voucher(
            rng.choice(offers),
            rng.choice(h.residents),
            issued,
            status=status,
            redeemed_at=later if status == "redeemed" else None,
            closed_at=later if status in ("cancelled", "expired") else None,
        )
    h.first_day = h.today - timedelta(days=SPAN)
    rebuild_rollups(date_from=h.first_day - timedelta(days=1), date_to=h.today)
    h.raw = Raw()
    return h


@for_any_range(SPAN, SCOPES, examples=60)
def test_flows_equal_the_raw_count_for_any_range_and_scope(built, start, length, scope):
    d0, d1 = range_of(built, start, length)
    assert_flows_match(built.raw, *scope, d0, d1)


def test_a_long_range_reads_whole_months_and_edge_days(built):
    d0, d1 = built.first_day + timedelta(days=2), built.today
    months, runs = set_pieces(d0, d1)
    assert months and runs
    assert CityPairMonth.objects.filter(day=months[0]).exists()
    assert_pairs_are_sums_of_city_rows()
    for city, members in SCOPES:
        assert_flows_match(built.raw, city, members, d0, d1)
    assert built.raw.flows("330100", d0, d1)  # not trivially empty
    # a range that is exactly one calendar month: month rows only
    month = months[0]
    end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    assert set_pieces(month, end) == ([month], [])
    for city, members in SCOPES:
        assert_flows_match(built.raw, city, members, month, end)


def test_new_and_backdated_claims_reach_the_pairs_through_the_refresh(built):
    today, first = built.today, built.first_day
    # a pair that did not exist: a 苏州 resident in 海口, today
    newcomer = f.resident("320500")
    f.voucher(built.offers["hk-shop-1"], newcomer, timezone.now())
    backdated = timezone.now() - timedelta(days=40)
    back_day = backdated.astimezone(TZ).date()
    f.voucher(built.offers["sh-museum-1"], f.resident("460100"), backdated)
    Voucher.objects.filter(status="issued", issued_at__lt=backdated).update(
        status="expired", closed_at=backdated
    )
    refresh_recent_rollups()  # today and yesterday: the back-dated day is not seen yet
    raw = Raw()
    assert got_flows(Scope("460100", today, today)) == raw.flows("460100", today, today)
    stale = got_flows(Scope("310100", back_day, back_day))
    assert stale != raw.flows("310100", back_day, back_day)

    mark_days_dirty(days=[back_day])
    refresh_recent_rollups()
    assert_pairs_are_sums_of_city_rows()
    for city, members in SCOPES:
        for d0, d1 in ((first, today), (back_day, back_day), (back_day, today)):
            assert_flows_match(raw, city, members, d0, d1)


def test_partial_rebuilds_keep_the_pair_months_equal_to_their_days(built):
    first, today = built.first_day, built.today
    middle = timezone.now() - timedelta(days=33)
    f.voucher(built.offers["hz-food-1"], f.resident("460100"), middle)
    closed = middle + timedelta(hours=2)
    f.voucher(
        built.offers["hk-hotel-1"], built.residents[0], middle, status="cancelled", closed_at=closed
    )
    day = middle.astimezone(TZ).date()
    rebuild_rollups(
        date_from=day - timedelta(days=2), date_to=day + timedelta(days=1), chunk_days=2
    )
    rebuild_rollups(date_from=first, date_to=first + timedelta(days=4), chunk_days=3)
    assert_pairs_are_sums_of_city_rows()
    raw = Raw()
    for city, members in SCOPES:
        for d0, d1 in ((first, today), (day, day), (day - timedelta(days=5), today)):
            assert_flows_match(raw, city, members, d0, d1)


def test_flows_read_only_the_pair_tables_in_two_queries(built, django_assert_num_queries):
    d0, d1 = built.first_day + timedelta(days=2), built.today
    assert all(set_pieces(d0, d1))  # whole months and edge days: the UNION ALL
    for city, members in SCOPES[:1] + SCOPES[4:]:
        scope = scope_of(city, members, d0, d1)
        # the pairs' counts (months and edge days in one), the cities' names
        with django_assert_num_queries(2), CaptureQueriesContext(connection) as ctx:
            assert flows(scope=scope)
        grouped = ctx.captured_queries[0]["sql"]
        assert "incentives_citypairmonth" in grouped and "incentives_citypairday" in grouped
        assert "incentives_cityday" not in grouped and "incentives_citymonth" not in grouped
        # the home-city breakdown: the counts and the cities' names
        with django_assert_num_queries(2), CaptureQueriesContext(connection) as ctx:
            assert breakdown(scope=scope, by="home_city")
        assert "incentives_citypairmonth" in ctx.captured_queries[0]["sql"]


def test_the_migration_builds_the_pairs_the_refresh_makes(built):
    """The migration fills the new tables from the CityDay and CityMonth rows there are
    (no recount); the rows equal those the rebuild itself makes."""
    migrations = Path(__file__).resolve().parents[2] / "incentives" / "migrations"
    [path] = migrations.glob("*_dashboard_city_pair_rollups_for_flows.py")
    migration = importlib.import_module(f"incentives.migrations.{path.stem}")
    made = (sorted(CityPairDay.objects.values_list()), sorted(CityPairMonth.objects.values_list()))
    assert made[0] and made[1]
    CityPairDay.objects.all().delete()
    CityPairMonth.objects.all().delete()
    with connection.cursor() as cursor:
        for statement in migration.BUILD:
            cursor.execute(statement)
    built_here = (
        sorted(CityPairDay.objects.values_list()),
        sorted(CityPairMonth.objects.values_list()),
    )
    assert built_here == made
