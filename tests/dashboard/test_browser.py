"""The dashboard in headless Chromium: log in as city staff, see every chart drawn,
change the date range, switch the language, download the CSV. A screenshot is kept in
test-artifacts/."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from incentives.dashboard.rollup import rebuild_rollups
from tests.factories import PASSWORD

from .conftest import build_history
from .reference import Raw

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = ("series", "category", "merchant", "scenario", "refusals", "home-city", "flows")

# Non-transparent pixels in a sample of the chart's canvas (or drawn SVG elements).
PAINTED = """(el) => {
  const svg = el.querySelector('svg');
  if (svg) return svg.querySelectorAll('path, rect, text').length;
  const c = el.querySelector('canvas');
  if (!c || !c.width || !c.height) return 0;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) n++;
  return n;
}"""


def _wait_for_charts(page) -> dict[str, int]:
    page.wait_for_function(
        f"document.querySelectorAll('[data-chart][data-rendered]').length === {len(CHARTS)}",
        timeout=15_000,
    )
    return {name: page.eval_on_selector(f"#chart-{name}", PAINTED) for name in CHARTS}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_city_staff_see_every_chart_change_the_range_and_download_the_csv(
    live_server, cities, artifacts_dir, settings
):
    from playwright.sync_api import sync_playwright

    from tests.merchants.factories import city_staff

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # All database work happens before the browser starts: Playwright's sync API runs an
    # event loop in this thread, and Django refuses ORM calls from such a thread.
    h = build_history()
    rebuild_rollups(date_from=h.first_day - timedelta(days=1), date_to=h.today)
    staff = city_staff("330100")
    raw = Raw()
    default = raw.summary("330100", h.today - timedelta(days=29), h.today)
    narrow_from, narrow_to = h.today - timedelta(days=20), h.today - timedelta(days=5)
    narrow = raw.summary("330100", narrow_from, narrow_to)
    assert default["claims"] and narrow["claims"] and default["claims"] != narrow["claims"]

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, locale="zh-CN", viewport={"width": 1360, "height": 900}
            )
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))

            page.goto(f"{live_server.url}/dashboard/")
            assert "/dashboard/login/" in page.url
            page.fill("#id_username", staff.phone)
            page.fill("#id_password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(re.compile(r".*/dashboard/$"))

            painted = _wait_for_charts(page)
            assert all(n > 0 for n in painted.values()), painted
            assert page.inner_text("#stat-claims") == str(default["claims"])
            assert page.inner_text("#stat-residents") == str(default["unique_residents"])

            page.fill("#date_from", narrow_from.isoformat())
            page.fill("#date_to", narrow_to.isoformat())
            page.select_option("#interval", "week")
            with page.expect_navigation():
                page.click("#apply")
            assert f"date_from={narrow_from}" in page.url
            painted = _wait_for_charts(page)
            assert all(n > 0 for n in painted.values()), painted
            assert page.inner_text("#stat-claims") == str(narrow["claims"])
            assert page.inner_text("#stat-redemptions") == str(narrow["redemptions"])
            page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)

            with page.expect_download() as info:
                page.click("#export")
            download = info.value
            assert download.suggested_filename == (
                f"xinyou-dashboard-330100-{narrow_from}-{narrow_to}.csv"
            )
            body = Path(download.path()).read_bytes()
            assert body.startswith(b"\xef\xbb\xbf")
            text = body.decode("utf-8-sig")
            assert f"领取,{narrow['claims']}" in text.replace("\r\n", "\n")
            assert "跨城流向" in text

            page.click("a[hreflang=en]")
            page.wait_for_load_state("load")
            assert page.get_attribute("html", "lang") == "en"
            _wait_for_charts(page)
            page.screenshot(path=str(artifacts_dir / "dashboard-en.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
