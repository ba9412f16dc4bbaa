"""A signing key signs and is accepted only between its not_before and not_after: on the
server (signing, verification, redemption) and in the vouchers residents are shown."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from incentives import signing
from incentives.models import Voucher
from tests.incentives.conftest import client_for

pytestmark = pytest.mark.django_db


def _seed(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


@pytest.fixture
def windows(settings):
    now = timezone.now()
    settings.VOUCHER_SIGNING_KEYS = [
        {
            "kid": "OLD",
            "private_key": _seed(1),
            "not_after": (now - timedelta(hours=1)).isoformat(),
        },
        {
            "kid": "NOW",
            "private_key": _seed(2),
            "not_before": (now - timedelta(days=1)).isoformat(),
            "not_after": (now + timedelta(days=30)).isoformat(),
        },
        {
            "kid": "NEXT",
            "private_key": _seed(3),
            "not_before": (now + timedelta(days=1)).isoformat(),
        },
    ]
    settings.VOUCHER_ACTIVE_KID = "OLD"  # still configured, but past its not_after
    return now


def test_only_a_key_in_force_signs(windows):
    assert signing.active_key().kid == "NOW"
    expiry = windows + timedelta(days=2)
    with pytest.raises(signing.KeyNotInForce):
        signing.sign(kid="OLD", voucher_id=1, expires_at=expiry)
    with pytest.raises(signing.KeyNotInForce):
        signing.sign(kid="NEXT", voucher_id=1, expires_at=expiry)


@pytest.mark.parametrize(
    ("kid", "offset"), [("OLD", -timedelta(hours=2)), ("NEXT", timedelta(days=2))]
)
def test_tokens_of_a_key_outside_its_window_are_refused(windows, kid, offset):
    then = windows + offset  # a moment inside that key's window
    token = signing.sign(kid=kid, voucher_id=9, expires_at=windows + timedelta(days=3), at=then)
    assert signing.verify(token, at=then).voucher_id == 9
    with pytest.raises(signing.InvalidToken, match="key_not_valid"):
        signing.verify(token)


def test_redemption_refuses_a_token_of_an_expired_key(windows, resident, offer, clerk):
    claimed = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim").json()
    assert claimed["token"].startswith("XY1NOW.")
    voucher = Voucher.objects.get()
    stale = signing.sign(
        kid="OLD", voucher_id=voucher.pk, expires_at=voucher.expires_at,
        at=windows - timedelta(hours=2),
    )  # fmt: skip
    scanner = client_for(clerk)
    res = scanner.post("/api/v1/merchant/redemptions", {"token": stale}, format="json")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_token"
    assert res.json()["error"]["detail"]["reason"] == "key_not_valid"
    ok = scanner.post("/api/v1/merchant/redemptions", {"token": claimed["token"]}, format="json")
    assert ok.status_code == 201


def test_a_voucher_whose_key_lapsed_is_shown_with_a_key_in_force(windows, resident, offer, clerk):
    code = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim").json()["code"]
    Voucher.objects.update(key_id="OLD")  # issued while OLD was in force
    shown = client_for(resident).get(f"/api/v1/me/vouchers/{code}").json()
    assert shown["token"].startswith("XY1NOW.")
    res = client_for(clerk).post(
        "/api/v1/merchant/redemptions", {"token": shown["token"]}, format="json"
    )
    assert res.status_code == 201


def test_the_published_keys_carry_their_windows(windows, api_client):
    keys = {k["kid"]: k for k in api_client.get("/api/v1/voucher-keys").json()}
    assert keys["OLD"]["not_after"] and keys["NEXT"]["not_before"]
    assert keys["NOW"]["not_before"] and keys["NOW"]["not_after"]
