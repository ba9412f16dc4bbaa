"""Enrolling the second factor in headless Chromium: the admin's password login leads to
the enrolment page (QR code drawn under the page's CSP, the secret as text), a code from
the "phone" completes it, the recovery codes are shown once, and the admin opens.
Screenshots: test-artifacts/web/staff-2fa-*.png."""

from base64 import b32decode

import pytest

from tests.axe import serious_violations
from tests.factories import PASSWORD
from tests.merchants.factories import city_staff

from .staff_otp import code_for


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_enrol_their_authenticator_in_the_browser(
    live_server, cities, artifacts_dir, settings, chromium
):
    settings.XINYOU_STAFF_2FA = True
    settings.XINYOU_STAFF_2FA_EXEMPT_PHONES = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # no growing delay after the wrong code here (tests/accounts/test_staff_2fa.py has it)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    staff = city_staff("330100")

    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "(window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", staff.phone)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")

    page.wait_for_url("**/staff/2fa/setup/**")
    qr = page.locator("#totp-qr")
    qr.wait_for()
    # the QR image really loaded (a data: PNG the CSP allows), at its full size
    assert page.evaluate(
        "() => { const i = document.getElementById('totp-qr');"
        " return i.complete && i.naturalWidth > 100; }"
    )
    assert page.evaluate("window.__csp || []") == []
    assert serious_violations(page) == []
    page.screenshot(path=str(shots / "staff-2fa-enrol.png"), full_page=True)

    secret = page.inner_text("#totp-secret")
    key = b32decode(secret.replace(" ", ""))
    page.fill("#id_code", f"{(int(code_for(key)) + 1) % 1_000_000:06d}")
    page.click("#setup-submit")
    assert page.locator("#code-error").inner_text()

    page.fill("#id_code", code_for(key))
    page.click("#setup-submit")
    codes = page.locator("#recovery-codes code")
    codes.first.wait_for()
    assert codes.count() == 10
    assert page.evaluate("window.__csp || []") == []
    page.screenshot(path=str(shots / "staff-2fa-recovery-codes.png"), full_page=True)
    page.click("#codes-continue")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("#site-name, #header").first.is_visible()
    context.close()
