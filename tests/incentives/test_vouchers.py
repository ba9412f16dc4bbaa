"""The wallet, QR images through a real decoder, cancel, scan, redemption and every
refusal, expiry and revocation."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from accounts.identity import mask_name
from incentives import signing
from incentives.models import Redemption, Voucher
from incentives.vouchers.services import expire_due_vouchers
from tests.incentives.conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(resident, offer):
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201
    return res.json()


def scan(user, **body):
    return client_for(user).post("/api/v1/merchant/scan", body, format="json")


def redeem(user, **body):
    headers = {}
    if "key" in body:
        headers["HTTP_IDEMPOTENCY_KEY"] = body.pop("key")
    return client_for(user).post("/api/v1/merchant/redemptions", body, format="json", **headers)


# --------------------------------------------------------------------------- wallet


def test_wallet_lists_newest_first_and_filters_by_status(resident, merchant, voucher):
    second = publish(merchant=merchant, min_tier="")
    client = client_for(resident)
    newer = client.post(f"/api/v1/offers/{second.pk}/claim").json()
    client.post(f"/api/v1/me/vouchers/{voucher['code']}/cancel")
    listed = client.get("/api/v1/me/vouchers").json()
    assert [v["code"] for v in listed["results"]] == [newer["code"], voucher["code"]]
    issued = client.get("/api/v1/me/vouchers?status=issued").json()["results"]
    assert [v["code"] for v in issued] == [newer["code"]]
    assert client.get("/api/v1/me/vouchers?status=bogus").status_code == 400
    detail = client.get(f"/api/v1/me/vouchers/{voucher['code']}").json()
    assert detail["status"] == "cancelled" and detail["token"] is None


def test_other_residents_vouchers_do_not_exist_for_me(world, voucher):
    stranger = client_for(make_resident())
    for suffix in ("", "/qr.png", "/qr.svg"):
        res = stranger.get(f"/api/v1/me/vouchers/{voucher['code']}{suffix}")
        assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    assert stranger.post(f"/api/v1/me/vouchers/{voucher['code']}/cancel").status_code == 404


def test_qr_png_decodes_to_the_token_in_alphanumeric_mode(resident, voucher):
    res = client_for(resident).get(f"/api/v1/me/vouchers/{voucher['code']}/qr.png")
    assert res.status_code == 200 and res["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(res.content)))
    assert [r.text for r in found] == [voucher["token"]]
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    assert set(voucher["token"]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert len(voucher["token"]) <= 140
    svg = client_for(resident).get(f"/api/v1/me/vouchers/{voucher['code']}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content


def test_cancel_returns_the_place_and_the_limit(resident, offer, voucher):
    client = client_for(resident)
    res = client.post(f"/api/v1/me/vouchers/{voucher['code']}/cancel")
    assert res.status_code == 200 and res.json()["status"] == "cancelled"
    offer.refresh_from_db()
    assert offer.claimed_count == 0
    again = client.post(f"/api/v1/me/vouchers/{voucher['code']}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "voucher_not_cancellable")
    assert client.post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201  # limit back


def test_voucher_keys_verify_a_token_offline(voucher, api_client):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = api_client.get("/api/v1/voucher-keys").json()
    key = next(k for k in keys if voucher["token"][3:].startswith(k["kid"] + "."))
    assert key["alg"] == "Ed25519"
    kid, payload = voucher["token"][3:].split(".")
    raw = base64.b32decode(payload + "=" * (-len(payload) % 8))
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    # body: voucher id (8), expiry (4), merchant id (4); then the signature (64)
    public.verify(raw[16:], kid.encode() + raw[:16])  # raises if forged
    assert int.from_bytes(raw[12:16]) == Voucher.objects.get(code=voucher["code"]).merchant_id


# --------------------------------------------------------------------------- redemption


def test_scan_previews_the_holder_masked_and_changes_nothing(resident, clerk, voucher):
    res = scan(clerk, token=voucher["token"])
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["redeemable"] is True and body["reason"] is None
    holder = body["voucher"]["holder"]
    assert holder == {"name": mask_name(resident.real_name), "id_last4": resident.id_masked[-4:]}
    assert holder["name"] != resident.real_name
    assert "score" not in str(body) and "tier" not in str(body)
    assert Voucher.objects.get().status == "issued"


def test_redeem_once_then_already_redeemed(clerk, voucher):
    first = redeem(clerk, token=voucher["token"])
    assert first.status_code == 201, first.content
    assert first.json()["code"] == voucher["code"]
    second = redeem(clerk, code=voucher["display_code"].lower())
    assert second.status_code == 409
    err = second.json()["error"]
    assert err["code"] == "already_redeemed" and err["detail"]["redeemed_at"]
    assert Redemption.objects.count() == 1
    preview = scan(clerk, token=voucher["token"]).json()
    assert preview["redeemable"] is False and preview["reason"] == "already_redeemed"


def test_idempotent_redemption_replays_the_201(clerk, voucher):
    first = redeem(clerk, token=voucher["token"], key="scan-42")
    again = redeem(clerk, token=voucher["token"], key="scan-42")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


def test_another_merchants_clerk_is_refused_and_learns_nothing(other_clerk, voucher):
    res = redeem(other_clerk, token=voucher["token"])
    assert (res.status_code, res.json()["error"]["code"]) == (403, "wrong_merchant")
    for ref in ({"token": voucher["token"]}, {"code": voucher["code"]}):
        preview = scan(other_clerk, **ref)  # not even the voucher's status
        assert (preview.status_code, preview.json()["error"]["code"]) == (404, "not_found")
        assert "status" not in str(preview.json()["error"]["detail"])
    assert Voucher.objects.get().status == "issued"


@pytest.mark.parametrize(
    ("token_of", "reason"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad_signature"),
        (lambda t: "XY1ZZ." + t.split(".")[1], "unknown_key"),
        (lambda t: "hello", "malformed"),
        (lambda t: t + "=", "malformed"),
    ],
)
def test_forged_or_broken_tokens_are_invalid(clerk, voucher, token_of, reason):
    res = redeem(clerk, token=token_of(voucher["token"]))
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_token"
    assert Voucher.objects.get().status == "issued"


def test_codes_that_cannot_exist_are_invalid_and_unknown_ones_not_found(clerk, voucher):
    code = voucher["code"]
    wrong_check = code[:-1] + next(c for c in signing.CODE_ALPHABET if c != code[-1])
    assert redeem(clerk, code=wrong_check).json()["error"]["code"] == "invalid_token"
    body = "".join(reversed(code[:-1]))
    unknown = body + signing.code_check_char(body)
    if unknown != code:
        assert redeem(clerk, code=unknown).json()["error"]["code"] == "not_found"
    assert redeem(clerk, token=voucher["token"], code=code).status_code == 400  # both
    assert redeem(clerk).status_code == 400  # neither


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("cancelled", "voucher_cancelled"),
        ("revoked", "voucher_revoked"),
        ("expired", "voucher_expired"),
    ],
)
def test_closed_vouchers_can_never_be_redeemed(clerk, voucher, status, code):
    Voucher.objects.update(status=status, closed_at=timezone.now())
    res = redeem(clerk, token=voucher["token"])
    assert (res.status_code, res.json()["error"]["code"]) == (410, code)


def test_a_voucher_past_its_time_is_expired_before_the_task_runs(clerk, voucher):
    Voucher.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    res = redeem(clerk, token=voucher["token"])
    assert (res.status_code, res.json()["error"]["code"]) == (410, "voucher_expired")
    assert expire_due_vouchers() == 1
    assert Voucher.objects.get().status == "expired" and expire_due_vouchers() == 0


def test_residents_cannot_redeem_and_clerks_see_their_redemptions(resident, clerk, voucher):
    assert redeem(resident, token=voucher["token"]).status_code == 403
    redeem(clerk, token=voucher["token"])
    today = timezone.localdate().isoformat()
    mine = client_for(clerk).get(f"/api/v1/merchant/redemptions?date_from={today}&date_to={today}")
    assert [r["code"] for r in mine.json()["results"]] == [voucher["code"]]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    none = client_for(clerk).get(f"/api/v1/merchant/redemptions?date_from={tomorrow}")
    assert none.json()["count"] == 0
    bad = client_for(clerk).get(
        f"/api/v1/merchant/redemptions?date_from={tomorrow}&date_to={today}"
    )
    assert bad.status_code == 400


# --------------------------------------------------------------------------- revocation


@pytest.mark.django_db(transaction=True)
def test_listing_revokes_open_vouchers_and_returns_their_places(
    world, merchant, clerk, settings, tmp_path
):
    from accounts.credit.services import sync_dishonest_list

    offer = publish(merchant=merchant, min_tier="", total_quota=10, per_resident_limit=3)
    resident = make_resident()
    client = client_for(resident)
    codes = [client.post(f"/api/v1/offers/{offer.pk}/claim").json() for _ in range(3)]
    redeem(clerk, token=codes[0]["token"])
    list_file = tmp_path / "list.txt"
    list_file.write_text(resident.id_hash + "\n")
    settings.CREDIT_SANDBOX_LIST_FILE = str(list_file)
    report = sync_dishonest_list(city_code="330100")
    assert report.newly_listed == 1  # the signal ran the revoking task (eager) on commit
    statuses = sorted(Voucher.objects.values_list("status", flat=True))
    assert statuses == ["redeemed", "revoked", "revoked"]
    offer.refresh_from_db()
    assert offer.claimed_count == 1
    res = redeem(clerk, token=codes[1]["token"])
    assert (res.status_code, res.json()["error"]["code"]) == (410, "voucher_revoked")
    assert client.post(f"/api/v1/offers/{offer.pk}/claim").json()["error"]["detail"]["reasons"] == [
        "seriously_dishonest"
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_redemption_answer_has_the_documented_shape(clerk, voucher, language):
    from django.utils import translation

    from incentives.models import Redemption
    from incentives.vouchers.serializers import RedemptionOutput

    res = client_for(clerk).post(
        "/api/v1/merchant/redemptions",
        {"token": voucher["token"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    stored = Redemption.objects.select_related("voucher__resident").get()
    with translation.override(language):
        assert res.json() == RedemptionOutput(stored).data
