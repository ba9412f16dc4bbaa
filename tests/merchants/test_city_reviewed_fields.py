"""What residents and exports show of a merchant is the city's word: merchant staff cannot
rename their merchant, change its credit code or city (admin and service alike), and a
revised offer title reaches nobody before the city has reviewed it again."""

import pytest

from core.errors import DomainError
from merchants import services
from merchants.models import Merchant

from .factories import MerchantFactory, OfferFactory, city_staff, merchant_staff, superuser

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return f"/admin/merchants/{obj._meta.model_name}/{obj.pk}/change/"


def merchant_form(merchant: Merchant, **over) -> dict:
    data = {
        "name": merchant.name,
        "credit_code": merchant.credit_code,
        "city": merchant.city_id,
        "district": merchant.district,
        "address": merchant.address,
        "category": merchant.category,
        "contact_phone": merchant.contact_phone,
        "latitude": "",
        "longitude": "",
        "status": merchant.status,
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1000",
    }
    data.update(over)
    return data


@pytest.fixture
def shop(cities):
    return MerchantFactory(name="西湖画舫", city_id="330100", credit_code="91350100M000100Y43")


def test_merchant_staff_see_name_code_and_city_read_only_in_admin(client, shop):
    client.force_login(merchant_staff(shop))
    page = client.get(change_url(shop))
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert not {"name", "credit_code", "city", "status"} & set(fields)
    assert "address" in fields  # what they do keep up to date
    res = client.post(
        change_url(shop),
        merchant_form(shop, name='=HYPERLINK("http://evil.example")', address="新地址 8 号"),
    )
    assert res.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.address) == ("西湖画舫", "新地址 8 号")


def test_city_staff_rename_merchants_of_their_city(client, shop):
    client.force_login(city_staff("330100"))
    res = client.post(change_url(shop), merchant_form(shop, name="西湖画舫游船"))
    assert res.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "西湖画舫游船"


@pytest.mark.parametrize(
    "changes",
    [{"name": "改名"}, {"credit_code": "91330100MA27XL0E2F"}, {"city_id": "460100"}],
)
def test_the_service_refuses_merchant_staff_city_fields(shop, changes):
    with pytest.raises(DomainError) as refused:
        services.update_merchant(actor=merchant_staff(shop), merchant=shop, changes=changes)
    assert refused.value.code == "permission_denied"
    fresh = Merchant.objects.get(pk=shop.pk)
    assert (fresh.name, fresh.credit_code, fresh.city_id) == (
        "西湖画舫",
        "91350100M000100Y43",
        "330100",
    )


def test_the_service_lets_city_staff_and_superusers_change_them(shop):
    services.update_merchant(actor=city_staff("330100"), merchant=shop, changes={"name": "甲"})
    services.update_merchant(actor=superuser(), merchant=shop, changes={"district": "上城区"})
    fresh = Merchant.objects.get(pk=shop.pk)
    assert (fresh.name, fresh.district) == ("甲", "上城区")
    with pytest.raises(DomainError):  # another city's staff
        services.update_merchant(actor=city_staff("460100"), merchant=shop, changes={"name": "乙"})


def test_a_revised_title_reaches_no_resident_before_re_review(shop, api_client):
    staff, reviewer = merchant_staff(shop), city_staff("330100")
    offer = OfferFactory(merchant=shop, title="游船八折", status="submitted")
    services.publish_offer(actor=reviewer, offer=offer)

    def seen() -> tuple[str, list[str]]:
        detail = api_client.get(f"/api/v1/offers/{offer.pk}").json()["title"]
        listed = [r["title"] for r in api_client.get("/api/v1/offers").json()["results"]]
        return detail, listed

    assert seen() == ("游船八折", ["游船八折"])
    services.revise_offer(actor=staff, offer=offer, changes={"title": '=HYPERLINK("x")'})
    # residents keep seeing the last approved terms, and may still claim under them
    assert seen() == ("游船八折", ["游船八折"])
    services.publish_offer(actor=reviewer, offer=offer)
    assert seen() == ('=HYPERLINK("x")', ['=HYPERLINK("x")'])
    offer.refresh_from_db()
    assert offer.terms_version == 2
