"""The credit pass in two browsers: a resident opens 信用码 (a QR that says how long it
is valid), a clerk types the pass into the scanner, applies an entitlement and sees the
masked holder; a second check of the same pass is refused with a clear message."""

import io

import pytest
from django.utils import timezone
from PIL import Image

from accounts.legal.models import AgreementAcceptance
from accounts.legal.services import current_agreement
from incentives.models import EntitlementUse
from tests.browser import wait_until
from tests.factories import PASSWORD
from tests.merchants.factories import OfferFactory

from .test_journey import decode_qr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_shows_the_pass_and_the_clerk_applies_an_entitlement(
    live_server, phone, shots, programme
):
    from tests.incentives.conftest import make_resident

    merchant, clerk = programme["merchant"], programme["clerk"]
    lane = OfferFactory(
        merchant=merchant,
        status="published",
        published_at=timezone.now(),
        kind="entitlement",
        scenario="travel",
        title="信用通道·优先登船",
        benefit_type="priority_service",
        benefit_value=None,
        min_tier="good",
        limit_per_period=2,
        period="day",
    )
    resident = make_resident(score=812, real_name="钱江月")
    current = current_agreement()  # the app asks for the current agreement first (issue 11)
    if current is not None:
        AgreementAcceptance.objects.create(user=resident, agreement=current)

    # ------------------------------------------------------------------ resident
    page = phone()
    page.goto(f"{live_server.url}/m/#/login")
    page.fill("#f-phone", resident.phone)
    page.fill("#f-password", PASSWORD)
    page.click("[data-test=login-submit]")
    page.locator("[data-test=standing]").wait_for()
    page.click("[data-test=tab-pass]")
    page.locator("[data-test=pass-qr]").wait_for()
    wait_until(page, "document.querySelector('[data-test=pass-qr]').naturalWidth > 0")
    validity = page.inner_text("[data-test=pass-validity]")
    seconds = int(page.get_attribute("[data-test=pass-validity]", "data-seconds"))
    assert 0 < seconds <= 300 and "秒内有效" in validity
    assert page.inner_text("[data-test=pass-holder]") == "钱*月"
    token = page.get_attribute("[data-test=pass]", "data-token")
    png = page.locator("[data-test=pass-qr]").screenshot()
    assert decode_qr(Image.open(io.BytesIO(png))) == token
    shots(page, "20-resident-credit-pass")

    # the offer list shows the entitlement with "show the pass", not a claim button
    page.goto(f"{live_server.url}/m/#/offers/{lane.pk}")
    page.locator("[data-test=show-pass]").wait_for()
    assert page.locator("[data-test=claim]").count() == 0

    # ------------------------------------------------------------------ merchant
    scanner = phone()
    scanner.goto(f"{live_server.url}/scan/")
    scanner.fill("#f-phone", clerk.phone)
    scanner.fill("#f-password", PASSWORD)
    scanner.click("[data-test=login-submit]")
    scanner.locator("[data-test=today]").wait_for()
    scanner.click(".token-card summary")
    scanner.fill("[data-test=token-input]", token)
    scanner.click("[data-test=token-submit]")
    scanner.locator("[data-test=pass-preview]").wait_for()
    # the masked holder and the ID's last four first, before anything is applied
    assert scanner.inner_text("[data-test=pass-holder]") == "钱*月"
    assert scanner.inner_text("[data-test=pass-id-last4]") == resident.id_last4
    buttons = scanner.locator("[data-test=apply-offer]")
    assert buttons.count() == 1  # only the merchant's entitlements, not its vouchers
    assert "信用通道·优先登船" in buttons.first.inner_text()
    shots(scanner, "21-scan-pass-offers")
    buttons.first.click()
    scanner.locator("[data-test=use-ok]").wait_for()
    assert scanner.inner_text("[data-test=use-holder]") == "钱*月"
    assert scanner.inner_text("[data-test=use-id-last4]") == resident.id_last4
    text = scanner.inner_text("[data-test=use-ok]")
    assert "优秀" not in text and "812" not in text  # never the tier or the score
    shots(scanner, "22-scan-pass-used")
    assert EntitlementUse.objects.filter(resident=resident, offer=lane).count() == 1

    # the same pass again: the check names it used for this offer and does not offer it
    scanner.click("[data-test=next]")
    scanner.fill("[data-test=token-input]", token)
    scanner.click("[data-test=token-submit]")
    scanner.locator("[data-test=pass-preview]").wait_for()
    assert scanner.locator("[data-test=apply-offer]").count() == 0
    again = scanner.locator(f"[data-test=offer-unavailable][data-offer-id='{lane.pk}']")
    assert again.get_attribute("data-reasons") == "pass_already_used"
    assert "这张信用码已用于该权益" in again.inner_text()
    shots(scanner, "23-scan-pass-again")
    scanner.get_by_role("button", name="取消").click()
    assert EntitlementUse.objects.filter(resident=resident, offer=lane).count() == 1

    # the recent uses list offers an incident report
    scanner.locator("[data-test=use-row]").first.wait_for()
    scanner.locator("[data-test=use-row] [data-test=report]").first.click()
    scanner.select_option("[data-test=report-kind]", "no_show")
    scanner.click("[data-test=report-submit]")
    scanner.locator("[data-test=reported]").wait_for()

    # the resident sees the incident under the pass
    page.goto(f"{live_server.url}/m/#/pass")
    page.locator("[data-test=incident]").wait_for()
    assert "预约未到" in page.inner_text("[data-test=incident]")
    assert not phone.errors, phone.errors
