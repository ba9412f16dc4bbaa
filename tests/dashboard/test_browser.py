"""The dashboard in headless Chromium: log in as city staff, see every chart drawn,
change the date range, switch the language, download the CSV; a crowded programme on a
desktop and a phone. Screenshots go to test-artifacts/web/dashboard-*.png."""

import re
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from django.utils import timezone

from incentives.dashboard.rollup import local_today, rebuild_rollups
from tests.browser import wait_until
from tests.conftest import contexts_of
from tests.factories import PASSWORD

from .conftest import build_history
from .reference import Raw

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


# Every category label the home-city axis shows (ECharts drops labels of a crowded axis).
AXIS_LABELS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const axis = chart.getModel().getComponent('yAxis').axis;
  return [axis.scale.getOrdinalMeta().categories.length, axis.getViewLabels().length];
}"""

# The sankey's nodes, per column: the centres of their labels (one line each).
SANKEY_LABELS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-flows'));
  const data = chart.getModel().getSeriesByType('sankey')[0].getData();
  const columns = {};
  for (let i = 0; i < data.count(); i++) {
    const l = data.getItemLayout(i);
    (columns[Math.round(l.x)] ||= []).push(l.y + l.dy / 2);
  }
  return Object.values(columns).map((ys) => ys.sort((a, b) => a - b));
}"""


def _no_overlapping_labels(page, font_px: int = 12) -> None:
    for column in page.evaluate(SANKEY_LABELS):
        gaps = [b - a for a, b in pairwise(column)]
        assert all(gap >= font_px for gap in gaps), gaps


def _wait_for_charts(page) -> dict[str, int]:
    wait_until(
        page,
        f"document.querySelectorAll('[data-chart][data-rendered]').length === {len(CHARTS)}",
        timeout_ms=15_000,
    )
    return {name: page.eval_on_selector(f"#chart-{name}", PAINTED) for name in CHARTS}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_city_staff_see_every_chart_change_the_range_and_download_the_csv(
    live_server, cities, artifacts_dir, settings, chromium
):
    from tests.merchants.factories import city_staff

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
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
    with contexts_of(chromium) as browser:
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
        homes, shown = page.evaluate(AXIS_LABELS, "chart-home-city")
        assert homes > 1 and shown == homes  # every home city is named
        _no_overlapping_labels(page)
        # the language switch names each language in itself
        assert page.inner_text("a[hreflang=zh-hans]") == "中文"
        assert page.inner_text("a[hreflang=en]") == "English"
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
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

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
        assert page.inner_text("a[hreflang=zh-hans]") == "中文"
        page.screenshot(path=str(shots / "dashboard-en.png"), full_page=True)
        # the English page exports an English CSV
        with page.expect_download() as info:
            page.click("#export")
        english = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        assert f"Claims,{narrow['claims']}" in english.replace("\r\n", "\n")
        assert "City,Hangzhou" in english and "Cancelled,Expired,Revoked" in english
        assert "Cancel," not in english

        # a reversed range: a sentence, not the field's name
        page.goto(f"{live_server.url}/dashboard/?date_from={narrow_to}&date_to={narrow_from}")
        alert = page.inner_text("#query-errors")
        assert "date_from" not in alert and "start date" in alert.lower()
        assert page.get_attribute("#date_from", "aria-invalid") == "true"

        # a phone: the bar and the filters fit the width, the charts still draw
        phone = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
        )
        small = phone.new_page()
        small.on("pageerror", lambda exc: errors.append(str(exc)))
        small.goto(f"{live_server.url}/dashboard/login/")
        small.fill("#id_username", staff.phone)
        small.fill("#id_password", PASSWORD)
        small.click("#login-submit")
        small.wait_for_url(re.compile(r".*/dashboard/$"))
        for lang in ("zh-hans", "en"):
            small.goto(f"{live_server.url}/dashboard/?lang={lang}")
            _wait_for_charts(small)
            assert small.evaluate("document.documentElement.scrollWidth <= innerWidth")
            assert small.eval_on_selector(".topbar", "el => el.offsetHeight") < 110
            _no_overlapping_labels(small, font_px=11)
            small.screenshot(path=str(shots / f"dashboard-phone-{lang}.png"), full_page=True)
    assert errors == []


def build_crowded_history(days: int = 20) -> None:
    """Visitors from every partner city to four destinations, a few cities busy and many
    quiet (as in the demo): the crowded case where labels used to collide or vanish."""
    from accounts.partner_cities import PARTNER_CITIES
    from incentives.models import Voucher

    from . import factories as f

    now = timezone.now()
    offers = [
        f.offer(f.merchant(city, category), title=f"优惠{city}")
        for city, category in (("330100", "scenic"), ("310100", "hotel"), ("460100", "dining"))
    ] + [f.offer(f.merchant("350200", "culture"), title="优惠350200")]
    rows = []
    for rank, (code, *_names) in enumerate(PARTNER_CITIES):
        person = f.resident(code)
        for n in range(max(1, 40 // (rank + 1))):  # Zipf-like: 40, 20, 13, … 2, 1
            of = offers[(rank + n) % len(offers)]
            issued = now - timedelta(hours=1 + (rank * 7 + n * 5) % (days * 24))
            rows.append(f.voucher_fields(of, person, issued, status="issued"))
    Voucher.objects.bulk_create([Voucher(**row) for row in rows])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_crowded_charts_name_every_city_and_keep_the_flow_labels_apart(
    live_server, cities, artifacts_dir, settings, chromium
):
    from tests.merchants.factories import superuser

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    build_crowded_history()
    rebuild_rollups(date_from=local_today() - timedelta(days=30), date_to=local_today())
    admin = superuser()
    with contexts_of(chromium) as browser:
        for name, viewport in (
            ("desktop", {"width": 1360, "height": 900}),
            ("phone", {"width": 390, "height": 844}),
        ):
            page = browser.new_page(viewport=viewport, locale="zh-CN")
            page.goto(f"{live_server.url}/dashboard/login/?lang=en")
            page.fill("#id_username", admin.phone)
            page.fill("#id_password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(re.compile(r".*/dashboard/$"))
            _wait_for_charts(page)
            homes, shown = page.evaluate(AXIS_LABELS, "chart-home-city")
            assert homes == len(cities) and shown == homes  # all 17 named
            _no_overlapping_labels(page, font_px=11 if name == "phone" else 12)
            # the city picker speaks the page's language
            options = page.eval_on_selector_all("#city option", "os => os.map(o => o.text)")
            assert "Hangzhou" in options and "杭州" not in options
            shot = shots / f"dashboard-crowded-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            page.close()
