"""The English mode names no place or scheme in Chinese (issue 23): every partner city's
scheme has an English name in the reference data, and a merchant's district and its
stations come with Hanyu Pinyin names on the offers."""

import pytest

from accounts.credit.conversion import DEMO_SCHEMES
from accounts.credit.grades import DEMO_GRADE_SCHEMES
from accounts.reference import SCHEME_NAMES_EN, load_reference_data
from incentives.offers.place_names import english_place

pytestmark = pytest.mark.django_db


def test_every_scheme_has_an_english_name(api_client):
    names = {spec["name"] for spec in (*DEMO_SCHEMES, *DEMO_GRADE_SCHEMES)}
    assert names <= set(SCHEME_NAMES_EN)
    load_reference_data()
    for city in api_client.get("/api/v1/cities", {"page_size": 100}).json()["results"]:
        scheme = city["scheme"]
        assert scheme["name_en"] == SCHEME_NAMES_EN[scheme["name"]]
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in scheme["name_en"]), scheme


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("西湖区", "Xihu District"),
        ("上城区", "Shangcheng District"),
        ("西湖站", "Xihu Station"),
        ("桐庐县", "Tonglu County"),
        ("外滩", "Waitan"),
        ("Pudong", "Pudong"),
        ("", ""),
    ],
)
def test_places_in_english(chinese, english):
    assert english_place(chinese) == english


def test_offers_carry_the_english_of_district_and_stations(api_client):
    from django.utils import timezone

    from tests.merchants.factories import MerchantFactory, OfferFactory, StationFactory

    load_reference_data()
    merchant = MerchantFactory(city_id="330100", district="西湖区")
    StationFactory(city_id="330100", name="西湖站").merchants.add(merchant)
    offer = OfferFactory(merchant=merchant, status="published", published_at=timezone.now())
    row = next(r for r in api_client.get("/api/v1/offers").json()["results"] if r["id"] == offer.pk)
    detail = api_client.get(f"/api/v1/offers/{offer.pk}").json()
    for data in (row, detail):
        assert data["merchant"]["district_en"] == "Xihu District"
        assert data["stations"][0]["name_en"] == "Xihu Station"
