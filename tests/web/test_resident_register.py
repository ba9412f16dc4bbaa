"""Registration checks the SMS code as step 1 is left (issue 23), not only at the end;
step 3's 上一步 and 注册并登录 sit side by side, the same height."""

import pytest

from tests.accounts.conftest import current_version, last_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13712340000"


def test_the_code_is_checked_when_step_one_is_left(live_server, phone, shots, programme):
    current_version()
    page = phone()
    page.goto(f"{live_server.url}/m/#/register")
    page.locator("[data-test=step-phone]").wait_for()
    page.fill("#f-phone", PHONE)
    page.click("[data-test=send-code]")
    page.locator("[data-test=code-sent] .notice").wait_for()
    right = last_code(PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    page.fill("#f-sms_code", wrong)
    page.click("[data-test=next-1]")
    page.locator("[data-test=error-sms_code]:not([hidden])").wait_for()
    assert "还可再试 4 次" in page.inner_text("[data-test=error-sms_code]")
    assert page.locator("[data-test=step-phone]").is_visible()
    assert not page.locator("[data-test=step-identity]").is_visible()
    shots(page, "resident-register-code-checked")

    page.fill("#f-sms_code", right)
    page.click("[data-test=next-1]")
    page.locator("[data-test=step-identity]").wait_for()
    page.fill("#f-real_name", "王小明")
    page.fill("#f-id_number", "330106198803120118")
    page.select_option("#f-home_city", "330100")
    page.fill("#f-password", "Qianjiang#2026")
    page.click("[data-test=next-2]")
    page.locator("[data-test=step-agreement]").wait_for()
    back = page.locator("[data-test=step-agreement] .step-actions .btn-ghost").bounding_box()
    submit = page.locator("[data-test=register-submit]").bounding_box()
    assert abs(back["y"] - submit["y"]) < 1 and abs(back["height"] - submit["height"]) < 1
    assert back["x"] + back["width"] <= submit["x"]  # side by side, 上一步 first
    shots(page, "resident-register-step3-buttons")
    page.check("[data-test=agreement-accept]")
    page.click("[data-test=register-submit]")  # the code checked at step 1 still registers
    page.locator("[data-test=consent-card]").wait_for()
