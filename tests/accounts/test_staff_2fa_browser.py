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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_scanner_asks_for_the_code_and_logs_in_with_it(
    live_server, cities, artifacts_dir, settings, chromium
):
    from tests.merchants.factories import MerchantFactory, merchant_staff

    from .staff_otp import enrolled

    settings.XINYOU_STAFF_2FA = True
    settings.XINYOU_STAFF_2FA_EXEMPT_PHONES = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    clerk = merchant_staff(MerchantFactory())
    key = enrolled(clerk)

    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/scan/")
    page.fill("#f-phone", clerk.phone)
    page.fill("#f-password", PASSWORD)
    page.click("[data-test=login-submit]")
    # without the code: the server's otp_required message, in the page's language
    page.locator("[data-test=form-error]", has_text="验证码").wait_for()
    page.fill("#f-otp", code_for(key))
    page.click("[data-test=login-submit]")
    page.locator("[data-test=today]").wait_for()
    page.screenshot(path=str(artifacts_dir / "web" / "staff-2fa-scanner.png"))
    context.close()
