"""Phone-sized pages of the suite's one headless Chromium (tests/conftest.py `chromium`)
against pytest-django's live server; a small programme of offers to browse and claim."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.reference import load_reference_data
from tests.merchants.factories import MerchantFactory, OfferFactory, StationFactory, merchant_staff

PHONE = {"width": 390, "height": 844}
PASSWORD = "Trust-reward-2026"  # tests.factories.PASSWORD


@pytest.fixture
def phone(chromium):
    """new_page() → a page in a fresh phone-sized context (own storage), errors collected."""
    contexts = []
    errors: list[str] = []
    console: list[str] = []  # console errors, e.g. "Failed to load resource: … 404"

    def new_page():
        context = chromium.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        # a Content-Security-Policy violation is an error too (Chromium logs each one)
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        return page

    new_page.errors = errors
    new_page.console = console
    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def shots(artifacts_dir):
    """shot(page, name): a PNG of the phone screen in test-artifacts/web/."""
    folder = artifacts_dir / "web"
    folder.mkdir(exist_ok=True)

    def shot(page, name: str, **kwargs) -> Path:
        path = folder / f"{name}.png"
        page.wait_for_timeout(150)  # let fonts and transitions settle
        page.screenshot(path=str(path), **kwargs)
        return path

    return shot


@pytest.fixture
def programme(transactional_db):
    """Partner cities with schemes and the consent text; a Hangzhou merchant in 西湖站 with
    its clerk; one offer a Hangzhou resident may claim, one for visitors only."""
    load_reference_data()
    now = timezone.now()
    merchant = MerchantFactory(city_id="330100", name="西湖画舫游船（测试）", district="西湖区")
    station = StationFactory(city_id="330100", name="西湖站")
    station.merchants.add(merchant)
    published = {"status": "published", "published_at": now, "merchant": merchant}
    offer = OfferFactory(
        **published,
        title="西湖游船守信八折",
        title_en="West Lake boat ride, 20% off",
        description="凭信游券乘坐西湖画舫享 8 折。",
        benefit_type="percent_off",
        benefit_value=20,
        min_tier="good",
        total_quota=10,
        per_resident_limit=1,
        usage_notes="到店出示券二维码及本人身份证件，每券限一人使用。",
        valid_from=now - timedelta(days=1),
    )
    visitors_only = OfferFactory(
        **published,
        title="外地游客免费夜游",
        benefit_type="free_entry",
        benefit_value=None,
        min_tier="",
        home_city_rule="visitors",
    )
    clerk = merchant_staff(merchant, phone="13600000099")
    return {"merchant": merchant, "offer": offer, "visitors_only": visitors_only, "clerk": clerk}
