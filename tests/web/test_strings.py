"""The UI strings of the resident app and the scanner: every error code of api.md has a
friendly line in both languages, and both languages have the same placeholders."""

import re

import pytest
from django.test import Client

from incentives.web.strings import ERRORS, RESIDENT, SCANNER, SHARED, catalog

# Every `code` of api.md's error tables, plus the client's own network_error.
API_ERROR_CODES = [
    "invalid_request", "not_authenticated", "permission_denied", "not_found", "throttled",
    "server_error", "method_not_allowed", "not_acceptable", "unsupported_media_type",
    "request_too_large", "unknown_city", "already_registered", "invalid_credentials",
    "invalid_token", "consent_required", "provider_unavailable", "no_standing",
    "not_eligible", "quota_exhausted", "claim_limit_reached", "offer_not_active",
    "voucher_not_cancellable", "wrong_merchant", "already_redeemed", "voucher_expired",
    "voucher_revoked", "voucher_cancelled", "idempotency_key_reused", "request_in_progress",
    "not_merchant_staff", "network_error", "pass_expired", "pass_already_used",
    "usage_limit_reached", "offer_not_claimable", "objection_exists", "incident_not_pending",
]  # fmt: skip
REASONS = [
    "tier_too_low", "seriously_dishonest", "home_city_not_eligible", "standing_expired",
    "offer_not_started", "offer_ended", "no_standing", "suspended", "consent_withdrawn",
]  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("code", API_ERROR_CODES)
def test_every_error_code_has_a_message(code):
    assert f"err.{code}" in ERRORS


@pytest.mark.parametrize("reason", REASONS)
def test_every_eligibility_reason_has_a_message(reason):
    assert f"reason.{reason}" in RESIDENT


@pytest.mark.parametrize("groups", [(SHARED, RESIDENT), (SHARED, SCANNER)])
def test_both_languages_complete_with_the_same_placeholders(groups):
    zh, en = catalog("zh-hans", *groups), catalog("en", *groups)
    assert zh.keys() == en.keys()
    for key, text in zh.items():
        assert text.strip() and en[key].strip(), key
        if key != "benefit.percent_off":  # 20 % off is "8 折" in Chinese: {zhe} vs {value}
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", en[key])), key
        assert not CJK.search(en[key]), (key, en[key])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/m/", "/scan/"])
def test_shell_pages(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert b'id="web-config"' in response.content
    assert b"cdn" not in response.content.lower()
