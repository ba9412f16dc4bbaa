"""The whole journey in a real browser (headless Chromium at a phone-sized viewport):
a resident registers, consents, verifies and claims; the wallet's QR decodes to the
voucher's token; a clerk rejects a forged QR offline, redeems the code, and a second
attempt shows "already redeemed". Screenshots of each step go to test-artifacts/web/."""

import base64
import io
import re

import pytest
import zxingcpp
from django.utils import translation
from PIL import Image

from accounts.credit.errors import CONSENT_REQUIRED
from accounts.credit.models import ConsentText
from accounts.legal.models import Agreement
from tests.accounts.conftest import current_version, last_code
from tests.browser import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A fictional person the sandbox credit provider knows: 钱江分 812, excellent.
ID_NUMBER = "330106198803120118"
RESIDENT_PHONE = "13712345678"
RESIDENT_PASSWORD = "Qianjiang#2026"


def api_get(page, path: str, store: str = "xinyou.resident.tokens"):
    """GET an API path from inside the page with the page's own token."""
    return page.evaluate(
        """async ([path, store]) => {
            const {access} = JSON.parse(localStorage.getItem(store));
            const r = await fetch(path, {headers: {Authorization: `Bearer ${access}`}});
            return r.json();
        }""",
        [path, store],
    )


def message(code) -> str:
    """The registry's Chinese message of an error code: what the front end shows."""
    with translation.override("zh-hans"):
        return str(code.message)


def not_found_logged(phone) -> list[str]:
    return [line for line in phone.console if "404" in line]


def decode_qr(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image.convert("L"))
    assert results, "no QR code found in the image"
    return results[0].text


def test_resident_claims_and_merchant_redeems(live_server, phone, shots, programme):
    offer, clerk = programme["offer"], programme["clerk"]
    consent_text = ConsentText.objects.get(is_current=True)
    current_version()  # the agreement the data migration published (flushed between tests)

    # ------------------------------------------------------------------ resident
    page = phone()
    page.goto(f"{live_server.url}/m/")
    page.get_by_role("heading", name="登录").wait_for()
    shots(page, "01-resident-login")

    # registration: phone → SMS code → name and ID → agreement (consent comes later)
    page.click("[data-test=to-register]")
    page.get_by_role("heading", name="注册居民账号").wait_for()
    page.click("[data-test=next-1]")  # empty: each field says what it needs
    assert "手机号" in page.inner_text("[data-test=error-phone]")
    assert "验证码" in page.inner_text("[data-test=error-sms_code]")
    page.fill("#f-phone", RESIDENT_PHONE)
    page.click("[data-test=send-code]")
    page.locator("[data-test=code-sent] .notice").wait_for()
    shots(page, "02-resident-register-sms")
    page.fill("#f-sms_code", last_code(RESIDENT_PHONE))  # the sandbox gateway's outbox
    page.click("[data-test=next-1]")
    page.locator("[data-test=step-identity]").wait_for()
    page.click("[data-test=next-2]")  # empty again: one message per field
    for name in ("real_name", "id_number", "home_city", "password"):
        assert page.inner_text(f"[data-test=error-{name}]"), name
    page.fill("#f-real_name", "钱江月")  # not the holder's name
    page.fill("#f-id_number", "330106198803120119")  # and a wrong check digit
    page.select_option("#f-home_city", "330100")
    page.fill("#f-password", RESIDENT_PASSWORD)
    page.click("[data-test=next-2]")
    page.locator("[data-test=agreement-text]").wait_for()
    assert Agreement.objects.get(is_current=True).body_zh in page.inner_text(
        "[data-test=agreement-text]"
    )
    page.click("[data-test=register-submit]")  # not accepted yet
    assert page.inner_text("[data-test=error-agreement_version]")
    page.check("[data-test=agreement-accept]")
    page.click("[data-test=register-submit]")
    page.locator("[data-test=error-id_number]").wait_for()  # back on step 2, next to the ID
    assert "校验码" in page.inner_text("[data-test=error-id_number]")
    shots(page, "02-resident-register-error")
    page.fill("#f-id_number", ID_NUMBER)
    page.click("[data-test=next-2]")
    page.click("[data-test=register-submit]")
    page.locator("[data-test=error-real_name]").wait_for()  # the identity provider refuses
    assert "姓名与身份证号不一致" in page.inner_text("[data-test=error-real_name]")
    page.fill("#f-real_name", "王小明")
    page.click("[data-test=next-2]")
    page.click("[data-test=register-submit]")

    # consent: the text of the current version is shown before asking
    page.locator("[data-test=consent-card]").wait_for()
    assert page.inner_text("[data-test=consent-text]") == consent_text.body_zh
    assert "你好，王小明" in page.inner_text("[data-test=hello]")
    shots(page, "03-resident-consent")
    # a first visit asks only for what exists: no 404 for the consent or the standing
    assert not not_found_logged(phone), phone.console
    page.click("[data-test=consent-accept]")
    page.locator("[data-test=consent-given]").wait_for()

    # verify: the provider is slow this time (202 pending): the page polls the standing
    def slow_provider(route):
        route.fetch()  # the verification really happens…
        route.fulfill(status=202, json={"status": "pending"})  # …but answers late

    page.route("**/api/v1/me/credit/verify", slow_provider)
    page.click("[data-test=verify]")
    page.locator("[data-test=verify-pending]").wait_for()
    shots(page, "04-resident-verify-pending")
    page.locator("[data-test=standing]").wait_for()
    page.unroute("**/api/v1/me/credit/verify")
    assert page.inner_text("[data-test=score]") == "812"
    assert page.inner_text("[data-test=standing] [data-test=tier]") == "优秀"
    assert not not_found_logged(phone), phone.console  # polled GET /me, not a 404ing standing
    # the score on its scale: the gauge spans the home city's scheme
    cities = api_get(page, "/api/v1/cities?page_size=100")["results"]
    hangzhou = next(c for c in cities if c["code"] == "330100")
    gauge = page.locator("[data-test=gauge]")
    assert gauge.get_attribute("data-min") == str(hangzhou["scheme"]["min_score"])
    assert gauge.get_attribute("data-max") == str(hangzhou["scheme"]["max_score"])
    own = next(b for b in hangzhou["scheme"]["tiers"] if b["min_score"] <= 812 <= b["max_score"])
    assert f"{own['min_score']}–{own['max_score']}" in page.inner_text("[data-test=gauge-band]")
    # equivalents: grouped by tier, each group's scores on demand
    standing = api_get(page, "/api/v1/me/credit")
    by_tier: dict[str, int] = {}
    for e in standing["equivalents"]:
        by_tier[e["tier"]] = by_tier.get(e["tier"], 0) + 1
    groups = page.locator("[data-test=equivalents] [data-test=eq-group]")
    shown = {
        group.get_attribute("data-tier"): group.locator("[data-test=eq-row]").count()
        for group in groups.all()
    }
    assert shown == by_tier
    rows = page.locator("[data-test=eq-row]")
    assert rows.count() == 16  # every other partner city
    assert not rows.first.is_visible()  # tier first: the scores wait for a tap
    shots(page, "05-resident-credit")
    page.locator("[data-test=eq-show-scores]").first.click()
    rows.first.wait_for()
    assert "金椰分" in page.inner_text("[data-test=equivalents]")
    shots(page, "05b-resident-credit-scores", full_page=True)

    # offers: by city and station, with eligibility and reasons
    page.click("[data-test=tab-offers]")
    page.locator("[data-test=offer]").first.wait_for()
    page.select_option("[data-test=filter-city]", "330100")
    page.locator("[data-test=filter-station] option", has_text="西湖站").wait_for(state="attached")
    page.select_option("[data-test=filter-station]", label="西湖站")
    wait_until(
        page,
        "document.querySelector('[data-test=filter-station]').selectedOptions[0].text === '西湖站'",
    )
    page.locator("[data-test=offer]").nth(1).wait_for()
    # each card has its category's illustration (a vendored SVG), the tabs have SVG icons
    arts = page.locator("[data-test=offer] [data-test=category-art]")
    assert arts.count() == page.locator("[data-test=offer]").count()
    wait_until(
        page,
        "[...document.querySelectorAll('[data-test=category-art]')]"
        ".every((img) => img.complete && img.naturalWidth > 0)",
    )
    assert page.locator("#tabbar svg.tab-icon").count() == 5  # 我的信用, 信用码, 优惠, 券包, 我的
    assert not set("◎✦▣") & set(page.inner_text("#tabbar"))
    claimable = page.locator(f"[data-test=offer][data-offer-id='{offer.id}']")
    assert "您可领取" in claimable.inner_text()
    assert "8 折" in claimable.inner_text()
    visitors = page.locator(f"[data-test=offer][data-offer-id='{programme['visitors_only'].id}']")
    assert "暂不可领" in visitors.inner_text()
    assert "您的户籍城市不在适用范围内" in visitors.inner_text()
    assert visitors.locator("[data-test=claim]").is_disabled()
    shots(page, "06-resident-offers")

    # claim → the voucher, with its QR, code and terms
    claimable.locator("[data-test=claim]").click()
    page.locator("[data-test=voucher-qr]").wait_for()
    wait_until(page, "document.querySelector('[data-test=voucher-qr]').naturalWidth > 0")
    assert "领取成功" in page.inner_text("#toast")
    code = page.get_attribute("[data-test=voucher]", "data-code")
    voucher = api_get(page, f"/api/v1/me/vouchers/{code}")
    assert voucher["status"] == "issued"
    assert page.inner_text("[data-test=human-code]") == voucher["display_code"]
    assert "每券限一人使用" in page.inner_text("[data-test=terms]")
    assert page.inner_text("[data-test=voucher-status]") == "可使用"
    shots(page, "07-resident-voucher")

    # the QR the page shows decodes to the voucher's token: its PNG bytes, and on screen
    png_b64 = page.evaluate(
        """async () => {
            const img = document.querySelector('[data-test=voucher-qr]');
            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            let text = ''; for (const b of bytes) text += String.fromCharCode(b);
            return btoa(text);
        }"""
    )
    assert decode_qr(Image.open(io.BytesIO(base64.b64decode(png_b64)))) == voucher["token"]
    on_screen = page.locator("[data-test=voucher-qr]").screenshot()
    assert decode_qr(Image.open(io.BytesIO(on_screen))) == voucher["token"]

    page.click("[data-test=tab-wallet]")
    page.locator("[data-test=voucher-row]").first.wait_for()
    assert page.locator("[data-test=voucher-row]").count() == 1
    shots(page, "08-resident-wallet")

    # ------------------------------------------------------------------ merchant
    scanner = phone()
    requests: list[str] = []
    scanner.on("request", lambda request: requests.append(request.url))
    scanner.goto(f"{live_server.url}/scan/")
    scanner.get_by_role("heading", name="商户员工登录").wait_for()
    shots(scanner, "09-scan-login")
    scanner.fill("#f-phone", clerk.phone)
    scanner.fill("#f-password", "wrong-password")
    scanner.click("[data-test=login-submit]")
    scanner.locator("[data-test=form-error] .notice").wait_for()
    assert "手机号或密码不正确" in scanner.inner_text("[data-test=form-error]")
    scanner.fill("#f-password", "Trust-reward-2026")
    scanner.click("[data-test=login-submit]")
    scanner.locator("[data-test=today]").wait_for()
    scanner.locator(".key-live").wait_for()  # the voucher keys are loaded
    # counter staff read what the phone can do, not "离线验签已就绪（1 个密钥）"
    key_status = scanner.inner_text("[data-test=key-status]")
    assert "假券" in key_status and "密钥" not in key_status and "验签" not in key_status
    scanner.locator("[data-test=today-count]").wait_for()
    assert "今天还没有核销记录" in scanner.inner_text("[data-test=today]")
    shots(scanner, "10-scan-ready")

    # a forged QR (one signature character changed) is refused offline
    token = voucher["token"]
    forged = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    scanner.click(".token-card summary")
    requests.clear()
    scanner.fill("[data-test=token-input]", forged)
    scanner.click("[data-test=token-submit]")
    scanner.locator("[data-test=result-fail]").wait_for()
    reason = scanner.get_attribute("[data-test=result-fail]", "data-reason")
    assert reason == "offline_bad_signature"
    assert "签名无效" in scanner.inner_text("[data-test=result-fail]")
    assert "未联网" in scanner.inner_text("[data-test=result-fail]")
    assert not [url for url in requests if "/api/v1/merchant/" in url], requests
    shots(scanner, "11-scan-forged-offline")

    # the genuine token passes the offline check and reaches the server's preview
    scanner.click("[data-test=next]")
    scanner.fill("[data-test=token-input]", token)
    scanner.click("[data-test=token-submit]")
    scanner.locator("[data-test=preview]").wait_for()
    assert any(url.endswith("/api/v1/merchant/scan") for url in requests)
    scanner.click("[data-test=preview] .btn-ghost")  # not now

    # a typo in the human code is caught by its check character, offline
    requests.clear()
    typo = voucher["code"][:-1] + ("2" if voucher["code"][-1] != "2" else "3")
    scanner.fill("[data-test=code-input]", typo)
    scanner.click("[data-test=code-submit]")
    scanner.locator("[data-test=result-fail][data-reason=offline_bad_code]").wait_for()
    assert not [url for url in requests if "/api/v1/merchant/" in url], requests

    # the clerk types the human code: preview with masked holder and ID last four
    scanner.fill("[data-test=code-input]", voucher["display_code"].lower())
    scanner.click("[data-test=code-submit]")
    scanner.locator("[data-test=preview]").wait_for()
    assert scanner.inner_text("[data-test=preview-holder]") == "王*明"
    assert scanner.inner_text("[data-test=preview-id-last4]") == ID_NUMBER[-4:]
    assert scanner.inner_text("[data-test=preview-offer]") == "西湖游船守信八折"
    preview_text = scanner.inner_text("[data-test=preview]")
    assert "812" not in preview_text and "优秀" not in preview_text  # never the score or tier
    shots(scanner, "12-scan-preview")

    scanner.click("[data-test=confirm]")
    scanner.locator("[data-test=result-ok]").wait_for()
    assert "核销成功" in scanner.inner_text("[data-test=result-ok]")
    scanner.locator("[data-test=today-row]").wait_for()
    assert scanner.locator("[data-test=today-row]").count() == 1
    shots(scanner, "13-scan-redeemed")

    # a second attempt: red, "already redeemed at <time>"
    scanner.click("[data-test=next]")
    scanner.fill("[data-test=code-input]", voucher["code"])
    scanner.click("[data-test=code-submit]")
    scanner.locator("[data-test=result-fail]").wait_for()
    assert scanner.get_attribute("[data-test=result-fail]", "data-reason") == "already_redeemed"
    reason = scanner.inner_text("[data-test=fail-reason]")
    assert re.fullmatch(r"该券已于 \d{4}/\d{2}/\d{2} \d{2}:\d{2} 核销过。", reason), reason
    shots(scanner, "14-scan-already-redeemed")

    # the resident's wallet shows it redeemed
    page.locator("[data-test=voucher-row]").first.click()
    page.locator("[data-test=voucher-stamp]").wait_for()
    assert page.inner_text("[data-test=voucher-status]") == "已核销"
    shots(page, "15-resident-voucher-redeemed")

    # ------------------------------------------------------------------ English
    # The English catalog is compiled separately: only the structure is asserted here.
    scanner.click("[data-test=lang-switch]")
    wait_until(scanner, "document.documentElement.lang === 'en'")
    scanner.locator("[data-test=result-fail]").wait_for()
    assert scanner.inner_text("[data-test=lang-switch]") == "中文"
    status = scanner.locator("[data-test=key-status]")
    assert "fake vouchers" in status.inner_text() and "keys)" not in status.inner_text()
    n = int(status.get_attribute("data-keys"))
    plural = "" if n == 1 else "s"
    assert status.get_attribute("title") == f"This phone holds {n} anti-forgery key{plural}"
    shots(scanner, "16-scan-already-redeemed-en")

    page.click("[data-test=lang-switch]")
    wait_until(page, "document.documentElement.lang === 'en'")
    page.locator("[data-test=voucher-stamp]").wait_for()
    shots(page, "17-resident-voucher-redeemed-en")
    page.click("[data-test=tab-credit]")
    page.locator("[data-test=standing]").wait_for()
    assert page.inner_text("[data-test=score]") == "812"
    counts = page.locator("[data-test=eq-group] .eq-count").all_inner_texts()
    assert sum(int(c.split()[0]) for c in counts) == 16
    assert all(c.endswith(" city" if c.startswith("1 ") else " cities") for c in counts)
    shots(page, "18-resident-credit-en")
    page.click("[data-test=tab-offers]")
    page.locator("[data-test=offer]").first.wait_for()
    # offer texts follow Accept-Language: the English title the merchant wrote
    assert "West Lake boat ride" in page.inner_text("[data-test=offer-list]")
    # one Chinese word, two English ones (pgettext): the tab is "Offers"
    assert page.inner_text("[data-test=tab-offers]") == "Offers"
    shots(page, "19-resident-offers-en")

    assert not phone.errors, phone.errors
    assert not not_found_logged(phone), phone.console


def test_resident_errors_cancel_and_withdraw(live_server, phone, shots, programme):
    """Friendly messages for refusals, cancelling a voucher, withdrawing consent."""
    from tests.incentives.conftest import make_resident

    offer = programme["offer"]
    resident = make_resident(score=812, real_name="李华")
    page = phone()
    page.goto(f"{live_server.url}/m/#/login")
    page.fill("#f-phone", resident.phone)
    page.fill("#f-password", "nope")
    page.click("[data-test=login-submit]")
    page.locator("[data-test=form-error] .notice").wait_for()
    assert "手机号或密码不正确" in page.inner_text("[data-test=form-error]")
    page.fill("#f-password", "Trust-reward-2026")
    page.click("[data-test=login-submit]")
    page.locator("[data-test=standing]").wait_for()

    # nothing claimed yet: the wallet says it is empty
    page.click("[data-test=tab-wallet]")
    page.locator("[data-test=wallet-empty-text]").wait_for()

    # claim; then the offer says the limit of one per person is reached, before any tap
    page.goto(f"{live_server.url}/m/#/offers/{offer.id}")
    page.locator("[data-test=offer-detail]").wait_for()
    shots(page, "20-resident-offer-detail")
    page.click("[data-test=claim]")
    page.locator("[data-test=voucher-qr]").wait_for()
    code = page.get_attribute("[data-test=voucher]", "data-code")
    page.goto(f"{live_server.url}/m/#/offers/{offer.id}")
    page.locator("[data-test=offer-detail]").wait_for()
    assert "您已达到每人限领数量" in page.inner_text("[data-test=not-eligible]")
    assert page.locator("[data-test=claim]").is_disabled()
    shots(page, "21-resident-claim-limit")

    # cancel the voucher (after a confirmation)
    page.goto(f"{live_server.url}/m/#/wallet/{code}")
    page.click("[data-test=cancel-voucher]")
    page.locator("[data-test=modal-confirm]").wait_for()
    # two buttons that say what they do (not 「取消」 beside 「取消此券」)
    assert page.inner_text("[data-test=modal-cancel]") == "保留此券"
    assert page.inner_text("[data-test=modal-confirm]") == "确认取消"
    shots(page, "22-resident-cancel-confirm")
    page.click("[data-test=modal-confirm]")
    page.locator("[data-test=voucher-stamp]").wait_for()
    assert page.inner_text("[data-test=voucher-status]") == "已取消"

    # no usable voucher is not an empty wallet: the cancelled one is under "all"
    page.click("[data-test=tab-wallet]")
    page.locator("[data-test=wallet-none-usable]").wait_for()
    assert "券包还是空的" not in page.inner_text("#view")
    shots(page, "22b-resident-wallet-none-usable")
    page.click("[data-test=wallet-see-all]")
    page.locator("[data-test=voucher-row]").wait_for()

    # an expired session refreshes itself once, silently
    page.evaluate(
        """() => {
            const tokens = JSON.parse(localStorage.getItem('xinyou.resident.tokens'));
            tokens.access = 'expired.' + tokens.access;
            localStorage.setItem('xinyou.resident.tokens', JSON.stringify(tokens));
        }"""
    )
    spent = page.evaluate("JSON.parse(localStorage.getItem('xinyou.resident.tokens')).refresh")
    page.click("[data-test=tab-credit]")
    page.locator("[data-test=standing]").wait_for()
    rotated = page.evaluate("JSON.parse(localStorage.getItem('xinyou.resident.tokens')).refresh")
    assert rotated != spent  # the refresh token rotated; the spent one is refused now
    assert (
        page.evaluate(
            """async (refresh) => (await fetch('/api/v1/auth/token/refresh', {
            method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({refresh})})).status""",
            spent,
        )
        == 401
    )

    # withdraw consent: the consent card comes back, claims need it again
    page.click("[data-test=consent-withdraw]")
    page.click("[data-test=modal-confirm]")
    page.locator("[data-test=consent-card]").wait_for()
    shots(page, "23-resident-consent-withdrawn")
    page.goto(f"{live_server.url}/m/#/offers/{offer.id}")
    page.locator("[data-test=offer-detail]").wait_for()
    assert "您已撤回信用查询授权" in page.inner_text("[data-test=not-eligible]")
    page.click("[data-test=claim]")
    page.locator("#toast.toast-error").wait_for()
    assert message(CONSENT_REQUIRED) in page.inner_text("#toast")
    page.locator("[data-test=consent-card]").wait_for()  # sent back to give it

    # 我的 › 我的数据: everything held; 我的 › 注销账号: password, confirmation, gone
    page.click("[data-test=tab-me]")
    page.click("[data-test=to-my-data]")
    page.locator("[data-test=data-vouchers]").wait_for()
    assert code in page.inner_text("[data-test=data-vouchers]")
    assert "李华" in page.inner_text("[data-test=data-profile]")
    shots(page, "24-resident-my-data")
    page.goto(f"{live_server.url}/m/#/me/close")
    page.fill("#f-password", "wrong-password")
    page.click("[data-test=close-account]")
    page.click("[data-test=modal-confirm]")
    page.locator("[data-test=error-password]").wait_for()
    page.fill("#f-password", "Trust-reward-2026")
    page.click("[data-test=close-account]")
    page.locator("[data-test=modal-confirm]").wait_for()
    shots(page, "25-resident-close-confirm")
    page.click("[data-test=modal-confirm]")
    page.get_by_role("heading", name="登录").wait_for()
    assert "账号已注销" in page.inner_text("#toast")
    resident.refresh_from_db()
    assert resident.closed_at is not None and resident.real_name == ""
    assert not phone.errors, phone.errors


def test_a_listed_resident_sees_no_tier_colours(live_server, phone, shots, programme):
    """On the list of seriously dishonest persons, a high score shows no green 优秀: the
    tiers are grey, and the page says why they cannot be used."""
    from tests.incentives.conftest import make_resident

    resident = make_resident(score=812, listed=True, real_name="钱多多")
    page = phone()
    page.goto(f"{live_server.url}/m/#/login")
    page.fill("#f-phone", resident.phone)
    page.fill("#f-password", "Trust-reward-2026")
    page.click("[data-test=login-submit]")
    page.locator("[data-test=standing]").wait_for()
    page.locator("[data-test=dishonest]").wait_for()
    page.locator("[data-test=eq-dishonest]").wait_for()
    badges = page.locator("[data-test=tier]")
    assert badges.count() > 1
    assert page.locator(".tier-excellent, .band-excellent").count() == 0
    assert page.locator(".tier-muted").count() == badges.count()
    shots(page, "24-resident-listed-credit", full_page=True)
    assert not phone.errors, phone.errors
