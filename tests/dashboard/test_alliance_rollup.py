"""An alliance's figures from the roll-ups equal a direct count over the raw vouchers of its
member cities (issue 26): every endpoint, every breakdown, flows only between members;
the counts are the sum of the members' own, residents who claimed in two members once."""

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Alliance, User
from accounts.reference import load_reference_data
from incentives.dashboard.rollup import rebuild_rollups
from tests.conftest import bearer
from tests.factories import PASSWORD, StaffFactory
from tests.merchants.factories import StationFactory, superuser

from . import factories as f
from .reference import KINDS, Raw

pytestmark = pytest.mark.django_db

# the history's offers are in 杭州, 海口 and 上海; its residents from those and 苏州
YRD = frozenset({"310100", "320100", "320200", "320500", "320600", "330100", "330200", "340100"})
TEN = frozenset(
    {"330100", "350200", "120100", "460100", "460200", "330200", "370100", "410100", "610800"}
    | {"420200"}
)
BREAKDOWNS = ("category", "merchant", "offer", "home_city", "scenario", "station")


_phones = itertools.count()


def alliance_staff(code: str) -> User:
    """An alliance staff login of the alliance `code` (no admin)."""
    return User.objects.create_user(
        f"1390009{next(_phones):04d}",
        PASSWORD,
        real_name="联盟工作人员",
        role=User.Role.ALLIANCE_STAFF,
        staff_alliance_id=code,
    )


@pytest.fixture
def alliances(cities):
    load_reference_data()
    return {a.code: a for a in Alliance.objects.all()}


@pytest.fixture
def stations(history):
    """Stations for the station breakdown: 画舫 in two, the 上海 museum in one."""
    west, lake = StationFactory(city_id="330100"), StationFactory(city_id="330100")
    west.merchants.set([history.merchants["hz-boat"], history.merchants["hz-hotel"]])
    lake.merchants.set([history.merchants["hz-boat"]])
    StationFactory(city_id="310100").merchants.set([history.merchants["sh-museum"]])


def _get(client, user, path, **params):
    response = client.get(f"/api/v1/dashboard/{path}", params, **bearer(user))
    assert response.status_code == 200, response.content
    return response.json()


def _counts(row):
    return {k: row[k] for k in KINDS}


def assert_alliance_matches(client, user, alliance, members, city, d0, d1):
    raw = Raw()
    params = {"date_from": d0.isoformat(), "date_to": d1.isoformat()}
    if user.is_superuser:
        params["alliance"] = alliance
    if city:
        params["city"] = city
    where = (alliance, city, d0, d1)

    summary = _get(client, user, "summary", **params)
    expected = raw.summary(city, d0, d1, members=members)
    assert {k: summary[k] for k in expected} == expected, where
    assert summary["alliance"] == alliance and summary["city"] == city
    assert summary["cities"] == sorted({city} if city else members)
    if city is None:
        # the counts are the sum of the members' own; a resident is counted once
        for kind in KINDS:
            assert summary[kind] == sum(raw.summary(c, d0, d1)[kind] for c in members), kind

    for interval in ("day", "week", "month"):
        rows = _get(client, user, "series", interval=interval, **params)
        got = [{"period": r["period"], **_counts(r)} for r in rows]
        assert got == raw.series(city, d0, d1, interval, members=members), (*where, interval)

    for by in BREAKDOWNS:
        rows = _get(client, user, "breakdown", by=by, **params)
        want = raw.breakdown(city, d0, d1, by, members=members)
        assert {r["key"]: _counts(r) for r in rows} == want, (*where, by)

    rows = _get(client, user, "flows", **params)
    got = {(r["home_city"], r["dest_city"]): _counts(r) for r in rows}
    assert got == raw.flows(city, d0, d1, members=members), where
    assert all(home in members and dest in members for home, dest in got)
    return summary


def _ranges(h):
    return [
        (h.first_day, h.today),
        (h.midnight_day, h.midnight_day),
        (h.midnight_day - timedelta(days=9), h.midnight_day + timedelta(days=1)),
        (h.today - timedelta(days=6), h.today),
    ]


def test_every_endpoint_of_an_alliance_equals_the_raw_count(
    history, stations, alliances, api_client
):
    # a resident who claims in two member cities (杭州 and 上海) is one claimant of the YRD
    twice, at = history.residents[0], timezone.now() - timedelta(days=3)
    f.voucher(history.offers["hz-boat-1"], twice, at)
    f.voucher(history.offers["sh-museum-1"], twice, at)
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    staff = {"yrd": alliance_staff("yrd"), "ten-cities": alliance_staff("ten-cities")}
    admin = superuser()
    raw = Raw()
    whole = raw.summary(None, history.first_day, history.today, members=YRD)
    per_city = [raw.summary(c, history.first_day, history.today) for c in YRD]
    assert whole["unique_residents"] < sum(s["unique_residents"] for s in per_city)
    # both alliances leave something out: 海口's offers (YRD), 上海's (ten cities)
    assert whole["claims"] < raw.summary(None, history.first_day, history.today)["claims"]
    for d0, d1 in _ranges(history):
        for code, members in (("yrd", YRD), ("ten-cities", TEN)):
            for user in (staff[code], admin):
                assert_alliance_matches(api_client, user, code, members, None, d0, d1)
        assert_alliance_matches(api_client, staff["yrd"], "yrd", YRD, "330100", d0, d1)
        assert_alliance_matches(api_client, admin, "ten-cities", TEN, "460100", d0, d1)


def test_a_member_city_narrowed_in_an_alliance_is_that_citys_figures_but_member_flows(
    history, alliances, api_client
):
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    yrd, city = alliance_staff("yrd"), StaffFactory(staff_city_id="330100")
    for path in ("summary", "series"):
        mine = _get(api_client, yrd, path, city="330100")
        theirs = _get(api_client, city, path)
        if path == "summary":
            for extra in ("alliance", "cities"):
                mine.pop(extra), theirs.pop(extra)
        assert mine == theirs
    # 杭州's staff see 海口's residents in 杭州 (海口 is no YRD member); the YRD does not
    theirs = {(r["home_city"], r["dest_city"]) for r in _get(api_client, city, "flows")}
    mine = {(r["home_city"], r["dest_city"]) for r in _get(api_client, yrd, "flows", city="330100")}
    assert ("460100", "330100") in theirs and mine == {p for p in theirs if set(p) <= YRD}


def test_the_member_list_is_read_when_asked(history, alliances, api_client):
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    yrd = alliance_staff("yrd")
    before = _get(api_client, yrd, "summary")
    assert "460100" not in before["cities"]
    alliances["yrd"].members.add("460100")
    after = _get(api_client, yrd, "summary")
    assert "460100" in after["cities"] and after["claims"] > before["claims"]
    d0, d1 = date.fromisoformat(after["date_from"]), date.fromisoformat(after["date_to"])
    assert after["claims"] == Raw().summary(None, d0, d1, members=YRD | {"460100"})["claims"]
