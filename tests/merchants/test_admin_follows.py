"""Admin pages that follow their object: an offer's page offers only the actions its
status allows this user, a voucher offer shows nothing about entitlements (and the
reverse); the incident list names scenarios; times are Beijing time; every model has a
name in both languages."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.utils import translation

from merchants import services
from merchants.models import Offer

from .factories import MerchantFactory, OfferFactory, city_staff, merchant_staff, superuser
from .test_admin import change_url, form_data
from .test_admin_home import back_office

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page_actions(page: str) -> set[str]:
    """The actions the change page's action menu offers."""
    menu = re.search(r'<select name="CHANGE_FORM-action".*?</select>', page, re.S)
    return set(re.findall(r'<option value="(\w+)"', menu.group(0))) - {""} if menu else set()


@pytest.fixture
def shop(cities):
    merchant = MerchantFactory(name="西湖游船", city_id="330100")
    return {"merchant": merchant, "clerk": merchant_staff(merchant), "city": city_staff("330100")}


def test_a_draft_lists_no_pause_or_resume(client, shop):
    draft = OfferFactory(merchant=shop["merchant"], status="draft")
    client.force_login(shop["clerk"])
    assert page_actions(client.get(change_url(draft), **ZH).content.decode()) == {"submit_selected"}


def test_each_status_offers_what_the_workflow_allows_the_user(client, shop):
    m = shop["merchant"]
    live = OfferFactory(merchant=m, status="published")
    paused = OfferFactory(merchant=m, status="paused")
    submitted = OfferFactory(merchant=m, status="submitted")
    client.force_login(shop["clerk"])
    assert page_actions(client.get(change_url(live)).content.decode()) == {"pause_selected"}
    assert page_actions(client.get(change_url(paused)).content.decode()) == {"resume_selected"}
    assert page_actions(client.get(change_url(submitted)).content.decode()) == {"withdraw_selected"}
    client.force_login(shop["city"])
    assert page_actions(client.get(change_url(submitted)).content.decode()) == {
        "publish_selected",
        "reject_selected",
        "end_selected",
    }
    assert page_actions(client.get(change_url(live)).content.decode()) == {
        "pause_selected",
        "end_selected",
    }
    # a change of terms waiting on a live offer: the city approves or rejects it there
    services.revise_offer(actor=shop["clerk"], offer=live, changes={"usage_notes": "新说明"})
    assert {"publish_selected", "reject_selected"} <= page_actions(
        client.get(change_url(live)).content.decode()
    )


def test_an_action_the_page_does_not_offer_is_not_taken(client, shop):
    draft = OfferFactory(merchant=shop["merchant"], status="draft")
    client.force_login(shop["clerk"])
    client.post(
        change_url(draft),
        {"CHANGE_FORM-action": "pause_selected", "_selected_action": [draft.pk]},
        **ZH,
    )
    draft.refresh_from_db()
    assert draft.status == Offer.Status.DRAFT


def test_a_voucher_offer_shows_no_entitlement_help_and_the_reverse(client, shop):
    voucher = OfferFactory(merchant=shop["merchant"], title="游船八折")
    entitlement = OfferFactory(
        merchant=shop["merchant"],
        title="免押金租船",
        kind="entitlement",
        scenario="travel",
        benefit_type="deposit_waiver",
        benefit_value=None,
        total_quota=None,
        limit_per_period=1,
        period="day",
    )
    client.force_login(shop["clerk"])
    page = client.get(change_url(voucher), **ZH).content.decode()
    assert 'name="limit_per_period"' not in page
    assert "优惠形式为“信用权益”时填写" not in page and "信用权益无需领取" not in page
    assert 'name="total_quota"' in page and 'name="voucher_lifetime_hours"' in page
    page = client.get(change_url(entitlement), **ZH).content.decode()
    assert 'name="limit_per_period"' in page and "优惠形式为“信用权益”时填写" in page
    assert 'name="total_quota"' not in page and 'name="voucher_lifetime_hours"' not in page
    assert 'name="per_resident_limit"' not in page and "剩余名额" not in page
    # the add page does not know the kind yet: both
    add = client.get("/admin/merchants/offer/add/", **ZH).content.decode()
    assert 'name="limit_per_period"' in add and 'name="total_quota"' in add


def test_an_entitlement_saves_without_the_voucher_fields(client, shop):
    entitlement = OfferFactory(
        merchant=shop["merchant"],
        title="免押金租船",
        kind="entitlement",
        scenario="travel",
        benefit_type="deposit_waiver",
        benefit_value=None,
        total_quota=None,
        limit_per_period=1,
        period="day",
    )
    client.force_login(shop["clerk"])
    data = form_data(entitlement, limit_per_period="2")
    for field in ("total_quota", "per_resident_limit", "voucher_lifetime_hours"):
        del data[field]  # not on an entitlement's page
    res = client.post(change_url(entitlement), data, **ZH)
    assert res.status_code == 302
    entitlement.refresh_from_db()
    assert entitlement.limit_per_period == 2 and entitlement.total_quota is None


def test_the_incident_list_names_scenarios_in_beijing_time(client, cities):
    office = back_office()
    client.force_login(office["reviewer"])
    for lang, name in ((ZH, "信易游"), (EN, "Travel")):
        page = client.get("/admin/incentives/incident/", **lang).content.decode()
        table = re.search(r'<table id="result_list">.*?</table>', page, re.S).group(0)
        assert f'<td class="field-scenario_name">{name}</td>' in table
        assert ">travel<" not in table
        # reported at 08:05 UTC = 16:05 in Beijing
        assert "2026-03-01 16:05" in table
    detail = client.get(f"/admin/incentives/incident/{office['incident'].pk}/change/", **ZH)
    text = detail.content.decode()
    assert "信易游" in text and ">travel<" not in text


def test_a_credit_pause_is_shown_in_beijing_time(client, shop):
    paused_at = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 04:30 the next day in Beijing
    Offer.objects.filter(
        pk=OfferFactory(merchant=shop["merchant"], status="paused", title="夜游").pk
    ).update(credit_paused_at=paused_at)
    client.force_login(shop["city"])
    page = client.get("/admin/merchants/offer/", **ZH).content.decode()
    assert "2026-03-02 04:30 起暂停" in page and "2026-03-01 20:30" not in page


def test_every_model_in_the_admin_has_a_name_in_both_languages(cities):
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for model in admin.site._registry:
        opts = model._meta
        with translation.override("zh-hans"):
            zh = [
                str(opts.verbose_name),
                str(opts.verbose_name_plural),
                str(opts.app_config.verbose_name),
            ]
        with translation.override("en"):
            en = [
                str(opts.verbose_name),
                str(opts.verbose_name_plural),
                str(opts.app_config.verbose_name),
            ]
        assert all(cjk.search(n) for n in zh), (opts.label, zh)
        assert not any(cjk.search(n) for n in en), (opts.label, en)


def test_the_token_models_are_named_in_chinese(client, cities):
    client.force_login(superuser())
    page = client.get("/admin/", **ZH).content.decode()
    assert "Blacklisted Tokens" not in page and "Outstanding Tokens" not in page
    assert "Blacklisted Tokens" in client.get("/admin/", **EN).content.decode()
