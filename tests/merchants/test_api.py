"""GET /api/v1/offers and /api/v1/offers/{id}: what residents browse."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.models import Merchant, Offer

from .factories import MerchantFactory, OfferFactory, StationFactory, scheme

pytestmark = pytest.mark.django_db

LIST = "/api/v1/offers"


def published(**kw) -> Offer:
    return OfferFactory(status="published", published_at=timezone.now(), **kw)


@pytest.fixture
def catalogue(cities):
    hz = MerchantFactory(name="西湖游船", city_id="330100", category="scenic")
    hk = MerchantFactory(name="骑楼老街", city_id="460100", category="culture")
    station = StationFactory(name="西湖站", city_id="330100")
    station.merchants.add(hz)
    now = timezone.now()
    return {
        "boat": published(
            merchant=hz,
            title="游船八折",
            title_en="20% off boats",
            description="中文说明",
            description_en="English text",
            category="scenic",
        ),
        "tour": published(
            merchant=hk,
            title="老街导览",
            category="culture",
            benefit_type="free_entry",
            benefit_value=None,
            home_city_rule="listed",
        ),
        "draft": OfferFactory(merchant=hz, title="草稿优惠"),
        "submitted": OfferFactory(merchant=hz, title="待审优惠", status="submitted"),
        "paused": OfferFactory(merchant=hz, title="暂停优惠", status="paused"),
        "future": published(
            merchant=hz,
            title="未开始",
            valid_from=now + timedelta(days=1),
            valid_until=now + timedelta(days=9),
        ),
        "past": published(
            merchant=hz,
            title="已过期",
            valid_from=now - timedelta(days=9),
            valid_until=now - timedelta(seconds=1),
        ),
        "station": station,
        "hz": hz,
    }


def titles(res) -> set[str]:
    assert res.status_code == 200, res.content
    return {o["title"] for o in res.json()["results"]}


def test_only_published_offers_inside_their_dates_are_listed(api_client, catalogue):
    assert titles(api_client.get(LIST)) == {"游船八折", "老街导览"}


def test_suspended_merchants_offers_are_hidden(api_client, catalogue):
    Merchant.objects.filter(pk=catalogue["hz"].pk).update(status="suspended")
    assert titles(api_client.get(LIST)) == {"老街导览"}


def test_the_offer_shape(api_client, catalogue):
    catalogue["tour"].eligible_home_cities.set(["330100", "310100"])
    res = api_client.get(LIST, {"city": "460100"})
    assert res.json()["count"] == 1
    offer = res.json()["results"][0]
    assert offer["merchant"] == {
        "id": catalogue["tour"].merchant_id,
        "name": "骑楼老街",
        "city": {"code": "460100", "name": "海口"},
        "district": "西湖区",
        "district_en": "Xihu District",  # Hanyu Pinyin (incentives/offers/place_names.py)
        "address": "测试路 1 号",
        "category": "culture",
        "credit_grade": None,
        "trustworthy": False,
    }
    assert offer["eligibility_rule"] == {
        "min_tier": "good",
        "min_score": None,
        "min_grade": None,
        "honour": None,
        "scheme": None,
        "home_city_rule": "listed",
        "eligible_home_cities": ["310100", "330100"],
        "eligible_alliance": None,
    }
    assert offer["benefit_value"] is None and offer["benefit_type"] == "free_entry"
    assert offer["total_quota"] == 100 and offer["remaining_quota"] == 100
    assert offer["valid_from"].endswith("+08:00")
    assert "eligibility" not in offer  # only for residents, once vouchers exist


def test_money_is_a_decimal_string_and_stations_are_listed(api_client, catalogue):
    boat = api_client.get(f"{LIST}/{catalogue['boat'].pk}").json()
    assert boat["benefit_value"] == "20.00"
    assert boat["stations"] == [
        {"id": catalogue["station"].pk, "name": "西湖站", "name_en": "Xihu Station"}
    ]
    assert boat["terms_version"] == 1 and boat["per_resident_limit"] == 1


def test_min_score_comes_with_the_scheme_name(api_client, catalogue, cities):
    city = cities["330100"]
    city.scheme = scheme("钱江分")
    city.save()
    Offer.objects.filter(pk=catalogue["boat"].pk).update(min_tier="", min_score=650)
    rule = api_client.get(f"{LIST}/{catalogue['boat'].pk}").json()["eligibility_rule"]
    assert (rule["min_tier"], rule["min_score"], rule["scheme"]) == (None, 650, "钱江分")


def test_texts_follow_accept_language(api_client, catalogue):
    url = f"{LIST}/{catalogue['boat'].pk}"
    en = api_client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert (en["title"], en["description"]) == ("20% off boats", "English text")
    zh = api_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (zh["title"], zh["description"]) == ("游船八折", "中文说明")
    # no English text: the Chinese one
    tour = api_client.get(f"{LIST}/{catalogue['tour'].pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert tour["title"] == "老街导览"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"city": "330100"}, {"游船八折"}),
        ({"category": "culture"}, {"老街导览"}),
        ({"benefit_type": "percent_off"}, {"游船八折"}),
        ({"q": "骑楼"}, {"老街导览"}),
        ({"q": "boats"}, {"游船八折"}),
        ({"q": "八折"}, {"游船八折"}),
        ({"city": "310100"}, set()),
    ],
)
def test_filters(api_client, catalogue, params, expected):
    assert titles(api_client.get(LIST, params)) == expected


def test_station_filter(api_client, catalogue):
    assert titles(api_client.get(LIST, {"station": catalogue["station"].pk})) == {"游船八折"}


@pytest.mark.parametrize(
    "params",
    [
        {"category": "spa"},
        {"benefit_type": "half_price"},
        {"city": "999999"},
        {"city": "abc"},
        {"city": "33010\x00"},
        {"station": "999999"},
        {"station": "x"},
        {"q": "x" * 101},
        {"q": "a\x00b"},
        {"page_size": "101"},
        {"page": "0"},
    ],
)
def test_invalid_filter_values_are_400_not_ignored(api_client, catalogue, params):
    res = api_client.get(LIST, params)
    assert res.status_code == 400, res.content
    error = res.json()["error"]
    assert error["code"] == "invalid_request" and error["detail"]


@pytest.mark.parametrize("key", ["draft", "submitted", "paused", "future", "past"])
def test_unpublished_or_out_of_dates_offer_is_404(api_client, catalogue, key):
    res = api_client.get(f"{LIST}/{catalogue[key].pk}")
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_unknown_or_huge_id_is_404(api_client, catalogue):
    assert api_client.get(f"{LIST}/0").status_code == 404
    assert api_client.get(f"{LIST}/99999999999999999999999").status_code == 404


def test_a_resident_token_is_accepted_and_a_bad_one_refused(resident_client, api_client, catalogue):
    assert resident_client.get(LIST).status_code == 200
    res = api_client.get(LIST, HTTP_AUTHORIZATION="Bearer nonsense")
    assert res.status_code == 401 and res.json()["error"]["code"] == "not_authenticated"


def test_eligibility_hook_adds_a_field_per_offer(catalogue):
    from merchants.serializers import OfferOutput

    data = OfferOutput(
        catalogue["boat"], context={"eligibility": lambda o: {"eligible": True, "id": o.pk}}
    ).data
    assert data["eligibility"] == {"eligible": True, "id": catalogue["boat"].pk}


def many_offers(n: int, **kw) -> None:
    for i in range(n):
        station = StationFactory()
        merchant = MerchantFactory()
        station.merchants.add(merchant)
        offer = published(merchant=merchant, home_city_rule="listed", **kw)
        offer.eligible_home_cities.set(["310100", "460100"][: 1 + i % 2])


def test_list_runs_a_fixed_number_of_queries(api_client, cities, django_assert_num_queries):
    many_offers(1)
    # page ids with the total, page rows with their joins, home cities, stations
    with django_assert_num_queries(4):
        assert api_client.get(LIST, {"page_size": 5}).json()["count"] == 1
    many_offers(59)
    with django_assert_num_queries(4):
        assert len(api_client.get(LIST, {"page_size": 5}).json()["results"]) == 5
    with django_assert_num_queries(4):
        assert len(api_client.get(LIST, {"page_size": 50}).json()["results"]) == 50
    # a filter that validates against the database adds exactly one query
    with django_assert_num_queries(5):
        api_client.get(LIST, {"page_size": 50, "city": "330100"})


def test_detail_runs_a_fixed_number_of_queries(api_client, cities, django_assert_num_queries):
    many_offers(3)
    offer = Offer.objects.first()
    with django_assert_num_queries(3):  # offer with joins, home cities, stations
        api_client.get(f"{LIST}/{offer.pk}")


def test_stations_list_by_city(api_client, cities):
    from tests.merchants.factories import MerchantFactory, StationFactory

    station = StationFactory(city_id="310100", name="黄浦站")
    station.merchants.add(MerchantFactory(city_id="310100"), MerchantFactory(city_id="310100"))
    StationFactory(city_id="330100", name="西湖站")
    rows = api_client.get("/api/v1/stations?city=310100").json()["results"]
    assert [(r["name"], r["city"]["code"], r["merchant_count"]) for r in rows] == [
        ("黄浦站", "310100", 2)
    ]
    assert api_client.get("/api/v1/stations").json()["count"] == 2
    bad = api_client.get("/api/v1/stations?city=999999")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"


def test_pages_count_and_link_like_any_list(api_client, cities):
    many_offers(25)
    first = api_client.get(LIST, {"page_size": 10}).json()
    assert first["count"] == 25 and first["previous"] is None and "page=2" in first["next"]
    last = api_client.get(LIST, {"page_size": 10, "page": 3}).json()
    assert len(last["results"]) == 5 and last["next"] is None
    seen = {
        r["id"]
        for p in (1, 2, 3)
        for r in api_client.get(LIST, {"page_size": 10, "page": p}).json()["results"]
    }
    assert len(seen) == 25
    beyond = api_client.get(LIST, {"page_size": 10, "page": 4})
    assert beyond.status_code == 404 and beyond.json()["error"]["code"] == "not_found"
    empty_first = api_client.get(LIST, {"q": "no-such-offer"}).json()
    assert empty_first == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("station", ["99999999999999999999", "9223372036854775808", "0", "-1"])
def test_a_station_id_out_of_range_is_a_400_not_a_database_error(api_client, cities, station):
    res = api_client.get(LIST, {"station": station})
    assert (res.status_code, res.json()["error"]["code"]) == (400, "invalid_request")
