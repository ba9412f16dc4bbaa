"""Admin in the admin's language and in the order a merchant needs: no English in the
Chinese admin (Django's new strings, the review history, the reject page), the
rejection reason at the top of a rejected offer, and when an approved offer goes live."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from merchants import services
from merchants.models import Offer

from .factories import MerchantFactory, OfferFactory, city_staff, merchant_staff
from .test_admin import CHANGELIST, change_url

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def shop(cities):
    merchant = MerchantFactory(name="西湖游船", city_id="330100")
    return {
        "merchant": merchant,
        "clerk": merchant_staff(merchant),
        "reviewer": city_staff("330100"),
    }


def test_the_offer_form_has_no_english_placeholder_in_chinese(client, shop):
    client.force_login(shop["clerk"])
    page = client.get("/admin/merchants/offer/add/", **ZH).content.decode()
    assert "Select an option" not in page
    assert "- 请选择 -" in page


def test_the_admin_scripts_speak_chinese_about_time_zones(client, shop):
    client.force_login(shop["clerk"])
    script = client.get("/admin/jsi18n/", **ZH).content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.S).group(1))
    for direction in ("ahead", "behind"):
        key = (
            "Note: Enter times in the %(timezone)s timezone. "
            f"(You are %(offset)s hour {direction}.)"
        )
        assert "北京时间" in catalog[key][0]
    assert catalog["Today (%(date)s)"] == "今天（%(date)s）"


def test_review_history_names_states_not_keys(client, shop):
    offer = OfferFactory(merchant=shop["merchant"], title="夜游八折")
    services.submit_offer(actor=shop["clerk"], offer=offer)
    client.force_login(shop["clerk"])
    page = client.get(change_url(offer), **ZH).content.decode()
    assert "草稿 → 待审核" in page
    assert "draft → submitted" not in page


def test_reject_page_has_admin_breadcrumbs_and_speaks_the_admins_language(client, shop):
    offer = OfferFactory(merchant=shop["merchant"], title="夜游八折")
    services.submit_offer(actor=shop["clerk"], offer=offer)
    client.force_login(shop["reviewer"])
    form = {"action": "reject_selected", "_selected_action": [offer.pk]}
    zh = client.post(CHANGELIST, form, **ZH).content.decode()
    assert '<ol class="breadcrumbs">' in zh and "确认驳回" in zh
    en = client.post(CHANGELIST, form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<ol class="breadcrumbs">' in en
    assert "确认驳回" not in en and "取消" not in en


def test_a_merchant_sees_the_rejection_reason_above_the_form(client, shop):
    offer = OfferFactory(merchant=shop["merchant"], title="夜游八折")
    services.submit_offer(actor=shop["clerk"], offer=offer)
    services.reject_offer(actor=shop["reviewer"], offer=offer, reason="请写明适用的船次。")
    client.force_login(shop["clerk"])
    page = client.get(change_url(offer), **ZH).content.decode()
    reason, title = page.index("请写明适用的船次。"), page.index('name="title"')
    assert reason < title
    assert "城市工作人员驳回了此优惠" in page


def test_an_offer_approved_before_its_start_says_when_it_goes_live(client, shop, api_client):
    start = timezone.now() + timedelta(days=3)
    offer = OfferFactory(
        merchant=shop["merchant"],
        title="下周开航",
        valid_from=start,
        valid_until=start + timedelta(days=30),
    )
    services.submit_offer(actor=shop["clerk"], offer=offer)
    client.force_login(shop["reviewer"])
    response = client.post(
        CHANGELIST,
        {"action": "publish_selected", "_selected_action": [offer.pk]},
        follow=True,
        **ZH,
    )
    at = f"{timezone.localtime(start):%Y-%m-%d %H:%M}"
    page = response.content.decode()
    assert f"《下周开航》将于开始时间 {at} 上线" in page
    assert f"将于 {at} 上线" in client.get(CHANGELIST, **ZH).content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED
    # ... and indeed residents do not see it before then
    assert api_client.get(f"/api/v1/offers/{offer.pk}").status_code == 404
