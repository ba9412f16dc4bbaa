"""Offline redemptions uploaded in batches (POST merchant/redemptions/batch): outcomes of
every kind of row, idempotency per nonce, conflicts with online redemptions and where
merchant and city staff see them, and refusals of bad batches that change nothing."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone

from incentives import signing
from incentives.dashboard.models import DirtyDay
from incentives.models import OfflineRedemption, Redemption, Voucher
from incentives.vouchers.offline import MAX_BATCH
from incentives.vouchers.services import expire_due_vouchers
from tests.incentives.conftest import client_for, make_resident, publish
from tests.merchants.factories import city_staff, merchant_staff

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/merchant/redemptions/batch"


def claim(resident, offer) -> dict:
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201, res.content
    return res.json()


@pytest.fixture
def open_offer(merchant):
    return publish(merchant=merchant, min_tier="", total_quota=None, per_resident_limit=50)


@pytest.fixture
def vouchers(world, open_offer):
    """A factory: n fresh vouchers of the clerk's merchant, each of its own resident."""

    def make(n: int) -> list[dict]:
        return [claim(make_resident(), open_offer) for _ in range(n)]

    return make


def row(voucher: dict | None = None, *, by: str = "token", scanned_at=None, **extra) -> dict:
    data = {
        "scanned_at": (scanned_at or timezone.now() - timedelta(minutes=5)).isoformat(),
        "device_id": "gate-1",
        "nonce": uuid4().hex,
    }
    if voucher is not None:
        data[by] = voucher[by]
    data.update(extra)
    return data


def redeem_online(user, **ref) -> None:
    res = client_for(user).post("/api/v1/merchant/redemptions", ref, format="json")
    assert res.status_code == 201, res.content


def upload(user, rows: list[dict]):
    return client_for(user).post(BATCH, {"redemptions": rows}, format="json")


def outcomes(res) -> list[tuple[str, str]]:
    assert res.status_code == 200, res.content
    return [(r["nonce"], r["outcome"]) for r in res.json()["results"]]


def status_of(voucher: dict) -> str:
    return Voucher.objects.get(code=voucher["code"]).status


# --------------------------------------------------------------------------- outcomes


def test_a_mixed_batch_gets_one_outcome_per_row_in_order(clerk, other_clerk, vouchers, open_offer):
    fresh, typed, online_first, expired, revoked, cancelled = vouchers(6)
    others = publish(merchant=other_clerk.merchant_membership.merchant, min_tier="")
    foreign = claim(make_resident(), others)
    redeem_online(clerk, token=online_first["token"])
    Voucher.objects.filter(code=expired["code"]).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    Voucher.objects.filter(code=revoked["code"]).update(status="revoked", closed_at=timezone.now())
    Voucher.objects.filter(code=cancelled["code"]).update(
        status="cancelled", closed_at=timezone.now()
    )
    forged = dict(
        fresh, token=fresh["token"][:-2] + ("AA" if fresh["token"][-2:] != "AA" else "BB")
    )
    body = "".join(reversed(fresh["code"][:-1]))
    unknown = {"code": body + signing.code_check_char(body)}
    rows = [
        row(fresh),
        row(typed, by="code"),
        row(online_first),
        row(expired),
        row(revoked),
        row(cancelled),
        row(forged),
        row(foreign),
        row(unknown, by="code"),
    ]
    res = upload(clerk, rows)
    assert [o for _n, o in outcomes(res)] == [
        "redeemed",
        "redeemed",
        "already_redeemed",
        "voucher_expired",
        "voucher_revoked",
        "voucher_cancelled",
        "invalid_token",
        "wrong_merchant",
        "not_found",
    ]
    results = res.json()["results"]
    assert [r["nonce"] for r in results] == [r["nonce"] for r in rows]
    first = Voucher.objects.get(code=online_first["code"]).redeemed_at
    assert results[2]["redeemed_at"] == timezone.localtime(first).isoformat()
    assert all(r["redeemed_at"] is None for r in results[3:])
    assert (status_of(fresh), status_of(typed), status_of(foreign)) == (
        "redeemed",
        "redeemed",
        "issued",
    )
    assert Redemption.objects.count() == 3  # two offline, one online
    assert list(
        OfflineRedemption.objects.filter(conflict=True).values_list("nonce", flat=True)
    ) == [rows[2]["nonce"]]


def test_an_offline_redemption_keeps_scan_time_sync_time_and_device(clerk, vouchers):
    (voucher,) = vouchers(1)
    scanned = timezone.now() - timedelta(minutes=42)
    res = upload(clerk, [row(voucher, scanned_at=scanned, device_id="kiosk-7")])
    assert outcomes(res)[0][1] == "redeemed"
    redemption = Redemption.objects.get()
    assert redemption.scanned_at == scanned and redemption.device_id == "kiosk-7"
    assert redemption.redeemed_at > scanned  # the sync: when the server recorded it
    assert Voucher.objects.get().redeemed_at == redemption.redeemed_at
    listed = client_for(clerk).get("/api/v1/merchant/redemptions").json()["results"]
    assert listed[0]["scanned_at"] == timezone.localtime(scanned).isoformat()


def test_the_same_batch_twice_answers_the_same_and_changes_nothing_more(clerk, vouchers):
    good, taken = vouchers(2)
    redeem_online(clerk, code=taken["code"])
    rows = [row(good), row(taken), row({"token": "XY1ZZ.AAAA"})]
    first = upload(clerk, rows).json()
    again = upload(clerk, rows).json()
    assert again == first
    assert [r["outcome"] for r in first["results"]] == [
        "redeemed",
        "already_redeemed",
        "invalid_token",
    ]
    assert Redemption.objects.count() == 2
    assert OfflineRedemption.objects.count() == 3
    assert OfflineRedemption.objects.filter(conflict=True).count() == 1


def test_a_nonce_reused_for_another_voucher_is_refused_and_the_first_result_stays(clerk, vouchers):
    one, two = vouchers(2)
    first = row(one)
    assert outcomes(upload(clerk, [first]))[0][1] == "redeemed"
    reused = row(two, nonce=first["nonce"])
    assert outcomes(upload(clerk, [reused]))[0][1] == "idempotency_key_reused"
    assert status_of(two) == "issued"
    assert outcomes(upload(clerk, [first]))[0][1] == "redeemed"


def test_one_voucher_twice_in_a_batch_is_redeemed_once_and_the_second_is_a_conflict(
    clerk, vouchers
):
    (voucher,) = vouchers(1)
    res = upload(clerk, [row(voucher), row(voucher, by="code", device_id="gate-2")])
    assert [o for _n, o in outcomes(res)] == ["redeemed", "already_redeemed"]
    assert Redemption.objects.count() == 1
    conflict = OfflineRedemption.objects.get(conflict=True)
    assert conflict.device_id == "gate-2" and conflict.voucher.code == voucher["code"]


def test_another_device_of_the_same_merchant_that_uploads_later_gets_the_first_time(
    clerk, merchant, vouchers
):
    (voucher,) = vouchers(1)
    upload(clerk, [row(voucher, device_id="gate-1")])
    late = upload(merchant_staff(merchant), [row(voucher, device_id="gate-2")])
    result = late.json()["results"][0]
    assert result["outcome"] == "already_redeemed"
    assert (
        result["redeemed_at"] == timezone.localtime(Voucher.objects.get().redeemed_at).isoformat()
    )


def test_a_voucher_is_judged_at_its_scan_time(clerk, vouchers, django_capture_on_commit_callbacks):
    before_expiry, after_expiry, long_ago = vouchers(3)
    now = timezone.now()
    Voucher.objects.filter(code__in=[before_expiry["code"], after_expiry["code"]]).update(
        expires_at=now - timedelta(minutes=10)
    )
    Voucher.objects.filter(code=long_ago["code"]).update(expires_at=now - timedelta(days=4))
    assert expire_due_vouchers() == 3  # the task ran while the scanner was offline
    DirtyDay.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        res = upload(
            clerk,
            [
                row(before_expiry, scanned_at=now - timedelta(minutes=30)),
                row(after_expiry, scanned_at=now - timedelta(minutes=5)),
                # believed no further back than 72 hours: judged as of 3 days ago, expired
                row(long_ago, scanned_at=now - timedelta(days=5)),
            ],
        )
    assert [o for _n, o in outcomes(res)] == ["redeemed", "voucher_expired", "voucher_expired"]
    redeemed = Voucher.objects.get(code=before_expiry["code"])
    assert redeemed.status == "redeemed" and redeemed.closed_at is None
    # it was counted as expired: that day's dashboard roll-up is recounted
    assert timezone.localdate(redeemed.expires_at) in set(
        DirtyDay.objects.values_list("day", flat=True)
    )


def test_a_scan_time_in_the_future_is_judged_now(clerk, vouchers):
    (voucher,) = vouchers(1)
    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    res = upload(clerk, [row(voucher, scanned_at=timezone.now() + timedelta(days=1))])
    assert outcomes(res)[0][1] == "voucher_expired"


def test_online_redemption_still_refuses_a_voucher_marked_expired(clerk, vouchers):
    (voucher,) = vouchers(1)
    Voucher.objects.update(status="expired", closed_at=timezone.now())
    res = client_for(clerk).post(
        "/api/v1/merchant/redemptions", {"token": voucher["token"]}, format="json"
    )
    assert (res.status_code, res.json()["error"]["code"]) == (410, "voucher_expired")


# --------------------------------------------------------------------------- bad batches


@pytest.mark.parametrize(
    "rows",
    [
        [],
        "not a list",
        [{"token": "XY1A.AAAA"}],  # no nonce, device or time
        [{"scanned_at": "2026-11-30T10:00:00+08:00", "device_id": "d", "nonce": "n"}],
        "both",
        "bad time",
        "spaces in nonce",
        "long device",
        "duplicate nonce",
        "ancient",
    ],
)
def test_a_batch_that_does_not_parse_is_refused_whole(clerk, vouchers, rows):
    good, other = vouchers(2)
    first = row(good)
    special = {
        "both": [first, row(other) | {"code": other["code"]}],
        "bad time": [first, row(other, scanned_at=None) | {"scanned_at": "yesterday"}],
        "spaces in nonce": [first, row(other, nonce="a b")],
        "long device": [first, row(other, device_id="d" * 65)],
        "duplicate nonce": [first, row(other, nonce=first["nonce"])],
        "ancient": [first, row(other) | {"scanned_at": "0001-01-01T00:00:00-23:59"}],
    }
    body = special.get(rows, rows) if isinstance(rows, str) else rows
    res = client_for(clerk).post(BATCH, {"redemptions": body}, format="json")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["code"] == "invalid_request"
    assert res.json()["error"]["detail"]
    assert OfflineRedemption.objects.count() == 0 and Redemption.objects.count() == 0
    assert status_of(good) == "issued"


def test_the_batch_size_limit_is_enforced_before_any_row_is_applied(clerk, vouchers):
    (voucher,) = vouchers(1)
    too_many = [row(voucher)] + [
        row({"code": voucher["code"]}, by="code") for _ in range(MAX_BATCH)
    ]
    res = upload(clerk, too_many)
    assert res.status_code == 400
    assert "redemptions" in res.json()["error"]["detail"]
    assert status_of(voucher) == "issued"


def test_ten_thousand_rows_are_refused_without_a_500(clerk, vouchers):
    (voucher,) = vouchers(1)
    rows = [
        {
            "code": voucher["code"],
            "nonce": str(i),
            "device_id": "d",
            "scanned_at": "2026-11-30T10:00:00+08:00",
        }
        for i in range(10_000)
    ]
    res = upload(clerk, rows)
    # past the upload size limit the request itself is too large; under it, the row limit
    assert (res.status_code, res.json()["error"]["code"]) in (
        (400, "invalid_request"),
        (413, "request_too_large"),
    )
    assert status_of(voucher) == "issued" and OfflineRedemption.objects.count() == 0


def test_only_merchant_staff_upload(resident, vouchers, api_client):
    (voucher,) = vouchers(1)
    assert upload(resident, [row(voucher)]).status_code == 403
    assert api_client.post(BATCH, {"redemptions": [row(voucher)]}, format="json").status_code == 401
    assert status_of(voucher) == "issued"


# --------------------------------------------------------------------------- who sees conflicts


def test_conflicts_show_in_the_merchants_history_and_nowhere_else(clerk, other_clerk, vouchers):
    won, lost = vouchers(2)
    redeem_online(clerk, token=lost["token"])
    upload(clerk, [row(won), row(lost, device_id="gate-9")])
    mine = client_for(clerk).get("/api/v1/merchant/redemptions/offline").json()
    assert {(r["code"], r["outcome"], r["conflict"]) for r in mine["results"]} == {
        (won["code"], "redeemed", False),
        (lost["code"], "already_redeemed", True),
    }
    conflicts = client_for(clerk).get("/api/v1/merchant/redemptions/offline?conflict=true")
    (conflict,) = conflicts.json()["results"]
    assert conflict["device_id"] == "gate-9" and conflict["redeemed_at"] is not None
    assert conflict["offer_title"]
    theirs = client_for(other_clerk).get("/api/v1/merchant/redemptions/offline").json()
    assert theirs["count"] == 0


def test_city_staff_count_conflicts_on_the_dashboard_and_list_them_in_admin(
    clerk, vouchers, client
):
    (voucher,) = vouchers(1)
    redeem_online(clerk, token=voucher["token"])
    upload(clerk, [row(voucher)])
    hangzhou, shanghai = city_staff("330100"), city_staff("310100")

    def summary(user):
        return client_for(user).get("/api/v1/dashboard/summary").json()["offline_conflicts"]

    assert (summary(hangzhou), summary(shanghai)) == (1, 0)
    client.force_login(hangzhou)
    page = client.get("/admin/incentives/offlineredemption/?conflict__exact=1")
    assert page.status_code == 200 and voucher["code"] in page.content.decode()
    client.force_login(shanghai)
    page = client.get("/admin/incentives/offlineredemption/")
    assert page.status_code == 200 and voucher["code"] not in page.content.decode()


def test_the_scanner_setup_names_the_merchant_and_tokens_carry_it(clerk, merchant, vouchers):
    (voucher,) = vouchers(1)
    setup = client_for(clerk).get("/api/v1/merchant/scanner").json()
    assert setup["merchant_id"] == merchant.pk and setup["max_batch"] == MAX_BATCH
    assert signing.verify(voucher["token"]).merchant_id == merchant.pk


def test_tokens_signed_before_the_merchant_was_added_still_verify(world):
    expires = timezone.now() + timedelta(days=1)
    old = signing.sign(kid=signing.active_key().kid, voucher_id=9, expires_at=expires)
    claims = signing.verify(old)
    assert (claims.voucher_id, claims.merchant_id) == (9, None)
    assert len(old) < len(
        signing.sign(kid=signing.active_key().kid, voucher_id=9, expires_at=expires, merchant_id=3)
    )


def test_bearer_is_needed_for_the_setup(api_client):
    assert api_client.get("/api/v1/merchant/scanner").status_code == 401
