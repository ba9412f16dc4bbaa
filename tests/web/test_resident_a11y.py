"""Every screen of the resident app (issue 23): 0 serious or critical axe-core violations
in Chinese, in English and in the large-text mode (适老化), and no screen wider than the
390 px phone in the large-text mode. Screenshots of the large-text screens are kept."""

import pytest

from tests.accounts.conftest import current_version, last_code
from tests.axe import serious_violations
from tests.incentives.conftest import client_for

from .resident_helpers import open_as, overflow, ready_resident, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODES = {
    "zh": {"lang": "zh-hans", "large": False},
    "en": {"lang": "en", "large": False},
    "large": {"lang": "zh-hans", "large": True},
    "large-en": {"lang": "en", "large": True},
}


def _set_mode(page, base, lang, large):
    page.goto(f"{base}/m/#/login")
    page.evaluate(
        """([lang, large]) => {
            localStorage.removeItem("xinyou.resident.tokens");
            localStorage.setItem("xinyou.lang", lang);
            if (large) localStorage.setItem("xinyou.largeText", "1");
            else localStorage.removeItem("xinyou.largeText");
        }""",
        [lang, large],
    )
    page.reload()


def _check(page, problems: list, name: str, mode: str, shots, large: bool) -> None:
    settle(page)
    found = serious_violations(page)
    if found:
        problems.append(f"{name} [{mode}]: {found}")
    if large:
        wider = overflow(page)
        if wider > 0:
            problems.append(f"{name} [{mode}]: {wider} px wider than the phone")
        shots(page, f"resident-{mode}-{name}", full_page=True)


@pytest.mark.parametrize("mode", list(MODES))
def test_every_screen_passes_axe_and_fits_the_phone(live_server, phone, shots, programme, mode):
    lang, large = MODES[mode]["lang"], MODES[mode]["large"]
    problems: list[str] = []
    current_version()
    page = phone()
    base = live_server.url

    # guest screens: login, the three steps of registration
    _set_mode(page, base, lang, large)
    page.locator("[data-test=login-submit]").wait_for()
    _check(page, problems, "login", mode, shots, large)
    page.click("[data-test=login-mode]")  # the SMS-code form
    _check(page, problems, "login-code", mode, shots, large)
    page.goto(f"{base}/m/#/register")
    page.locator("[data-test=step-phone]").wait_for()
    page.click("[data-test=next-1]")  # with its field errors showing
    _check(page, problems, "register-1", mode, shots, large)
    number = {"zh": "13712340001", "en": "13712340002", "large": "13712340003"}.get(
        mode, "13712340004"
    )
    page.fill("#f-phone", number)
    page.click("[data-test=send-code]")
    page.locator("[data-test=code-sent] .notice").wait_for()
    page.fill("#f-sms_code", last_code(number))
    page.click("[data-test=next-1]")
    page.locator("[data-test=step-identity]").wait_for()
    _check(page, problems, "register-2", mode, shots, large)
    page.fill("#f-real_name", "王小明")
    page.fill("#f-id_number", "330106198803120118")
    page.select_option("#f-home_city", "330100")
    page.fill("#f-password", "Qianjiang#2026")
    page.click("[data-test=next-2]")
    page.locator("[data-test=step-agreement]").wait_for()
    _check(page, problems, "register-3", mode, shots, large)

    # a resident with a voucher: every tab and its details
    resident = ready_resident()
    claimed = client_for(resident).post(f"/api/v1/offers/{programme['offer'].pk}/claim")
    assert claimed.status_code == 201
    code = claimed.json()["code"]
    open_as(page, base, resident, "#/credit", lang=lang, large=large)
    page.locator("[data-test=standing]").wait_for()
    _check(page, problems, "credit", mode, shots, large)
    page.goto(f"{base}/m/#/pass")
    page.locator("[data-test=pass-qr]").wait_for()
    _check(page, problems, "pass", mode, shots, large)
    page.goto(f"{base}/m/#/offers")
    page.locator("[data-test=offer]").first.wait_for()
    _check(page, problems, "offers", mode, shots, large)
    page.goto(f"{base}/m/#/offers/{programme['offer'].pk}")
    page.locator("[data-test=offer-detail]").wait_for()
    _check(page, problems, "offer-detail", mode, shots, large)
    page.goto(f"{base}/m/#/wallet")
    page.locator("[data-test=voucher-row]").first.wait_for()
    _check(page, problems, "wallet", mode, shots, large)
    page.goto(f"{base}/m/#/wallet/{code}")
    page.locator("[data-test=voucher]").wait_for()
    _check(page, problems, "voucher", mode, shots, large)
    page.goto(f"{base}/m/#/me")
    page.locator("[data-test=large-text]").wait_for()
    _check(page, problems, "me", mode, shots, large)
    page.goto(f"{base}/m/#/me/data")
    page.locator("[data-test=my-data]").wait_for()
    _check(page, problems, "my-data", mode, shots, large)
    page.goto(f"{base}/m/#/me/close")
    page.locator("[data-test=close-account]").wait_for()
    _check(page, problems, "close-account", mode, shots, large)
    assert problems == []
    assert phone.errors == []
