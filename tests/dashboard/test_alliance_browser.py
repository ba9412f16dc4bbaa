"""The alliance dashboard in headless Chromium (issue 26): the YRD's staff see their
alliance's figures with every chart drawn and the sankey only between members, narrow to
one member with the picker, and export it; a superuser picks an alliance. Screenshots:
test-artifacts/web/dashboard-alliance*.png."""

import re
from datetime import timedelta

import pytest

from accounts.reference import load_reference_data
from incentives.dashboard.rollup import rebuild_rollups
from tests.conftest import contexts_of
from tests.factories import PASSWORD

from .conftest import build_history
from .reference import Raw
from .test_alliance_rollup import YRD, alliance_staff
from .test_browser import _wait_for_charts

FLOW_NODES = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-flows'));
  const data = chart.getModel().getSeriesByType('sankey')[0].getData();
  const names = [];
  for (let i = 0; i < data.count(); i++) names.push(data.getName(i));
  return names;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alliance_staff_see_their_alliance_and_pick_a_member(
    live_server, cities, artifacts_dir, settings, chromium
):
    from tests.merchants.factories import superuser

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    # all database work before the browser starts (Playwright's loop is in this thread)
    load_reference_data()
    h = build_history()
    rebuild_rollups(date_from=h.first_day - timedelta(days=1), date_to=h.today)
    yrd, admin = alliance_staff("yrd"), superuser()
    raw = Raw()
    d0 = h.today - timedelta(days=29)
    whole = raw.summary(None, d0, h.today, members=YRD)
    hangzhou = raw.summary("330100", d0, h.today)
    assert whole["claims"] > hangzhou["claims"] > 0

    errors: list[str] = []
    with contexts_of(chromium) as browser:
        context = browser.new_context(
            accept_downloads=True, locale="zh-CN", viewport={"width": 1360, "height": 900}
        )
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto(f"{live_server.url}/dashboard/")
        page.fill("#id_username", yrd.phone)
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(re.compile(r".*/dashboard/$"))
        painted = _wait_for_charts(page)
        assert all(n > 0 for n in painted.values()), painted
        assert page.inner_text("#who") == "信用长三角（三省一市）"
        assert page.inner_text("#stat-claims") == str(whole["claims"])
        nodes = page.evaluate(FLOW_NODES)
        assert nodes and not any(name.startswith("海口") for name in nodes)
        assert page.locator("#alliance").count() == 0  # their own alliance, no picker
        page.screenshot(path=str(shots / "dashboard-alliance.png"), full_page=True)

        page.select_option("#city", "330100")
        with page.expect_navigation():
            page.click("#apply")
        assert "alliance=yrd" in page.url and "city=330100" in page.url
        _wait_for_charts(page)
        assert page.inner_text("#who") == "信用长三角（三省一市） · 杭州"
        assert page.inner_text("#stat-claims") == str(hangzhou["claims"])
        with page.expect_download() as info:
            page.click("#export")
        assert info.value.suggested_filename.startswith("xinyou-dashboard-yrd-330100-")
        context.close()

        context = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server.url}/dashboard/login/")
        page.fill("#id_username", admin.phone)
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(re.compile(r".*/dashboard/$"))
        page.select_option("#alliance", "ten-cities")
        with page.expect_navigation():
            page.click("#apply")
        _wait_for_charts(page)
        assert page.inner_text("#who") == "十城市信用建设战略合作联盟"
        options = page.eval_on_selector_all("#city option", "els => els.map(e => e.value)")
        assert "460100" in options and "310100" not in options
        page.screenshot(path=str(shots / "dashboard-alliance-superuser.png"), full_page=True)
        context.close()
    assert not errors, errors
