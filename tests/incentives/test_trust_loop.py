"""The trust loop, exact: redemption re-checks the holder's listing in the statement that
flips the voucher, a beat sweep revokes what a lost task left open, a list sync that takes
a person off the list restores them at once, and eligibility reasons say the truth."""

import pytest
from django.conf import settings as django_settings

from accounts.credit.models import ListedPerson, Standing
from accounts.credit.services import sync_dishonest_list
from incentives.models import ClaimTally, Redemption, Voucher
from tests.incentives.conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(resident, offer):
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201
    return res.json()


def redeem(user, **body):
    return client_for(user).post("/api/v1/merchant/redemptions", body, format="json")


def list_quietly(resident, *, how: str) -> None:
    """The listing lands, but the task that revokes the vouchers is lost: no signal ran."""
    if how == "flag":
        Standing.objects.filter(resident=resident).update(seriously_dishonest=True)
    else:  # on another city's synced list, the standing not (yet) marked
        ListedPerson.objects.create(city_id="310100", person_hash=resident.id_hash)


def eligibility(client, offer) -> dict:
    rows = client.get("/api/v1/offers?page_size=100").json()["results"]
    return next(r["eligibility"] for r in rows if r["id"] == offer.pk)


# --------------------------------------------------------------------------- redemption


@pytest.mark.parametrize("how", ["flag", "list_entry"])
@pytest.mark.parametrize("ref", ["token", "code"])
def test_a_listed_holders_voucher_is_refused_even_if_revocation_was_lost(
    resident, offer, clerk, voucher, how, ref
):
    list_quietly(resident, how=how)
    assert Voucher.objects.get().status == "issued"  # nothing has revoked it
    res = redeem(clerk, **{ref: voucher[ref]})
    assert (res.status_code, res.json()["error"]["code"]) == (410, "voucher_revoked")
    assert not Redemption.objects.exists()
    # the refusal revokes it there and then, and its place goes back to the offer
    assert Voucher.objects.get().status == "revoked"
    offer.refresh_from_db()
    assert offer.claimed_count == 0
    preview = client_for(clerk).post("/api/v1/merchant/scan", {ref: voucher[ref]}, format="json")
    assert preview.json()["reason"] == "voucher_revoked"


def test_the_sweep_revokes_open_vouchers_of_listed_holders_and_returns_places(world, merchant):
    from incentives.tasks import revoke_listed_vouchers

    offer = publish(merchant=merchant, min_tier="", total_quota=10, per_resident_limit=3)
    listed, flagged, clean = make_resident(), make_resident(), make_resident()
    for who, n in ((listed, 2), (flagged, 1), (clean, 1)):
        for _ in range(n):
            assert client_for(who).post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201
    list_quietly(listed, how="list_entry")
    list_quietly(flagged, how="flag")

    assert revoke_listed_vouchers() == 3
    by_holder = dict(Voucher.objects.filter(status="issued").values_list("resident_id", "status"))
    assert by_holder == {clean.pk: "issued"}
    offer.refresh_from_db()
    assert offer.claimed_count == 1
    held = dict(ClaimTally.objects.values_list("resident_id", "held"))
    assert held == {listed.pk: 0, flagged.pk: 0, clean.pk: 1}
    assert revoke_listed_vouchers() == 0  # a second run finds nothing left
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "incentives.revoke_listed_vouchers" in schedule


# --------------------------------------------------------------------------- repair


def test_a_sync_that_takes_a_person_off_the_list_restores_them_at_once(
    world, merchant, settings, tmp_path
):
    offer = publish(merchant=merchant, min_tier="")
    resident = make_resident("330100", 720)
    client = client_for(resident)
    list_file = tmp_path / "list.txt"
    list_file.write_text(resident.id_hash + "\n")
    settings.CREDIT_SANDBOX_LIST_FILE = str(list_file)
    assert sync_dishonest_list(city_code="330100").newly_listed == 1
    assert eligibility(client, offer) == {"eligible": False, "reasons": ["seriously_dishonest"]}

    list_file.write_text("")  # 信用修复: off the list
    report = sync_dishonest_list(city_code="330100")
    assert (report.removed, report.restored) == (1, 1)
    assert Standing.objects.get(resident=resident).seriously_dishonest is False
    assert eligibility(client, offer) == {"eligible": True, "reasons": []}
    assert client.post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201


def test_a_person_still_on_another_citys_list_stays_listed(world, settings, tmp_path):
    resident = make_resident("330100", 720)
    list_file = tmp_path / "list.txt"
    list_file.write_text(resident.id_hash + "\n")
    settings.CREDIT_SANDBOX_LIST_FILE = str(list_file)
    sync_dishonest_list(city_code="330100")
    ListedPerson.objects.create(city_id="310100", person_hash=resident.id_hash)
    list_file.write_text("")
    report = sync_dishonest_list(city_code="330100")
    assert (report.removed, report.restored) == (1, 0)
    assert Standing.objects.get(resident=resident).seriously_dishonest is True


# --------------------------------------------------------------------------- reasons


def test_withdrawn_consent_means_no_stored_standing_is_used(world, merchant, resident):
    offer = publish(merchant=merchant, min_tier="")
    client = client_for(resident)
    assert eligibility(client, offer) == {"eligible": True, "reasons": []}
    assert client.delete("/api/v1/me/credit/consent").status_code == 204
    assert eligibility(client, offer) == {"eligible": False, "reasons": ["consent_withdrawn"]}
    assert client.get("/api/v1/offers?eligible=true").json()["count"] == 0
    detail = client.get(f"/api/v1/offers/{offer.pk}").json()
    assert detail["eligibility"] == {"eligible": False, "reasons": ["consent_withdrawn"]}
    res = client.post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "consent_required"
    assert res.json()["error"]["detail"]["reasons"] == ["consent_withdrawn"]
    assert not Voucher.objects.exists()


def test_a_failing_minimum_local_score_is_score_too_low(world, merchant):
    by_score = publish(merchant=merchant, min_tier="", min_score=700)
    by_tier = publish(merchant=merchant, min_tier="excellent")
    client = client_for(make_resident("330100", 650))
    assert eligibility(client, by_score) == {"eligible": False, "reasons": ["score_too_low"]}
    assert eligibility(client, by_tier) == {"eligible": False, "reasons": ["tier_too_low"]}
    res = client.post(f"/api/v1/offers/{by_score.pk}/claim")
    assert res.status_code == 403
    assert res.json()["error"]["detail"]["reasons"] == ["score_too_low"]


def test_a_reached_per_resident_limit_shows_in_lists_before_the_tap(world, merchant, resident):
    offer = publish(merchant=merchant, min_tier="", total_quota=10, per_resident_limit=1)
    client = client_for(resident)
    first = client.post(f"/api/v1/offers/{offer.pk}/claim").json()
    assert eligibility(client, offer) == {"eligible": False, "reasons": ["claim_limit_reached"]}
    assert offer.pk not in [
        r["id"] for r in client.get("/api/v1/offers?eligible=true").json()["results"]
    ]
    again = client.post(f"/api/v1/offers/{offer.pk}/claim")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "claim_limit_reached")
    # someone else is not limited by it
    assert eligibility(client_for(make_resident()), offer) == {"eligible": True, "reasons": []}
    client.post(f"/api/v1/me/vouchers/{first['code']}/cancel")
    assert eligibility(client, offer) == {"eligible": True, "reasons": []}
