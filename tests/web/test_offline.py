"""Offline in a real browser (Playwright's offline mode cuts the network): the resident's
wallet shows a claimed voucher's QR with no network, from the service worker's shell and
what the page kept; the scanner redeems vouchers offline, refuses a second scan of one,
and once back online uploads its queue and shows each row's outcome, a conflict for the
voucher that was redeemed online meanwhile."""

import pytest
from rest_framework.test import APIClient

from accounts.legal.models import AgreementAcceptance
from accounts.legal.services import current_agreement
from incentives.models import OfflineRedemption, Redemption, Voucher
from tests.browser import wait_until
from tests.conftest import bearer
from tests.incentives.conftest import make_resident, publish
from tests.merchants.factories import merchant_staff
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def claim(resident, offer) -> dict:
    client = APIClient()
    client.credentials(**bearer(resident))
    res = client.post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201, res.content
    return res.json()


def log_in(page, url: str, phone: str) -> None:
    page.goto(url)
    page.fill("#f-phone", phone)
    page.fill("#f-password", PASSWORD)
    page.click("[data-test=login-submit]")


def wait_for_service_worker(page) -> None:
    """The page's worker is active (its shell is cached) and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        page.reload()
    wait_until(page, "Boolean(navigator.serviceWorker.controller)")


def test_resident_opens_a_claimed_voucher_offline_and_sees_its_qr(
    live_server, phone, shots, programme
):
    offer = publish(merchant=programme["merchant"], min_tier="", per_resident_limit=5)
    resident = make_resident()
    current = current_agreement()  # the app asks for the current agreement first
    if current is not None:
        AgreementAcceptance.objects.create(user=resident, agreement=current)
    voucher = claim(resident, offer)
    page = phone()
    log_in(page, f"{live_server.url}/m/", resident.phone)
    page.locator("[data-test=tab-wallet]").wait_for()
    page.goto(f"{live_server.url}/m/#/wallet")
    page.locator("[data-test=voucher-row]").wait_for()
    # the wallet keeps every usable voucher's QR image on the device in the background
    wait_until(
        page,
        "code => (JSON.parse(localStorage.getItem('xinyou.resident.pocket')) || {qr: {}})"
        ".qr[code] !== undefined",
        voucher["code"],
    )
    wait_for_service_worker(page)

    page.context.set_offline(True)
    page.reload()  # the shell comes from the service worker's cache
    page.goto(f"{live_server.url}/m/#/wallet")
    page.locator("[data-test=offline-note]").wait_for()
    page.click("[data-test=voucher-row]")
    qr = page.locator("[data-test=voucher-qr]")
    qr.wait_for()
    assert qr.get_attribute("data-source") == "device"
    assert page.get_attribute("[data-test=voucher]", "data-offline") == "true"
    assert page.get_attribute("[data-test=voucher]", "data-token") == voucher["token"]
    assert page.inner_text("[data-test=human-code]") == voucher["display_code"]
    assert "离线" in page.inner_text("[data-test=offline-note]")
    assert page.evaluate("document.querySelector('[data-test=voucher-qr]').naturalWidth") > 0
    shots(page, "offline-01-wallet-voucher")

    # the kept credit pass shows its QR only while it is valid (the pass screen's hook)
    verdicts = page.evaluate(
        """async () => {
            const p = await import('/static/web/resident/pocket.js');
            const at = (s) => new Date(Date.now() + s * 1000).toISOString();
            const show = (pass) => p.passView(pass).dataset.test;
            return [show({token: 'XP1', expires_at: at(120)}),
                    show({token: 'XP1', expires_at: at(-1)})];
        }"""
    )
    assert verdicts == ["pass-offline", "pass-expired"]


def test_scanner_redeems_offline_then_syncs_and_shows_the_conflict(
    live_server, phone, shots, programme
):
    merchant = programme["merchant"]
    offer = publish(merchant=merchant, min_tier="", per_resident_limit=5)
    first, second = claim(make_resident(), offer), claim(make_resident(), offer)
    page = phone()
    log_in(page, f"{live_server.url}/scan/", programme["clerk"].phone)
    page.locator(".key-live").wait_for()
    page.locator("[data-test=pending][data-count='0']").wait_for()
    page.click(".token-card summary")

    def scan(token: str) -> None:
        page.fill("[data-test=token-input]", token)
        page.click("[data-test=token-submit]")

    page.context.set_offline(True)
    for voucher in (first, second):
        scan(voucher["token"])
        page.click("[data-test=confirm-offline]")
        page.locator("[data-test=result-offline]").wait_for()
        assert "已离线核销，待同步" in page.inner_text("[data-test=result-offline]")
        page.click("[data-test=next]")
    page.locator("[data-test=pending][data-count='2']").wait_for()
    assert "待同步 2 张" in page.inner_text("[data-test=pending]")

    scan(first["token"])  # the same voucher again on this device
    page.locator("[data-test=result-fail][data-reason=offline_duplicate]").wait_for()
    assert "本机离线核销" in page.inner_text("[data-test=fail-reason]")
    shots(page, "offline-02-scanner-queue")
    assert Redemption.objects.count() == 0  # nothing reached the server

    # meanwhile another counter, online, redeems the second voucher
    other = APIClient()
    other.credentials(**bearer(merchant_staff(merchant)))
    res = other.post("/api/v1/merchant/redemptions", {"token": second["token"]}, format="json")
    assert res.status_code == 201

    page.context.set_offline(False)  # back online: the queue uploads by itself
    page.locator("[data-test=pending][data-count='0']").wait_for()
    redeemed = page.locator("[data-test=offline-row][data-outcome=redeemed]")
    conflict = page.locator("[data-test=offline-row][data-outcome=already_redeemed]")
    redeemed.wait_for()
    conflict.wait_for()
    assert (redeemed.count(), conflict.count()) == (1, 1)
    assert "冲突" in conflict.inner_text()
    # the shop's history (GET merchant/redemptions/offline) lists the conflict too
    page.locator("[data-test=today-conflict]").wait_for()
    assert "今日离线冲突 1 条" in page.inner_text("[data-test=today-conflicts]")
    assert second["display_code"] in page.inner_text("[data-test=today-conflict]")
    shots(page, "offline-03-scanner-synced", full_page=True)

    assert Voucher.objects.filter(status="redeemed").count() == 2
    assert Redemption.objects.get(voucher__code=first["code"]).device_id.startswith("web-")
    (row,) = OfflineRedemption.objects.filter(conflict=True)
    assert row.voucher.code == second["code"]


def test_scanner_refuses_offline_what_it_cannot_vouch_for(live_server, phone, programme, settings):
    import base64
    from datetime import timedelta

    from django.utils import timezone

    from incentives import signing

    settings.VOUCHER_SIGNING_KEYS = [
        {"kid": "K2", "private_key": base64.b64encode(b"\x02" * 32).decode()},
        {
            "kid": "K0",  # retired: no token of it is good any more
            "private_key": base64.b64encode(b"\x00" * 32).decode(),
            "not_after": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    ]
    settings.VOUCHER_ACTIVE_KID = "K2"
    merchant = programme["merchant"]
    later = timezone.now() + timedelta(days=1)

    def token(kid="K2", merchant_id=merchant.pk) -> str:
        # a retired key's token was signed while it was in force: two days ago
        at = timezone.now() - timedelta(days=2) if kid == "K0" else None
        return signing.sign(
            kid=kid, voucher_id=77, expires_at=later, merchant_id=merchant_id, at=at
        )

    page = phone()
    log_in(page, f"{live_server.url}/scan/", programme["clerk"].phone)
    page.locator(".key-live").wait_for()
    page.locator("[data-test=pending][data-count='0']").wait_for()
    page.click(".token-card summary")
    page.context.set_offline(True)

    def refusal(text: str, field: str = "token") -> str:
        page.fill(f"[data-test={field}-input]", text)
        page.click(f"[data-test={field}-submit]")
        page.locator("[data-test=result-fail]").wait_for()
        reason = page.get_attribute("[data-test=result-fail]", "data-reason")
        page.click("[data-test=next]")
        return reason

    unknown = "XY1K9." + token().split(".")[1]
    assert refusal(unknown) == "offline_unknown_key"
    assert refusal(token(kid="K0")) == "offline_key_not_valid"
    assert refusal(token(merchant_id=merchant.pk + 1000)) == "offline_wrong_merchant"
    old_format = signing.sign(kid="K2", voucher_id=77, expires_at=later)  # names no merchant
    assert refusal(old_format) == "offline_no_merchant"
    assert refusal(signing.format_code(signing.new_code()), field="code") == "offline_code"
    assert page.get_attribute("[data-test=pending]", "data-count") == "0"
    # and a good one of this merchant is accepted
    page.fill("[data-test=token-input]", token())
    page.click("[data-test=token-submit]")
    page.locator("[data-test=offline-preview]").wait_for()
