"""seed_demo: merchants, stations, staff logins and offers; the README's "Try it" flow."""

import io

import pytest
from django.core.management import call_command

from merchants.demo import demo_credit_code
from merchants.models import Category, Merchant, Offer, Station
from merchants.validators import parse_credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_codes_are_valid():
    for serial in range(1, 30):
        parse_credit_code(demo_credit_code("330100", serial))


def test_seed_is_complete_and_idempotent(demo):
    counts = (Merchant.objects.count(), Offer.objects.count(), Station.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Merchant.objects.count(), Offer.objects.count(), Station.objects.count()) == counts
    assert counts[0] >= 12 and counts[1] >= 20 and counts[2] >= 3
    for merchant in Merchant.objects.all():
        parse_credit_code(merchant.credit_code)
    assert Merchant.objects.values("city").distinct().count() >= 5
    assert {"330100", "460100", "310100"} <= set(Merchant.objects.values_list("city", flat=True))
    assert set(Offer.objects.values_list("category", flat=True)) == set(Category.values)
    assert set(Offer.objects.values_list("benefit_type", flat=True)) == set(
        Offer.BenefitType.values
    )
    huangpu = Station.objects.get(name="黄浦站", city_id="310100")
    assert huangpu.merchants.count() >= 3
    statuses = list(Offer.objects.values_list("status", flat=True))
    assert statuses.count("submitted") == 1 and statuses.count("rejected") == 1
    assert statuses.count("published") >= 20
    assert Offer.objects.get(status="rejected").rejection_reason


def test_try_it_flow(demo, client, api_client):
    """A merchant adds an offer in admin and submits it; city staff publish; the API shows it."""
    from accounts.models import User
    from tests.merchants.test_admin import form_data

    merchant_user = User.objects.get(phone="13600000001")
    merchant = merchant_user.merchant_membership.merchant
    assert merchant.city_id == "330100"
    client.force_login(merchant_user)
    res = client.post(
        "/admin/merchants/offer/add/", form_data(merchant=merchant, title="演示新优惠")
    )
    assert res.status_code == 302
    offer = Offer.objects.get(title="演示新优惠")
    client.post(
        "/admin/merchants/offer/", {"action": "submit_selected", "_selected_action": [offer.pk]}
    )
    assert api_client.get(f"/api/v1/offers/{offer.pk}").status_code == 404

    client.force_login(User.objects.get(phone="13900000001"))
    client.post(
        "/admin/merchants/offer/", {"action": "publish_selected", "_selected_action": [offer.pk]}
    )
    res = api_client.get("/api/v1/offers", {"q": "演示新优惠"})
    assert [o["id"] for o in res.json()["results"]] == [offer.pk]


def test_demo_merchant_staff_can_log_in_to_admin(demo, client):
    from accounts.demo import DEMO_PASSWORD

    for phone in ["13600000001", "13600000002"]:
        assert client.login(phone=phone, password=DEMO_PASSWORD)
        assert client.get("/admin/merchants/offer/").status_code == 200
