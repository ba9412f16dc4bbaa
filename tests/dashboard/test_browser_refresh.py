"""The dashboard refreshes by itself (issue 23): with the page open and scrolled, a new
voucher and a roll-up rebuild change the 领取 card and the charts without a reload and
without moving the scroll; the page says when its figures are from. axe-core finds no
serious or critical violation on the login page and the page, in both languages and in
the large-text mode. Screenshots: test-artifacts/web/dashboard-refresh-*.png."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incentives.dashboard.rollup import local_today, rebuild_rollups
from tests.axe import serious_violations
from tests.browser import wait_until
from tests.conftest import contexts_of
from tests.factories import PASSWORD

from . import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, url: str, staff) -> None:
    page.goto(f"{url}/dashboard/login/")
    page.fill("#id_username", staff.phone)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/dashboard/(\?.*)?$"))


def _charts_drawn(page) -> None:
    wait_until(
        page,
        "document.querySelectorAll('[data-chart][data-rendered]').length === 7",
        timeout_ms=20_000,
    )


def test_the_figures_refresh_by_themselves_without_moving_the_scroll(
    live_server, cities, artifacts_dir, settings, chromium
):
    from tests.merchants.factories import city_staff

    settings.DASHBOARD_PAGE_REFRESH_SECONDS = 5  # the roll-up's pace, made short
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    offer = f.offer(f.merchant("330100"), title="西湖夜游")
    now = timezone.now()
    f.voucher(offer, f.resident("310100"), now - timedelta(hours=2))
    today = local_today()
    rebuild_rollups(date_from=today - timedelta(days=1), date_to=today)
    staff = city_staff("330100")

    errors: list[str] = []
    with contexts_of(chromium) as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _log_in(page, live_server.url, staff)
        _charts_drawn(page)
        assert page.get_attribute("#as-of", "data-refresh-seconds") == "5"
        as_of = page.inner_text("#as-of")
        assert "数据截至" in as_of and "自动更新" in as_of
        assert page.inner_text("#stat-claims") == "1"
        series_before = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('chart-series'))"
            ".getOption().series[0].data.reduce((a, b) => a + b, 0)"
        )
        assert series_before == 1
        page.evaluate("window.__stamp = 'same page'")  # gone if the page reloads
        page.evaluate("scrollTo(0, 600)")
        y = page.evaluate("scrollY")
        assert y > 0

        # the data change while the page is open
        f.voucher(offer, f.resident("310100"), now - timedelta(hours=1))
        f.voucher(offer, f.resident("320100"), now - timedelta(minutes=30))
        rebuild_rollups(date_from=today - timedelta(days=1), date_to=today)

        wait_until(
            page,
            "document.getElementById('stat-claims').textContent.trim() === '3'",
            timeout_ms=20_000,
        )
        assert page.evaluate("window.__stamp") == "same page"  # no reload
        assert page.evaluate("scrollY") == y  # the scroll did not jump
        series_after = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('chart-series'))"
            ".getOption().series[0].data.reduce((a, b) => a + b, 0)"
        )
        assert series_after == 3  # the charts were redrawn from the new data
        assert "数据截至" in page.inner_text("#as-of")
        page.screenshot(path=str(shots / "dashboard-refresh-after.png"))
        assert int(page.get_attribute("html", "data-refreshes")) >= 1
    assert errors == []


@pytest.mark.parametrize(
    ("lang", "large"), [("zh-hans", False), ("en", False), ("zh-hans", True), ("en", True)]
)
def test_axe_finds_nothing_serious_on_the_dashboard(
    live_server, cities, artifacts_dir, chromium, lang, large
):
    from tests.merchants.factories import city_staff

    offer = f.offer(f.merchant("330100"), title="西湖夜游")
    f.voucher(offer, f.resident("310100"), timezone.now() - timedelta(hours=2))
    today = local_today()
    rebuild_rollups(date_from=today - timedelta(days=1), date_to=today)
    staff = city_staff("330100")
    with contexts_of(chromium) as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
        if large:
            context.add_init_script(
                "document.addEventListener('DOMContentLoaded', () =>"
                " document.documentElement.classList.add('large-text'));"
            )
        page = context.new_page()
        page.goto(f"{live_server.url}/dashboard/login/?lang={lang}")
        page.locator("#login-submit").wait_for()
        assert serious_violations(page) == [], "login"
        page.fill("#id_username", staff.phone)
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(re.compile(r".*/dashboard/(\?.*)?$"))
        page.goto(f"{live_server.url}/dashboard/?lang={lang}")
        _charts_drawn(page)
        assert serious_violations(page) == [], "page"
        tag = f"{lang}{'-large' if large else ''}"
        page.screenshot(path=str(artifacts_dir / "web" / f"dashboard-axe-{tag}.png"))
