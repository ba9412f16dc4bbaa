"""Browsing offers as a resident: eligibility and reasons on every offer, `eligible=true`
filtered in the database, ranking, and a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incentives.models import ClaimTally
from tests.incentives.conftest import client_for, make_resident, publish
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(world):
    hz = MerchantFactory(city_id="330100", name="杭州景区")
    hk = MerchantFactory(city_id="460100", name="海口酒店", category="hotel")
    soon = timezone.now() + timedelta(days=2)
    return {
        "open": publish(merchant=hz, min_tier="", title="人人可领"),
        "excellent": publish(merchant=hz, min_tier="excellent", title="优秀专享"),
        "visitors": publish(merchant=hz, min_tier="", home_city_rule="visitors", title="游客专享"),
        "haikou_soon": publish(merchant=hk, min_tier="good", valid_until=soon, title="海口良好"),
        "haikou_late": publish(merchant=hk, min_tier="good", title="海口良好晚"),
    }


def test_each_offer_carries_the_residents_eligibility(shelf):
    good_hz = make_resident("330100", 650)
    rows = client_for(good_hz).get("/api/v1/offers?page_size=50").json()["results"]
    by_title = {r["title"]: r["eligibility"] for r in rows}
    assert by_title["人人可领"] == {"eligible": True, "reasons": []}
    assert by_title["优秀专享"] == {"eligible": False, "reasons": ["tier_too_low"]}
    assert by_title["游客专享"] == {"eligible": False, "reasons": ["home_city_not_eligible"]}
    assert by_title["海口良好"]["eligible"] is True
    # eligible first, then the home city's offers, then closing soonest
    titles = [r["title"] for r in rows]
    assert titles.index("优秀专享") > max(titles.index(t) for t in ("人人可领", "海口良好"))
    assert titles.index("海口良好") < titles.index("海口良好晚")


def test_eligible_true_filters_in_the_database(shelf):
    visitor = make_resident("460100", 800)
    rows = client_for(visitor).get("/api/v1/offers?eligible=true").json()
    assert {r["title"] for r in rows["results"]} == {
        "人人可领",
        "优秀专享",
        "游客专享",
        "海口良好",
        "海口良好晚",
    }
    listed = make_resident("460100", 800, listed=True)
    res = client_for(listed).get("/api/v1/offers?eligible=true").json()
    assert res["count"] == 0
    everything = client_for(listed).get("/api/v1/offers").json()["results"]
    assert all(r["eligibility"]["reasons"] == ["seriously_dishonest"] for r in everything)


def test_near_ranks_the_chosen_city_first(shelf):
    rows = client_for(make_resident("330100", 800)).get("/api/v1/offers?near=460100").json()
    assert rows["results"][0]["merchant"]["city"]["code"] == "460100"


def test_anonymous_browsing_has_no_eligibility_and_cannot_filter_by_it(shelf, api_client):
    rows = api_client.get("/api/v1/offers").json()["results"]
    assert rows and all("eligibility" not in r for r in rows)
    res = api_client.get("/api/v1/offers?eligible=true")
    assert res.status_code == 403


def test_detail_explains_eligibility(shelf):
    res = client_for(make_resident("330100", 560)).get(f"/api/v1/offers/{shelf['excellent'].pk}")
    assert res.json()["eligibility"] == {"eligible": False, "reasons": ["tier_too_low"]}


@pytest.mark.parametrize("eligible", ["", "&eligible=true"])
def test_query_count_does_not_grow_with_offers_or_page_size(
    world, django_assert_num_queries, eligible
):
    resident = make_resident("330100", 800)
    client = client_for(resident)
    merchant = MerchantFactory(city_id="330100")
    publish(merchant=merchant, min_tier="")

    def count(page_size: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            res = client.get(f"/api/v1/offers?page_size={page_size}{eligible}")
        assert res.status_code == 200
        return len(ctx.captured_queries)

    count(5)  # the resident's equivalents are cached after their first page
    few = count(5)
    for i in range(40):
        other = MerchantFactory(city_id="460100" if i % 2 else "330100")
        offer = publish(merchant=other, min_tier="", home_city_rule="listed" if i % 3 else "all")
        offer.eligible_home_cities.set(["330100", "310100"])
    assert count(5) == few
    assert count(50) == few
    assert few <= 7


def test_queries_per_claim_and_per_redemption_are_small_and_fixed(
    world, django_assert_max_num_queries
):
    from tests.merchants.factories import merchant_staff

    merchant = MerchantFactory(city_id="330100")
    offer = publish(merchant=merchant, min_tier="good", total_quota=50, per_resident_limit=3)
    offer.eligible_home_cities.set(["330100"])
    resident = make_resident("330100", 800)
    clerk = merchant_staff(merchant)
    claimer, scanner = client_for(resident), client_for(clerk)
    tokens = []
    for _ in range(2):
        with django_assert_max_num_queries(15):
            res = claimer.post(f"/api/v1/offers/{offer.pk}/claim")
        assert res.status_code == 201
        tokens.append(res.json()["token"])
    for token in tokens:
        with django_assert_max_num_queries(2):
            res = scanner.post("/api/v1/merchant/redemptions", {"token": token}, format="json")
        assert res.status_code == 201


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("as_resident", [True, False])
def test_list_rows_equal_the_documented_offer_shape(shelf, api_client, language, as_resident):
    """The list builds its rows directly (hot path); each must equal the serializer's
    answer for the same offer, as the detail endpoint gives it."""
    from tests.merchants.factories import StationFactory

    station = StationFactory(city_id="330100", name="西湖站")
    station.merchants.add(shelf["open"].merchant)
    shelf["open"].title_en = "For everyone"
    shelf["open"].save()
    shelf["haikou_soon"].home_city_rule = "listed"
    shelf["haikou_soon"].total_quota = None
    shelf["haikou_soon"].save()
    shelf["haikou_soon"].eligible_home_cities.set(["330100", "310100"])
    # every reason the list computes in SQL: a minimum score, a limit already reached
    shelf["excellent"].min_tier, shelf["excellent"].min_score = "", 700
    shelf["excellent"].save()
    holder = make_resident("330100", 650)
    ClaimTally.objects.create(offer=shelf["visitors"], resident=holder, held=1)
    client = client_for(holder) if as_resident else api_client
    rows = client.get("/api/v1/offers?page_size=50", HTTP_ACCEPT_LANGUAGE=language).json()
    assert rows["count"] == 5
    if as_resident:
        reasons = {r["title"]: r["eligibility"]["reasons"] for r in rows["results"]}
        assert reasons["优秀专享"] == ["score_too_low"]
        assert reasons["游客专享"] == ["home_city_not_eligible", "claim_limit_reached"]
    for row in rows["results"]:
        detail = client.get(f"/api/v1/offers/{row['id']}", HTTP_ACCEPT_LANGUAGE=language)
        assert row == detail.json()
    eligible = client.get("/api/v1/offers?eligible=true", HTTP_ACCEPT_LANGUAGE=language)
    if as_resident:
        for row in eligible.json()["results"]:
            assert row == client.get(f"/api/v1/offers/{row['id']}").json() | {
                "title": row["title"],
                "description": row["description"],
            }
