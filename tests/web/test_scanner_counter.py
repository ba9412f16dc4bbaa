"""The clerk at the counter (issue 23), in a 390×844 phone: result cards are never under
the sticky bars, a typo in a code's check character is called that, a pass check names
the masked holder before anything is applied and does not offer what is used up, the
history has dates for other days, an offline confirmation names the offer and holder
the device knows and turns into the synced outcome; axe-core finds nothing serious in
either language or in the large-text mode."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incentives.models import EntitlementUse
from tests.axe import serious_violations
from tests.browser import wait_until
from tests.conftest import bearer
from tests.incentives.conftest import make_resident, publish
from tests.incentives.test_passes import entitlement

from .test_offline import claim, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TZ = ZoneInfo("Asia/Shanghai")


def pass_token(resident) -> str:
    client = APIClient()
    client.credentials(**bearer(resident))
    res = client.get("/api/v1/me/credit/pass")
    assert res.status_code == 200, res.content
    return res.json()["token"]


def scanner(phone, live_server, programme, *, lang: str = "zh-hans", large: bool = False):
    page = phone()
    script = f"localStorage.setItem('xinyou.lang', '{'en' if lang == 'en' else 'zh-hans'}');"
    if large:  # the large-text mode (适老化): the class the 我的 switch sets on <html>
        script += (
            "localStorage.setItem('xinyou.largeText', '1');"
            "document.addEventListener('DOMContentLoaded', () =>"
            " document.documentElement.classList.add('large-text'));"
        )
    page.add_init_script(script)
    log_in(page, f"{live_server.url}/scan/", programme["clerk"].phone)
    page.locator("[data-test=today]").wait_for()
    page.locator("[data-test=pending][data-count='0']").wait_for()
    return page


def submit_code(page, code: str) -> None:
    page.fill("[data-test=code-input]", code)
    # from the bottom of the page, as a clerk who scrolled down to the history would
    page.evaluate("scrollTo(0, document.body.scrollHeight)")
    page.evaluate("document.querySelector('[data-test=manual-form]').requestSubmit()")


def paste(page, token: str) -> None:
    if not page.locator(".token-card[open]").count():
        page.click(".token-card summary")
    page.fill("[data-test=token-input]", token)
    page.evaluate("scrollTo(0, document.body.scrollHeight)")
    page.evaluate("document.querySelector('[data-test=token-form]').requestSubmit()")


def assert_card_in_view(page, card: str) -> None:
    """The card's ✓/✗ (or heading) is wholly below the app bar and the pending bar."""
    page.wait_for_timeout(100)
    head = page.locator(f"{card} .result-icon, {card} h2").first.bounding_box()
    bar = page.locator("[data-test=pending]").bounding_box()
    topbar = page.locator(".topbar").bounding_box()
    assert head is not None and bar is not None and topbar is not None
    assert head["y"] >= bar["y"] + bar["height"] - 0.5, (head, bar)
    assert head["y"] >= topbar["y"] + topbar["height"] - 0.5, (head, topbar)
    assert head["y"] + head["height"] <= 844, head


def test_a_wrong_check_character_is_called_a_failed_check_and_the_bar_covers_nothing(
    live_server, phone, shots, programme
):
    page = scanner(phone, live_server, programme)
    submit_code(page, "W8CH-PM77-PC")  # ten good characters, the last one wrong
    page.locator("[data-test=result-fail]").wait_for()
    reason = page.inner_text("[data-test=fail-reason]")
    assert "校验未通过" in reason and "10 位" not in reason
    assert page.evaluate("scrollY") > 0  # the page did scroll to the card
    assert_card_in_view(page, "[data-test=result-fail]")
    shots(page, "scan-23-01-check-failed")
    submit_code(page, "W8CH-PM7")  # too short: the length is the problem
    page.locator("[data-test=result-fail]").wait_for()
    assert "10 位" in page.inner_text("[data-test=fail-reason]")
    assert not phone.errors, phone.errors


def test_the_pass_check_names_the_holder_first_and_hides_what_is_used_up(
    live_server, phone, shots, programme
):
    merchant = programme["merchant"]
    once = entitlement(merchant, title="押金全免", limit_per_period=1)
    twice = entitlement(merchant, title="优先登船", limit_per_period=2, scenario="travel")
    holder = make_resident(real_name="钱江月")
    page = scanner(phone, live_server, programme)

    paste(page, pass_token(holder))
    page.locator("[data-test=pass-preview]").wait_for()
    # the masked holder and the ID's last four before anything is applied
    assert page.inner_text("[data-test=pass-holder]") == "钱*月"
    assert page.inner_text("[data-test=pass-id-last4]") == holder.id_last4
    assert not EntitlementUse.objects.exists()
    text = page.inner_text("[data-test=pass-preview]")
    assert text.index("钱*月") < text.index("押金全免")  # holder first, then the offers
    assert page.locator("[data-test=apply-offer]").count() == 2
    assert_card_in_view(page, "[data-test=pass-preview]")
    shots(page, "scan-23-02-pass-holder-first")
    page.click(f"[data-test=apply-offer][data-offer-id='{once.pk}']")
    page.locator("[data-test=use-ok]").wait_for()
    assert_card_in_view(page, "[data-test=use-ok]")
    page.click("[data-test=next]")

    # a fresh pass of the same person: 押金全免 is used up today, not offered
    paste(page, pass_token(holder))
    page.locator("[data-test=pass-preview]").wait_for()
    buttons = page.locator("[data-test=apply-offer]")
    assert buttons.count() == 1
    assert buttons.first.get_attribute("data-offer-id") == str(twice.pk)
    blocked = page.locator(f"[data-test=offer-unavailable][data-offer-id='{once.pk}']")
    assert blocked.get_attribute("data-reasons") == "usage_limit_reached"
    assert "1/1" in blocked.inner_text() and "次数已用完" in blocked.inner_text()
    shots(page, "scan-23-03-pass-used-up")
    assert not phone.errors, phone.errors


def test_history_has_dates_for_other_days(live_server, phone, shots, programme):
    merchant = programme["merchant"]
    offer = entitlement(merchant, title="押金全免", limit_per_period=5)
    holder = make_resident(real_name="钱江月")
    client = APIClient()
    client.credentials(**bearer(programme["clerk"]))
    for _ in range(2):
        res = client.post(
            "/api/v1/merchant/pass-checks",
            {"token": pass_token(holder), "offer_id": offer.pk},
            format="json",
        )
        assert res.status_code == 201, res.content
    old = timezone.now() - timedelta(days=95)
    first = EntitlementUse.objects.order_by("id").first()
    EntitlementUse.objects.filter(pk=first.pk).update(used_at=old)

    page = scanner(phone, live_server, programme)
    page.locator("[data-test=use-row]").nth(1).wait_for()
    old_row = page.inner_text("[data-test=use-row] >> nth=1")
    local = old.astimezone(TZ)
    assert f"{local:%Y}" in old_row and f"{local:%m/%d}" in old_row, old_row
    when_today = page.inner_text("[data-test=use-when] >> nth=0")
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", when_today), when_today  # today: time only
    page.locator("[data-test=uses-today]").scroll_into_view_if_needed()
    shots(page, "scan-23-04-history-dates")
    assert not phone.errors, phone.errors


def test_offline_confirmation_names_what_the_device_knows_and_turns_into_the_outcome(
    live_server, phone, shots, programme
):
    merchant = programme["merchant"]
    offer = publish(merchant=merchant, title="游船守信立减", min_tier="", per_resident_limit=5)
    holder = make_resident(real_name="钱江月")
    voucher = claim(holder, offer)
    unseen = claim(make_resident(), offer)
    page = scanner(phone, live_server, programme)
    page.locator(".key-live").wait_for()
    wait_until(page, "(localStorage.getItem('xinyou.scan.known') || '').includes('offers')")

    paste(page, voucher["token"])  # seen online once: the device keeps offer and holder
    page.locator("[data-test=preview]").wait_for()
    wait_until(page, "(localStorage.getItem('xinyou.scan.known') || '').includes('钱*月')")
    page.get_by_role("button", name="取消").click()

    page.context.set_offline(True)
    paste(page, voucher["token"])
    page.locator("[data-test=offline-preview]").wait_for()
    assert page.inner_text("[data-test=offline-offer]") == "游船守信立减"
    assert page.inner_text("[data-test=offline-holder]") == "钱*月"
    assert page.inner_text("[data-test=offline-id-last4]") == holder.id_last4
    assert page.inner_text("[data-test=offline-merchant]") == merchant.name
    shots(page, "scan-23-05-offline-confirm")
    page.click("[data-test=confirm-offline]")
    page.locator("[data-test=result-offline]").wait_for()
    assert "已离线核销，待同步" in page.inner_text("[data-test=result-offline]")
    assert_card_in_view(page, "[data-test=result-offline]")
    shots(page, "scan-23-06-offline-pending")
    page.click("[data-test=next]")

    paste(page, unseen["token"])  # never seen: the shop's offers, the holder not known
    page.locator("[data-test=offline-preview]").wait_for()
    assert "游船守信立减" in page.inner_text("[data-test=offline-offer]")
    assert "无法显示持券人" in page.inner_text("[data-test=offline-holder]")
    page.click("[data-test=confirm-offline]")
    page.locator("[data-test=result-offline]").wait_for()

    page.context.set_offline(False)  # back online: the card shows the synced outcome
    synced = page.locator("[data-test=result-synced][data-outcome=redeemed]")
    synced.wait_for()
    text = synced.inner_text()
    assert "待同步" not in text and "已同步" in text
    assert_card_in_view(page, "[data-test=result-synced]")
    page.locator("[data-test=pending][data-count='0']").wait_for()
    assert "离线核销已全部同步" in page.inner_text("[data-test=pending]")
    # the offline list names what it knew too
    assert "游船守信立减 · 钱*月" in page.inner_text("[data-test=offline-list]")
    shots(page, "scan-23-07-offline-synced")
    assert not phone.errors, phone.errors


@pytest.mark.parametrize(
    ("lang", "large"), [("zh-hans", False), ("en", False), ("zh-hans", True), ("en", True)]
)
def test_axe_finds_nothing_serious_on_the_scanner(
    live_server, phone, shots, programme, lang, large
):
    merchant = programme["merchant"]
    entitlement(merchant, title="押金全免", limit_per_period=1)
    holder = make_resident(real_name="钱江月")
    voucher = claim(holder, programme["offer"])
    tag = f"{lang}{'-large' if large else ''}"

    login = phone()
    script = f"localStorage.setItem('xinyou.lang', '{'en' if lang == 'en' else 'zh-hans'}');"
    if large:
        script += (
            "document.addEventListener('DOMContentLoaded', () =>"
            " document.documentElement.classList.add('large-text'));"
        )
    login.add_init_script(script)
    login.goto(f"{live_server.url}/scan/")
    login.locator("[data-test=login-submit]").wait_for()
    assert serious_violations(login) == [], "login"

    page = scanner(phone, live_server, programme, lang=lang, large=large)
    if large:
        assert page.evaluate("document.documentElement.classList.contains('large-text')")
    assert serious_violations(page) == [], "main"
    submit_code(page, "W8CH-PM77-PC")
    page.locator("[data-test=result-fail]").wait_for()
    reason = page.inner_text("[data-test=fail-reason]")
    assert ("check failed" if lang == "en" else "校验未通过") in reason, reason
    assert serious_violations(page) == [], "fail card"
    paste(page, voucher["token"])
    page.locator("[data-test=preview]").wait_for()
    assert serious_violations(page) == [], "voucher preview"
    paste(page, pass_token(holder))
    page.locator("[data-test=pass-preview]").wait_for()
    assert serious_violations(page) == [], "pass check"
    shots(page, f"scan-23-axe-pass-{tag}")
    page.context.set_offline(True)
    paste(page, voucher["token"])
    page.locator("[data-test=offline-preview]").wait_for()
    page.click("[data-test=confirm-offline]")
    page.locator("[data-test=result-offline]").wait_for()
    page.locator("[data-test=offline-list]").wait_for()
    assert serious_violations(page) == [], "offline list"
    shots(page, f"scan-23-axe-offline-{tag}", full_page=True)
    assert not phone.errors, phone.errors
