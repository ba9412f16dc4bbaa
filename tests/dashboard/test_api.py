"""The dashboard API: who may call it, whose figures they get, parameter checks, the
meaning of the live counts, labels, and a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incentives.dashboard.rollup import rebuild_rollups
from merchants.models import Merchant, Offer
from tests.conftest import bearer

from . import factories as f

pytestmark = pytest.mark.django_db

ENDPOINTS = ("summary", "series", "breakdown", "flows")


def get(client, user, path, **params):
    headers = bearer(user) if user is not None else {}
    return client.get(f"/api/v1/dashboard/{path}", params, **headers)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_residents_and_merchant_staff_are_refused(path, api_client, resident, merchant_user):
    for user in (resident, merchant_user):
        response = get(api_client, user, path)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    response = get(api_client, None, path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_city_staff_may_not_name_another_city(path, api_client, staff):
    assert get(api_client, staff["330100"], path, city="460100").status_code == 403
    assert get(api_client, staff["330100"], path, city="330100").status_code == 200


def test_superuser_picks_a_city_or_sees_all(history, staff, admin_user, api_client):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    params = {"date_from": history.first_day.isoformat()}
    all_cities = get(api_client, admin_user, "summary", **params).json()
    per_city = [
        get(api_client, admin_user, "summary", city=c, **params).json()
        for c in ("330100", "460100", "310100")
    ]
    assert all_cities["city"] is None
    assert all_cities["claims"] == sum(s["claims"] for s in per_city) > 0
    # one resident may claim in several cities: counted once over all cities
    assert all_cities["unique_residents"] <= sum(s["unique_residents"] for s in per_city)
    mine = get(api_client, staff["330100"], "summary", **params).json()
    assert mine == per_city[0]
    response = get(api_client, admin_user, "summary", city="999999")
    assert response.status_code == 400
    assert "city" in response.json()["error"]["detail"]


def test_scope_of_breakdowns_and_flows(cities, staff, api_client):
    hz = f.offer(f.merchant("330100", "scenic"))
    hk = f.offer(f.merchant("460100", "hotel"))
    hz_res, hk_res, sh_res = (f.resident(c) for c in ("330100", "460100", "310100"))
    now = timezone.now()
    f.voucher(hz, hz_res, now)  # Hangzhou resident at home
    f.voucher(hz, hk_res, now)  # Haikou visitor in Hangzhou
    f.voucher(hz, sh_res, now, status="redeemed", redeemed_at=now)  # Shanghai visitor
    f.voucher(hk, hz_res, now)  # Hangzhou resident in Haikou
    f.voucher(hk, hk_res, now)  # nothing to do with Hangzhou
    today = now.astimezone(timezone.get_default_timezone()).date()
    rebuild_rollups(date_from=today, date_to=today)

    hz_staff = staff["330100"]
    homes = get(api_client, hz_staff, "breakdown", by="home_city").json()
    assert {r["key"]: r["claims"] for r in homes} == {"330100": 1, "460100": 1, "310100": 1}
    shanghai = next(r for r in homes if r["key"] == "310100")
    assert shanghai["label"] == "上海" and shanghai["redemption_rate"] == 1.0
    flows = get(api_client, hz_staff, "flows").json()
    assert {(r["home_city"], r["dest_city"]): r["claims"] for r in flows} == {
        ("330100", "330100"): 1,
        ("460100", "330100"): 1,
        ("310100", "330100"): 1,
        ("330100", "460100"): 1,
    }
    assert get(api_client, hz_staff, "summary").json()["claims"] == 3
    offers = get(api_client, hz_staff, "breakdown", by="offer").json()
    assert [(r["key"], r["claims"]) for r in offers] == [(str(hz.pk), 3)]
    hk_flows = get(api_client, staff["460100"], "flows").json()
    assert {(r["home_city"], r["dest_city"]) for r in hk_flows} == {
        ("460100", "330100"),
        ("330100", "460100"),
        ("460100", "460100"),
    }
    # a city with residents but no offers sees its residents' flows and nothing else
    sh_staff = staff["310100"]
    assert get(api_client, sh_staff, "summary").json()["claims"] == 0
    sh_flows = get(api_client, sh_staff, "flows").json()
    assert [(r["home_city"], r["dest_city"], r["redemptions"]) for r in sh_flows] == [
        ("310100", "330100", 1)
    ]


def test_labels_follow_the_request_language(cities, staff, api_client):
    m = f.merchant("330100", "hotel", name="湖滨酒店")
    o = f.offer(m, title="住一晚送早餐", title_en="Breakfast with a night")
    now = timezone.now()
    f.voucher(o, f.resident("460100"), now)
    today = now.astimezone(timezone.get_default_timezone()).date()
    rebuild_rollups(date_from=today, date_to=today)
    user = staff["330100"]
    zh = {
        b: get(api_client, user, "breakdown", by=b).json()[0]["label"]
        for b in ("category", "merchant", "offer", "home_city")
    }
    assert zh == {
        "category": "酒店住宿",
        "merchant": "湖滨酒店",
        "offer": "住一晚送早餐",
        "home_city": "海口",
    }
    en = api_client.get(
        "/api/v1/dashboard/breakdown", {"by": "offer"}, HTTP_ACCEPT_LANGUAGE="en", **bearer(user)
    ).json()
    assert en[0]["label"] == "Breakfast with a night"
    en = api_client.get("/api/v1/dashboard/flows", HTTP_ACCEPT_LANGUAGE="en", **bearer(user)).json()
    assert en[0]["home_city_name"] == "Haikou"


def test_active_offers_and_merchants_are_live_counts_of_the_city(cities, staff, api_client):
    now = timezone.now()
    m1 = f.merchant("330100")
    m2 = f.merchant("330100")
    f.merchant("330100", status=Merchant.Status.SUSPENDED)
    f.merchant("460100")
    f.offer(m1)  # published, valid now
    f.offer(m2, valid_from=now - timedelta(days=90), valid_until=now - timedelta(days=60))
    f.offer(m1, status=Offer.Status.DRAFT)
    f.offer(m1, status=Offer.Status.PAUSED)
    f.offer(f.merchant("460100"))
    credit = f.offer(m2, status=Offer.Status.PAUSED)
    Offer.objects.filter(pk=credit.pk).update(credit_paused_at=now)
    f.offer(
        m1,
        status=Offer.Status.PAUSED,
        valid_from=now - timedelta(days=5),
        valid_until=now - timedelta(days=1),
    )  # over
    f.offer(f.merchant("460100"), status=Offer.Status.PAUSED)
    summary = get(api_client, staff["330100"], "summary").json()
    assert (summary["active_offers"], summary["merchants"]) == (1, 2)
    assert (summary["paused_offers"], summary["credit_paused_offers"]) == (2, 1)
    old = (now - timedelta(days=75)).date().isoformat()
    summary = get(api_client, staff["330100"], "summary", date_from=old, date_to=old).json()
    assert summary["active_offers"] == 1  # the offer valid back then
    assert summary["claims"] == 0 and summary["redemption_rate"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026/01/01"}, "date_from"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_from"),
        ({"date_from": "2020-01-01", "date_to": "2023-01-01"}, "date_to"),  # 1097 days
        ({"date_from": "1999-12-31", "date_to": "2000-01-02"}, "date_from"),
        ({"date_to": "2100-01-01"}, "date_to"),
        ({"city": "hangzhou"}, "city"),
    ],
)
def test_bad_parameters_are_invalid_request(params, field, admin_user, api_client):
    for path in ENDPOINTS:
        response = get(api_client, admin_user, path, **params)
        assert response.status_code == 400, (path, params)
        body = response.json()["error"]
        assert body["code"] == "invalid_request" and field in body["detail"]


def test_bad_interval_and_by(admin_user, api_client):
    assert get(api_client, admin_user, "series", interval="year").status_code == 400
    assert get(api_client, admin_user, "breakdown", by="resident").status_code == 400


def test_default_range_is_the_last_30_days_and_3_years_is_the_limit(admin_user, api_client):
    body = get(api_client, admin_user, "summary").json()
    today = timezone.localdate()
    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - timedelta(days=29)).isoformat()
    ok = get(api_client, admin_user, "summary", date_from="2020-01-01", date_to="2022-12-31")
    assert ok.status_code == 200  # 1096 days
    rows = get(
        api_client,
        admin_user,
        "series",
        date_from="2026-01-28",
        date_to="2026-03-03",
        interval="month",
    ).json()
    assert [(r["period"], r["start"], r["end"]) for r in rows] == [
        ("2026-01-01", "2026-01-28", "2026-01-31"),
        ("2026-02-01", "2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-01", "2026-03-03"),
    ]
    weeks = get(
        api_client,
        admin_user,
        "series",
        date_from="2026-11-25",
        date_to="2026-12-07",
        interval="week",
    ).json()
    assert [r["period"] for r in weeks] == ["2026-11-23", "2026-11-30", "2026-12-07"]
    assert len(get(api_client, admin_user, "series").json()) == 30


@pytest.mark.parametrize(
    ("path", "params", "queries"),
    [
        ("summary", {}, 10),  # paused (15), offline conflicts (16), refusals + incidents (14)
        ("series", {"interval": "week"}, 2),
        ("breakdown", {"by": "category"}, 2),
        ("breakdown", {"by": "merchant"}, 3),
        ("breakdown", {"by": "offer"}, 3),
        ("breakdown", {"by": "home_city"}, 3),
        ("breakdown", {"by": "scenario"}, 2),
        ("breakdown", {"by": "station"}, 2),  # no station in this history: no labels
        ("breakdown", {"by": "refusal_reason"}, 2),
        ("flows", {}, 3),
    ],
)
def test_a_fixed_number_of_queries_whatever_the_data(
    path, params, queries, history, staff, api_client, django_assert_num_queries
):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    params = {"date_from": history.first_day.isoformat(), **params}
    # 1 query loads the caller (JWT), the rest are the selector's
    with django_assert_num_queries(queries):
        assert get(api_client, staff["330100"], path, **params).status_code == 200
    f.voucher(history.offers["hz-food-1"], f.resident("350200"), timezone.now())
    rebuild_rollups(date_from=history.today, date_to=history.today)
    with django_assert_num_queries(queries):
        assert get(api_client, staff["330100"], path, **params).status_code == 200
