"""Offer cards never promise what the server refuses (issue 23): a sold-out offer and an
entitlement used up for the period say so, also under 只看我可领的; a refused tap refreshes
the card; entitlements speak of use, not of claiming; the toast never covers a button; a
place name never breaks inside itself on the phone."""

import pytest
from django.utils import timezone

from tests.merchants.factories import OfferFactory

from .resident_helpers import boxes_overlap, open_as, pass_token, ready_resident, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def card(page, offer):
    return page.locator(f"[data-test=offer][data-offer-id='{offer.pk}']")


@pytest.fixture
def shelf(programme):
    from tests.incentives.conftest import make_resident

    merchant = programme["merchant"]
    live = {"merchant": merchant, "status": "published", "published_at": timezone.now()}
    sold_out = OfferFactory(**live, title="已售罄的游船券", min_tier="", total_quota=1)
    last_one = OfferFactory(**live, title="最后一张的夜游券", min_tier="", total_quota=1)
    lane = OfferFactory(
        **live,
        kind="entitlement",
        title="信用通道·优先登船",
        benefit_type="priority_service",
        benefit_value=None,
        min_tier="",
        limit_per_period=1,
        period="day",
        total_quota=None,
    )
    other = make_resident(score=812)
    from tests.incentives.conftest import client_for

    assert client_for(other).post(f"/api/v1/offers/{sold_out.pk}/claim").status_code == 201
    resident = ready_resident()
    res = client_for(programme["clerk"]).post(
        "/api/v1/merchant/pass-checks",
        {"token": pass_token(resident), "offer_id": lane.pk},
        format="json",
    )
    assert res.status_code == 201  # today's one use of the lane is spent
    return {
        **programme,
        "sold_out": sold_out,
        "last_one": last_one,
        "lane": lane,
        "resident": resident,
    }


def test_sold_out_and_used_up_cards_say_so(live_server, phone, shots, shelf):
    page = phone()
    open_as(page, live_server.url, shelf["resident"], "#/offers")
    settle(page)
    sold = card(page, shelf["sold_out"])
    assert "已领完" in sold.inner_text()
    assert sold.locator("[data-test=eligible]").count() == 0
    assert sold.locator("[data-test=claim]").is_disabled()
    lane = card(page, shelf["lane"])
    text = lane.inner_text()
    assert "本周期使用次数已用完" in text and "暂不可用" in text
    assert "领取" not in text  # an entitlement is used, not claimed
    claimable = card(page, shelf["offer"])
    assert "您可领取" in claimable.inner_text()
    shots(page, "resident-offers-sold-out-used-up")

    page.check("[data-test=filter-eligible]")  # 只看我可领的
    settle(page)
    shown = set(
        page.locator("[data-test=offer]").evaluate_all(
            "cards => cards.map(c => Number(c.dataset.offerId))"
        )
    )
    assert shelf["sold_out"].pk not in shown and shelf["lane"].pk not in shown
    assert shelf["offer"].pk in shown
    shots(page, "resident-offers-eligible-only")


def test_an_entitlement_detail_speaks_of_use(live_server, phone, shots, shelf):
    page = phone()
    open_as(page, live_server.url, shelf["resident"], f"#/offers/{shelf['lane'].pk}")
    page.locator("[data-test=offer-detail]").wait_for()
    text = page.inner_text("[data-test=offer-detail]")
    assert "使用条件" in text and "领取条件" not in text and "您可领取" not in text
    shots(page, "resident-entitlement-detail")


def test_a_refused_tap_refreshes_the_card_and_the_toast_covers_no_button(
    live_server, phone, shots, shelf
):
    from tests.incentives.conftest import client_for, make_resident

    page = phone()
    open_as(page, live_server.url, shelf["resident"], "#/offers")
    settle(page)
    last = card(page, shelf["last_one"])
    assert "您可领取" in last.inner_text()
    # someone else takes the last place while the list is on the screen
    taker = make_resident(score=812)
    assert client_for(taker).post(f"/api/v1/offers/{shelf['last_one'].pk}/claim").status_code == 201
    last.locator("[data-test=claim]").click()
    card(page, shelf["last_one"]).locator("[data-test=not-eligible]").wait_for()
    refreshed = card(page, shelf["last_one"])
    assert "已领完" in refreshed.inner_text()
    assert "该优惠已领完" in refreshed.locator("[data-test=claim-refused]").inner_text()
    assert refreshed.locator("[data-test=claim]").is_disabled()
    refreshed.scroll_into_view_if_needed()
    # the same refusal on the offer's own screen: the toast is in the flow, over no button
    page.goto(f"{live_server.url}/m/#/offers/{shelf['offer'].pk}")
    page.locator("[data-test=offer-detail]").wait_for()
    from merchants.models import Offer

    # its last place goes while the resident reads it
    Offer.objects.filter(pk=shelf["offer"].pk).update(total_quota=1, claimed_count=1)
    page.click("[data-test=claim]")
    page.locator("#toast:not([hidden])").wait_for()
    assert "已领完" in page.inner_text("#toast")
    assert "已领完" in page.inner_text("[data-test=offer-detail] [data-test=not-eligible]")
    toast = page.locator("#toast").bounding_box()
    for button in page.locator("button:visible, a.btn:visible, .tabbar a:visible").all():
        box = button.bounding_box()
        if box:
            assert not boxes_overlap(toast, box), button.inner_text()
    shots(page, "resident-offers-refused-tap")


def test_place_names_never_break_inside_a_name(live_server, phone, shots, shelf):
    page = phone()
    for lang in ("zh-hans", "en"):
        open_as(page, live_server.url, shelf["resident"], "#/offers", lang=lang)
        settle(page)
        parts = page.locator("[data-test=offer-place] .nowrap")
        assert parts.count() >= 2
        lines = parts.evaluate_all("spans => spans.map(s => s.getClientRects().length)")
        assert set(lines) == {1}, lines
    shots(page, "resident-offers-en-places")
