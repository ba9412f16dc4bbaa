"""Honours make exactly the offers that require them eligible (and never override the
dishonest flag); offers carry their merchant's credit grade and the 诚信商户 badge, and
the list filters to trustworthy merchants; list rows still equal the serializer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.credit.models import Honour
from merchants.models import Merchant
from tests.incentives.conftest import client_for, make_resident, publish
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def honour(resident, kind: str, *, city: str = "330100", days: int | None = 365) -> None:
    until = None if days is None else timezone.localdate() + timedelta(days=days)
    Honour.objects.create(city_id=city, person_hash=resident.id_hash, kind=kind, valid_until=until)


@pytest.fixture
def shelf(world):
    hz = MerchantFactory(city_id="330100", name="西湖景区")
    return {
        "plain": publish(merchant=hz, min_tier="good", title="良好可领"),
        "blood": publish(merchant=hz, min_tier="", required_honour="blood_donor", title="献血"),
        "samaritan": publish(
            merchant=hz, min_tier="", required_honour="good_samaritan", title="见义勇为"
        ),
        "blood_excellent": publish(
            merchant=hz, min_tier="excellent", required_honour="blood_donor", title="献血优秀"
        ),
    }


def verdicts(resident) -> dict[str, tuple[bool, list[str]]]:
    rows = client_for(resident).get("/api/v1/offers?page_size=50").json()["results"]
    return {r["title"]: (r["eligibility"]["eligible"], r["eligibility"]["reasons"]) for r in rows}


def test_honours_make_exactly_the_offers_requiring_them_eligible(shelf):
    donor, plain = make_resident(score=650), make_resident(score=650)
    honour(donor, "blood_donor")
    got = verdicts(donor)
    assert got["良好可领"] == (True, [])
    assert got["献血"] == (True, [])
    assert got["见义勇为"] == (False, ["honour_required"])
    assert got["献血优秀"] == (False, ["tier_too_low"])  # the honour adds, never lowers a bar
    for title in ("献血", "见义勇为"):
        assert verdicts(plain)[title] == (False, ["honour_required"])
    eligible = client_for(donor).get("/api/v1/offers?eligible=true").json()["results"]
    assert sorted(r["title"] for r in eligible) == ["献血", "良好可领"]


def test_honours_never_override_the_dishonest_flag(shelf):
    listed = make_resident(score=800, listed=True)
    honour(listed, "blood_donor")
    assert verdicts(listed)["献血"] == (False, ["seriously_dishonest"])
    res = client_for(listed).post(f"/api/v1/offers/{shelf['blood'].pk}/claim")
    assert res.status_code == 403
    assert res.json()["error"]["detail"]["reasons"] == ["seriously_dishonest"]


def test_lapsed_honours_and_other_cities_lists_do_not_count(shelf):
    lapsed, elsewhere = make_resident(score=650), make_resident(score=650)
    honour(lapsed, "blood_donor", days=-1)
    honour(elsewhere, "blood_donor", city="460100")  # not their home city's list
    for resident in (lapsed, elsewhere):
        assert verdicts(resident)["献血"] == (False, ["honour_required"])


def test_a_holder_claims_the_honour_offer_and_others_are_told_why_not(shelf):
    donor, plain = make_resident(score=650), make_resident(score=650)
    honour(donor, "blood_donor", days=None)
    assert client_for(donor).post(f"/api/v1/offers/{shelf['blood'].pk}/claim").status_code == 201
    refused = client_for(plain).post(f"/api/v1/offers/{shelf['blood'].pk}/claim")
    assert refused.status_code == 403
    assert refused.json()["error"]["detail"]["reasons"] == ["honour_required"]


def test_the_standing_shows_the_honours_in_force(shelf):
    donor = make_resident(score=650)
    honour(donor, "blood_donor", days=None)
    honour(donor, "volunteer", days=30)
    honour(donor, "model_worker", days=-3)
    standing = client_for(donor).get("/api/v1/me/credit").json()
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert standing["honours"] == [
        {"kind": "blood_donor", "valid_until": None},
        {"kind": "volunteer", "valid_until": until},
    ]
    assert standing["grade"] is None and isinstance(standing["score"], int)


def test_offers_carry_the_merchants_credit_and_filter_to_trustworthy_ones(shelf, api_client):
    a = shelf["plain"].merchant
    Merchant.objects.filter(pk=a.pk).update(credit_grade="A")
    listed_a = MerchantFactory(city_id="330100", name="失信 A 商户")
    Merchant.objects.filter(pk=listed_a.pk).update(credit_grade="A", seriously_dishonest=True)
    b = MerchantFactory(city_id="330100", name="B 商户")
    Merchant.objects.filter(pk=b.pk).update(credit_grade="B")
    publish(merchant=listed_a, min_tier="", title="失信商户的优惠")  # a sync would pause it
    publish(merchant=b, min_tier="", title="B 商户的优惠")
    rows = api_client.get("/api/v1/offers?page_size=50").json()["results"]
    by_title = {r["title"]: r["merchant"] for r in rows}
    assert (by_title["良好可领"]["credit_grade"], by_title["良好可领"]["trustworthy"]) == (
        "A",
        True,
    )
    assert by_title["失信商户的优惠"]["trustworthy"] is False
    assert (by_title["B 商户的优惠"]["credit_grade"], by_title["B 商户的优惠"]["trustworthy"]) == (
        "B",
        False,
    )
    for client in (api_client, client_for(make_resident(score=650))):
        only = client.get("/api/v1/offers?trustworthy=true&page_size=50").json()["results"]
        assert {r["merchant"]["id"] for r in only} == {a.pk}
        assert len(only) == 4
    bad = api_client.get("/api/v1/offers?trustworthy=maybe")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")


@pytest.mark.parametrize("as_resident", [True, False])
def test_rows_with_credit_grades_and_honours_equal_the_serializer(shelf, api_client, as_resident):
    Merchant.objects.filter(pk=shelf["plain"].merchant_id).update(credit_grade="A")
    client = api_client
    if as_resident:
        donor = make_resident(score=650)
        honour(donor, "blood_donor")
        client = client_for(donor)
    rows = client.get("/api/v1/offers?page_size=50").json()["results"]
    assert len(rows) == 4
    for row in rows:
        assert row == client.get(f"/api/v1/offers/{row['id']}").json()
    assert {r["eligibility_rule"]["honour"] for r in rows} == {
        None,
        "blood_donor",
        "good_samaritan",
    }
