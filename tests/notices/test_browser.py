"""消息 in a real browser (phone viewport): a voucher about to lapse shows in the inbox
(with the unread count in 我的) and in the SMS outbox; the resident switches that kind's
SMS off, and the next such notice comes to the inbox only. Marking read, one and all.
Screenshots in test-artifacts/web/; the inbox passes axe-core's serious checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.legal.models import AgreementAcceptance
from accounts.legal.services import current_agreement
from accounts.notices.models import Notice, NoticeSettings
from incentives.models import Voucher
from incentives.notices import notify_expiring_vouchers
from tests.axe import serious_violations
from tests.browser import wait_until
from tests.factories import PASSWORD
from tests.incentives.conftest import client_for, make_resident
from tests.merchants.factories import OfferFactory
from tests.web.conftest import phone, programme, shots  # noqa: F401 (fixtures)

from .conftest import outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def claim(resident, offer) -> Voucher:
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201, res.content
    return Voucher.objects.get(code=res.json()["code"])


def beat_sweep_before(voucher: Voucher) -> int:
    """The beat's expiry sweep, run as if two hours before the voucher lapses."""
    return notify_expiring_vouchers(now=voucher.expires_at - timedelta(hours=2))


def test_expiry_notice_in_inbox_and_sms_then_sms_switched_off(
    live_server,
    phone,  # noqa: F811
    shots,  # noqa: F811
    programme,  # noqa: F811
):
    offer = programme["offer"]
    second_offer = OfferFactory(
        merchant=programme["merchant"],
        status="published",
        published_at=timezone.now(),
        title="西湖夜游船票立减",
        benefit_type="amount_off",
        benefit_value=30,
        min_tier="",
        total_quota=10,
        per_resident_limit=1,
    )
    resident = make_resident(score=812, real_name="钱江月")
    current = current_agreement()
    if current is not None:
        AgreementAcceptance.objects.create(user=resident, agreement=current)
    first = claim(resident, offer)
    assert beat_sweep_before(first) == 1
    [sms] = outbox(resident.phone)
    assert "优惠券即将过期" in sms and offer.title in sms

    page = phone()
    page.goto(f"{live_server.url}/m/#/login")
    page.fill("#f-phone", resident.phone)
    page.fill("#f-password", PASSWORD)
    page.click("[data-test=login-submit]")
    page.locator("[data-test=standing]").wait_for()
    page.click("[data-test=tab-me]")
    badge = page.locator("[data-test=inbox-unread]")
    badge.wait_for()
    assert badge.inner_text() == "1"
    shots(page, "40-resident-me-inbox-unread")

    page.click("[data-test=to-inbox]")
    page.locator("[data-test=inbox]").wait_for()
    [item] = page.locator("[data-test=notice]").all()
    assert item.get_attribute("data-kind") == "voucher_expiring"
    text = item.inner_text()
    assert "优惠券即将过期" in text and offer.title in text and "未读" in text
    assert serious_violations(page) == []
    shots(page, "41-resident-inbox-expiry")

    # SMS off for this kind
    page.click("[data-test=inbox-to-settings]")
    box = page.locator("[data-test=sms-voucher_expiring]")
    box.wait_for()
    assert box.is_checked()
    box.uncheck()
    page.locator("#toast:not([hidden])").wait_for()
    assert NoticeSettings.objects.get(resident=resident).sms == {"voucher_expiring": False}
    assert serious_violations(page) == []
    shots(page, "42-resident-notice-settings")

    # the next voucher about to lapse: inbox only
    second = claim(resident, second_offer)
    assert beat_sweep_before(second) == 1
    assert outbox(resident.phone) == [sms]
    page.goto(f"{live_server.url}/m/#/me")
    page.locator("[data-test=inbox-unread]").wait_for()
    assert page.inner_text("[data-test=inbox-unread]") == "2"
    page.click("[data-test=to-inbox]")
    page.locator("[data-test=notice] >> nth=1").wait_for()
    items = page.locator("[data-test=notice]")
    assert items.count() == 2 and second_offer.title in items.nth(0).inner_text()
    shots(page, "43-resident-inbox-second-notice")

    # one read, then all
    items.nth(1).locator("[data-test=notice-read]").click()
    wait_until(page, "() => document.querySelectorAll('[data-test=notice-unread]').length === 1")
    assert Notice.objects.filter(resident=resident, read_at__isnull=True).count() == 1
    page.click("[data-test=inbox-read-all]")
    wait_until(page, "() => document.querySelectorAll('[data-test=notice-unread]').length === 0")
    assert not Notice.objects.filter(resident=resident, read_at__isnull=True).exists()
    assert serious_violations(page) == []
    shots(page, "44-resident-inbox-all-read")
    page.goto(f"{live_server.url}/m/#/me")
    page.locator("[data-test=to-inbox]").wait_for()
    page.wait_for_timeout(300)
    assert page.locator("[data-test=inbox-unread]").is_hidden()
    assert not phone.errors, phone.errors
