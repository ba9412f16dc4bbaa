"""Every HTML page under the Content-Security-Policy in headless Chromium: each still does
its work (the app and the scanner start, the dashboard draws its charts, the admin's
widgets come up, Swagger UI lists the API) and the browser reports no violation."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.merchants.factories import city_staff, superuser

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# path, who is logged in, what shows that the page's scripts ran
PAGES = [
    ("/m/", None, "#view h1, #view h2"),
    ("/scan/", None, "#view h1, #view h2"),
    ("/dashboard/", "staff", "#chart-flows[data-rendered]"),
    ("/admin/merchants/offer/add/", "root", ".selector .selector-available"),
    ("/api/docs/", None, ".opblock"),
]


def test_pages_work_without_a_single_policy_violation(live_server, chromium, cities, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    sessions = {}
    for role, user in (("staff", city_staff("330100")), ("root", superuser())):
        client = Client()
        client.force_login(user)
        assert client.session[SESSION_KEY]
        sessions[role] = client.cookies["sessionid"].value
    host = live_server.url.split("://", 1)[1].split(":")[0]
    for path, role, ready in PAGES:
        context = chromium.new_context(viewport=PHONE, locale="zh-CN")
        context.set_default_timeout(15_000)
        if role:
            context.add_cookies(
                [{"name": "sessionid", "value": sessions[role], "domain": host, "path": "/"}]
            )
        violations: list[str] = []
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => "
            "(window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page = context.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("pageerror", lambda error: violations.append(str(error)))
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src" in response.headers["content-security-policy"], path
        page.locator(ready).first.wait_for()
        page.wait_for_timeout(300)  # late violations (fonts, styles injected by scripts)
        violations += page.evaluate("window.__csp || []")
        context.close()
        assert not violations, (path, violations)


def test_the_policy_forbids_eval_from_a_timer_and_the_tests_wait_without_it(
    live_server, chromium, cities
):
    """Why the browser tests wait with `tests.browser.wait_until`: Playwright's
    `wait_for_function` re-evaluates its string with `eval` from a timer, which
    `script-src 'self'` forbids, so it fails whenever it has to wait (CI, 2026-12-07)."""
    from playwright.sync_api import Error as PlaywrightError

    from tests.browser import wait_until

    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/m/")
    page.locator("#view h1, #view h2").first.wait_for()
    # true at the third evaluation: the first is never enough, whatever the machine's pace
    third = "(window.{0} = (window.{0} || 0) + 1) >= 3"

    with pytest.raises(PlaywrightError, match="unsafe-eval"):
        page.wait_for_function(third.format("tries_a"), timeout=5_000)

    assert wait_until(page, third.format("tries_b"), timeout_ms=5_000) is True
    assert page.evaluate("window.tries_b") == 3  # it waited: two polls came back false
    context.close()
