"""Distinct residents from the roaring-bitmap roll-up (ClaimantSet): for any range and any
scope (one city, a set of cities, all cities) the union of the range's month and day sets
has exactly the residents a COUNT(DISTINCT) over the raw vouchers finds; the sets follow
new claims through the incremental refresh, and a month's set is always the union of its
day sets, whatever partial rebuilds came before."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from pyroaring import BitMap64

from incentives.dashboard.models import ClaimantSet
from incentives.dashboard.rollup import TZ, mark_days_dirty, rebuild_rollups, refresh_recent_rollups
from incentives.dashboard.selectors import Scope, set_pieces, summary, unique_residents

from . import factories as f
from .conftest import WINDOW_DAYS, build_history, for_any_range, range_of

pytestmark = pytest.mark.django_db

SCOPES = [
    ("330100",),
    ("460100",),
    ("310100",),
    ("320500",),  # residents live there, no offers: always 0
    ("330100", "310100"),
    ("330100", "460100", "310100"),
    None,  # every city
]


def distinct_claimants(codes, d0: date, d1: date) -> int:
    """COUNT(DISTINCT resident) over the raw vouchers claimed in those cities those days."""
    sql = (
        "SELECT COUNT(DISTINCT resident_id) FROM incentives_voucher "
        "WHERE (issued_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %s AND %s"
    )
    params: list = [d0, d1]
    if codes is not None:
        sql += " AND dest_city_id = ANY(%s)"
        params.append(list(codes))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def scope_of(codes, d0: date, d1: date) -> Scope:
    if codes is None:
        return Scope(None, d0, d1)
    if len(codes) == 1:
        return Scope(codes[0], d0, d1)
    return Scope(None, d0, d1, cities=frozenset(codes), alliance="test")


def stored_day_union(scope: str, month: date) -> BitMap64:
    end = (month + timedelta(days=32)).replace(day=1)
    blobs = ClaimantSet.objects.filter(
        scope=scope, period=ClaimantSet.Period.DAY, start__gte=month, start__lt=end
    ).values_list("residents", flat=True)
    out = BitMap64()
    for blob in blobs:
        out |= BitMap64.deserialize(bytes(blob))
    return out


def assert_month_rows_are_sums_of_their_days():
    """CityMonth, CityPairMonth and OfferMonth hold exactly their days' CityDay,
    CityPairDay and OfferDay rows summed."""
    counts = "claims, redemptions, cancelled, expired, revoked, uses"
    for table, dims in (
        ("citymonth", "dest_city_id, home_city_id, category"),
        ("citypairmonth", "dest_city_id, home_city_id, NULL"),
        ("offermonth", "dest_city_id, offer_id, merchant_id"),
    ):
        day_table = table.replace("month", "day")
        sums = ", ".join(f"SUM({c})::int" for c in counts.split(", "))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT day, {dims}, {counts} FROM incentives_{table} ORDER BY 1, 2, 3, 4"
            )
            months = cursor.fetchall()
            cursor.execute(
                f"SELECT date_trunc('month', day)::date, {dims}, {sums} "
                f"FROM incentives_{day_table} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            )
            assert months and months == cursor.fetchall(), table


def assert_months_are_unions_of_their_days():
    months = ClaimantSet.objects.filter(period=ClaimantSet.Period.MONTH)
    assert months.exists()
    for row in months:
        residents = BitMap64.deserialize(bytes(row.residents))
        assert residents == stored_day_union(row.scope, row.start), (row.scope, row.start)
        assert row.count == len(residents)


def test_set_pieces_cover_the_range_once():
    for d0, d1 in [
        (date(2025, 12, 7), date(2026, 12, 6)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 2, 15), date(2026, 3, 10)),
        (date(2026, 3, 31), date(2026, 5, 1)),
        (date(2026, 4, 9), date(2026, 4, 9)),
    ]:
        months, runs = set_pieces(d0, d1)
        covered = []
        for m in months:
            end = (m + timedelta(days=32)).replace(day=1)
            covered += [m + timedelta(days=i) for i in range((end - m).days)]
        for lo, hi in runs:
            covered += [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
        want = [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]
        assert sorted(covered) == want, (d0, d1)
    assert set_pieces(date(2025, 12, 7), date(2026, 12, 6))[0][0] == date(2026, 1, 1)
    assert len(set_pieces(date(2025, 12, 7), date(2026, 12, 6))[0]) == 11


@pytest.fixture
def built(cities):
    h = build_history(count=500, seed=27)
    rebuild_rollups(date_from=h.first_day - timedelta(days=1), date_to=h.today)
    return h


@for_any_range(WINDOW_DAYS, SCOPES, examples=80)
def test_distinct_residents_equal_count_distinct_over_the_raw_vouchers(built, start, length, scope):
    d0, d1 = range_of(built, start, length)
    got = unique_residents(scope_of(scope, d0, d1))
    assert got == distinct_claimants(scope, d0, d1), (scope, d0, d1)


def test_the_whole_months_path_is_the_one_a_long_range_takes(built):
    months, runs = set_pieces(built.first_day, built.today)
    assert months and runs  # the window spans a whole calendar month and partial ones
    assert ClaimantSet.objects.filter(period=ClaimantSet.Period.MONTH, start=months[0]).exists()
    for codes in SCOPES:
        want = distinct_claimants(codes, built.first_day, built.today)
        assert unique_residents(scope_of(codes, built.first_day, built.today)) == want
    assert distinct_claimants(None, built.first_day, built.today) > 0
    assert_months_are_unions_of_their_days()


def test_new_and_backdated_claims_reach_the_sets_through_the_refresh(built):
    today, first = built.today, built.first_day
    newcomer = f.resident("320500")
    f.voucher(built.offers["hz-boat-1"], newcomer, timezone.now())  # today
    backdated = timezone.now() - timedelta(days=25)
    late = f.resident("460100")
    f.voucher(built.offers["sh-museum-1"], late, backdated)
    whole = Scope("330100", first, today)
    before = unique_residents(whole)
    assert before == distinct_claimants(("330100",), first, today) - 1  # not yet counted

    refresh_recent_rollups()  # today and yesterday
    assert unique_residents(whole) == distinct_claimants(("330100",), first, today)
    back_day = backdated.astimezone(TZ).date()
    on_back_day = Scope("310100", back_day, back_day)
    assert unique_residents(on_back_day) == distinct_claimants(("310100",), back_day, back_day) - 1

    mark_days_dirty(days=[back_day])
    refresh_recent_rollups()
    assert_month_rows_are_sums_of_their_days()
    for codes in SCOPES:
        for d0, d1 in [(first, today), (back_day, back_day), (back_day, today)]:
            got = unique_residents(scope_of(codes, d0, d1))
            assert got == distinct_claimants(codes, d0, d1), (codes, d0, d1)
    assert_months_are_unions_of_their_days()


def test_partial_rebuilds_keep_months_equal_to_their_days(built):
    first, today = built.first_day, built.today
    # claims back-filled in the middle, then only some days rebuilt, in small chunks
    middle = timezone.now() - timedelta(days=20)
    f.voucher(built.offers["hk-hotel-1"], built.residents[3], middle)
    f.voucher(built.offers["hz-food-1"], f.resident("330100"), middle)
    day = middle.astimezone(TZ).date()
    rebuild_rollups(
        date_from=day - timedelta(days=2), date_to=day + timedelta(days=1), chunk_days=2
    )
    assert_months_are_unions_of_their_days()
    assert_month_rows_are_sums_of_their_days()
    for codes in SCOPES:
        assert unique_residents(scope_of(codes, first, today)) == distinct_claimants(
            codes, first, today
        )
    # the summary serves the same figure
    got = summary(scope=Scope("460100", first, today))["unique_residents"]
    assert got == distinct_claimants(("460100",), first, today)


def test_a_rebuild_of_days_without_claims_leaves_no_set(cities):
    today = timezone.now().astimezone(TZ).date()
    rebuild_rollups(date_from=today - timedelta(days=40), date_to=today)
    assert not ClaimantSet.objects.exists()
    assert unique_residents(Scope(None, today - timedelta(days=40), today)) == 0
