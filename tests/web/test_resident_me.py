"""我的 and the English mode (issue 23): 我的数据 is a readable page in Beijing time (the
JSON download stays); the 大字模式 switch is remembered; English names every city,
district, scheme and station in English; the pass's list of uses refreshes by itself."""

from zoneinfo import ZoneInfo

import pytest

from tests.incentives.conftest import client_for
from tests.merchants.factories import OfferFactory

from .resident_helpers import CJK, open_as, pass_token, ready_resident, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_my_data_is_a_readable_page_in_local_time(live_server, phone, shots, programme):
    resident = ready_resident()
    assert (
        client_for(resident).post(f"/api/v1/offers/{programme['offer'].pk}/claim").status_code
        == 201
    )
    page = phone()
    open_as(page, live_server.url, resident, "#/me/data")
    page.locator("[data-test=my-data]").wait_for()
    settle(page)
    assert page.locator("[data-test=my-data] pre").count() == 0  # no raw JSON
    profile = page.inner_text("[data-test=data-profile]")
    assert "手机号" in profile and "注册时间" in profile and "date_joined" not in profile
    joined = resident.date_joined.astimezone(SHANGHAI).strftime("%Y/%m/%d %H:%M")
    assert joined in profile  # Beijing time, not UTC
    vouchers = page.inner_text("[data-test=data-vouchers]")
    assert "可使用" in vouchers and "领取时间" in vouchers and "issued" not in vouchers
    assert page.get_attribute("[data-test=data-download]", "download") == "xinyou-my-data.json"
    shots(page, "resident-my-data")
    page.click("[data-test=lang-switch]")
    settle(page)
    profile = page.inner_text("[data-test=data-profile]")
    assert "Mobile number" in profile and "Registered" in profile and "Hangzhou" in profile
    shots(page, "resident-my-data-en")


def test_large_text_is_switched_in_me_and_remembered(live_server, phone, shots, programme):
    resident = ready_resident()
    page = phone()
    open_as(page, live_server.url, resident, "#/me")
    page.locator("[data-test=large-text]").wait_for()
    size = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    assert page.evaluate(size) == 16
    page.check("[data-test=large-text]")
    assert page.evaluate(size) >= 18
    assert page.evaluate("localStorage.getItem('xinyou.largeText')") == "1"
    page.reload()
    page.locator("[data-test=large-text]").wait_for()
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    assert page.is_checked("[data-test=large-text]")
    shots(page, "resident-me-large-text")
    page.uncheck("[data-test=large-text]")
    page.reload()
    page.locator("[data-test=large-text]").wait_for()
    assert not page.evaluate("document.documentElement.classList.contains('large-text')")


def test_english_mode_speaks_english(live_server, phone, shots, programme):
    resident = ready_resident()
    page = phone()
    open_as(page, live_server.url, resident, "#/me", lang="en")
    page.locator("[data-test=me-phone]").wait_for()
    assert page.inner_text("[data-test=me-phone]").startswith("Mobile number: ")
    shots(page, "resident-me-en")

    page.click("[data-test=tab-credit]")
    page.locator("[data-test=standing]").wait_for()
    standing = page.inner_text("[data-test=standing]")
    assert "Qianjiang Score" in standing and "钱江分" not in standing
    page.click("[data-test=eq-show-scores] >> nth=0")
    equivalents = page.inner_text("[data-test=equivalents]")
    assert not CJK.search(equivalents), equivalents  # cities and schemes in English
    shots(page, "resident-credit-en")

    page.click("[data-test=tab-offers]")
    settle(page)
    page.select_option("[data-test=filter-city]", "330100")
    settle(page)
    stations = page.locator("[data-test=filter-station] option").all_inner_texts()
    assert stations == ["All stations", "Xihu Station"]
    place = page.inner_text(f"[data-offer-id='{programme['offer'].pk}'] [data-test=offer-place]")
    assert place == "Xihu District, Hangzhou"
    shots(page, "resident-offers-en")

    page.click("[data-test=tab-pass]")
    page.locator("[data-test=pass-home-city]").wait_for()
    assert page.inner_text("[data-test=pass-home-city]") == "Hangzhou"


def test_the_pass_lists_a_new_use_without_leaving_the_tab(live_server, phone, shots, programme):
    resident = ready_resident()
    lane = OfferFactory(
        merchant=programme["merchant"],
        status="published",
        kind="entitlement",
        title="信用通道·优先登船",
        benefit_type="priority_service",
        benefit_value=None,
        min_tier="",
        limit_per_period=2,
        period="day",
        total_quota=None,
    )
    page = phone()
    open_as(page, live_server.url, resident, "#/pass")
    page.locator("[data-test=pass-qr]").wait_for()
    page.locator("[data-test=uses]").get_by_text("还没有", exact=False).or_(
        page.locator("[data-test=uses] p")
    ).first.wait_for()
    assert page.locator("[data-test=use]").count() == 0
    res = client_for(programme["clerk"]).post(
        "/api/v1/merchant/pass-checks",
        {"token": pass_token(resident), "offer_id": lane.pk},
        format="json",
    )
    assert res.status_code == 201
    page.locator("[data-test=use]").first.wait_for(timeout=12_000)  # no reload, no tab change
    assert "信用通道·优先登船" in page.inner_text("[data-test=uses]")
    shots(page, "resident-pass-uses-refreshed")
