"""The scanner's offline checks (incentives/static/web/voucher-token.js), run in the
browser against tokens and codes made by the server's own signing module."""

import datetime as dt

import pytest
from django.utils import timezone

from incentives import signing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODULE = "/static/web/voucher-token.js"


@pytest.fixture
def checker(live_server, phone):
    """check(token) → the module's verdict, with the keys the API publishes."""
    page = phone()
    page.goto(f"{live_server.url}/scan/")

    def check(token: str, *, noble: bool = False) -> dict:
        return page.evaluate(
            """async ([module, token, noble]) => {
                const m = await import(module);
                const keys = await (await fetch('/api/v1/voucher-keys')).json();
                if (noble) {  // the fallback for browsers without WebCrypto Ed25519
                    m.useNobleFallback('/static/vendor/noble-ed25519/index.js');
                    const importKey = crypto.subtle.importKey.bind(crypto.subtle);
                    crypto.subtle.importKey = async (...args) => {
                        if (args[2]?.name === 'Ed25519') {
                            throw new DOMException('no Ed25519', 'NotSupportedError');
                        }
                        return importKey(...args);
                    };
                }
                const r = await m.checkToken(token, keys);
                return {ok: r.ok, reason: r.reason || null,
                        voucherId: r.claims ? String(r.claims.voucherId) : null,
                        expiresAt: r.claims ? r.claims.expiresAt.getTime() / 1000 : null};
            }""",
            [MODULE, token, noble],
        )

    check.page = page
    return check


def token(voucher_id=4242, hours=24):
    expires = timezone.now() + dt.timedelta(hours=hours)
    return signing.sign(kid=signing.active_key().kid, voucher_id=voucher_id, expires_at=expires)


@pytest.mark.parametrize("noble", [False, True], ids=["webcrypto", "noble"])
def test_genuine_forged_and_expired_tokens(checker, noble):
    good = token(voucher_id=2**40 + 7)
    verdict = checker(good, noble=noble)
    assert verdict["ok"] and verdict["voucherId"] == str(2**40 + 7)
    assert verdict["expiresAt"] == int(signing.verify(good).expires_at.timestamp())
    assert checker(good.lower(), noble=noble)["ok"]  # scanners may read lower case

    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    assert checker(flipped, noble=noble)["reason"] == "bad_signature"
    assert checker(token(hours=-1), noble=noble)["reason"] == "expired"


def test_malformed_and_unknown_key(checker):
    good = token()
    kid = signing.active_key().kid
    assert checker("hello")["reason"] == "malformed"
    assert checker(good[:-4])["reason"] == "malformed"  # truncated
    assert checker(good.replace(f"XY1{kid}.", "XY1ZZ9."))["reason"] == "unknown_key"


def test_codes_match_the_servers_check_character(checker):
    codes = [signing.new_code() for _ in range(50)]
    result = checker.page.evaluate(
        """async ([module, codes]) => {
            const m = await import(module);
            return codes.map((c) => [m.normalizeCode(c), m.normalizeCode(c.slice(0, 4) + '-' +
                c.slice(4, 8) + ' ' + c.slice(8).toLowerCase()), m.normalizeCode(
                c.slice(0, 9) + (c[9] === '2' ? '3' : '2'))]);
        }""",
        [MODULE, codes],
    )
    for code, (plain, spaced, typo) in zip(codes, result, strict=True):
        assert plain == spaced == code
        assert typo is None  # a wrong check character never passes


def test_scanner_refuses_an_expired_qr_offline(live_server, phone, programme):
    page = phone()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/scan/")
    page.fill("#f-phone", programme["clerk"].phone)
    page.fill("#f-password", "Trust-reward-2026")
    page.click("[data-test=login-submit]")
    page.locator(".key-live").wait_for()
    page.click(".token-card summary")
    requests.clear()
    page.fill("[data-test=token-input]", token(hours=-2))
    page.click("[data-test=token-submit]")
    page.locator("[data-test=result-fail][data-reason=offline_expired]").wait_for()
    assert "过期" in page.inner_text("[data-test=fail-reason]")
    assert not [url for url in requests if "/api/v1/" in url], requests


def test_a_key_outside_its_window_is_refused_offline(checker):
    good = token()
    result = checker.page.evaluate(
        """async ([module, token]) => {
            const m = await import(module);
            const keys = await (await fetch('/api/v1/voucher-keys')).json();
            const day = 86400 * 1000, now = Date.now();
            const iso = (ms) => new Date(ms).toISOString();
            const check = async (window) =>
                (await m.checkToken(token, keys.map((k) => ({...k, ...window})))).reason || 'ok';
            return [
                await check({not_before: null, not_after: null}),
                await check({not_before: iso(now - day), not_after: iso(now + day)}),
                await check({not_after: iso(now - day)}),
                await check({not_before: iso(now + day)}),
            ];
        }""",
        [MODULE, good],
    )
    assert result == ["ok", "ok", "key_not_valid", "key_not_valid"]
