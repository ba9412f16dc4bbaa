"""The 诚信商户 badge and the trustworthy-merchants filter in the resident app (real
browser): offers of a merchant graded A and not listed carry the badge; the filter
leaves only them."""

import pytest
from django.utils import timezone

from merchants.models import Merchant
from tests.browser import wait_until
from tests.merchants.factories import MerchantFactory, OfferFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_badge_and_trustworthy_filter(live_server, phone, shots, programme):
    Merchant.objects.filter(pk=programme["merchant"].pk).update(credit_grade="A")
    graded_b = MerchantFactory(city_id="330100", name="湖边茶馆（测试）")
    Merchant.objects.filter(pk=graded_b.pk).update(credit_grade="B")
    OfferFactory(
        merchant=graded_b,
        status="published",
        published_at=timezone.now(),
        title="茶馆第二杯半价",
        min_tier="",
    )

    page = phone()
    page.goto(f"{live_server.url}/m/#/offers")
    page.locator("[data-test=offer]").nth(2).wait_for()
    assert page.locator("[data-test=offer]").count() == 3
    cards = page.locator("[data-test=offer]")
    badged = [
        cards.nth(i).inner_text()
        for i in range(3)
        if cards.nth(i).locator("[data-test=trust-badge]").count()
    ]
    assert len(badged) == 2 and all("诚信商户" in text for text in badged)
    assert not any("茶馆" in text for text in badged)
    shots(page, "trust-01-badges")

    page.check("[data-test=filter-trustworthy]")
    wait_until(
        page,
        "document.querySelectorAll('[data-test=offer]').length === 2"
        " && !document.querySelector('[data-test=offer-list]').innerText.includes('茶馆')",
    )
    shots(page, "trust-02-filtered")
    page.locator("[data-test=offer] a.offer-main").first.click()
    page.locator("[data-test=offer-detail] [data-test=trust-badge]").wait_for()
    assert not phone.errors
