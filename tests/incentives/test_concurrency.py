"""Exactness under concurrency, on PostgreSQL with real threads: every request is a full
request through the stack on its own database connection."""

import json
import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from incentives.models import ClaimTally, Redemption, Voucher
from merchants.models import Offer
from tests.conftest import bearer
from tests.incentives.conftest import make_resident, publish
from tests.merchants.factories import merchant_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def fire(calls: list) -> list:
    """Run every (user, method, path, body, headers) call at once; collect the answers."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, user, method: str, path: str, body, headers: dict) -> None:
        client = APIClient()
        client.credentials(**bearer(user))
        try:
            connection.ensure_connection()  # the race is the requests, not 200 connects
            barrier.wait()
            res = getattr(client, method)(path, body, format="json", **headers)
            results[i] = (res.status_code, res.json() if res.content else None)
        except Exception as exc:  # a crash must show up as a failed assertion, not vanish
            results[i] = (599, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def fire_sequences(sequences: list[list]) -> list[list]:
    """Start every sequence of (user, path, body) POSTs at once, each in its own thread
    running its calls one after another; collect the answers per sequence."""
    barrier = threading.Barrier(len(sequences))
    results: list[list] = [[] for _ in sequences]

    def run(i: int, calls: list) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for user, path, body in calls:
                client = APIClient()
                client.credentials(**bearer(user))
                res = client.post(path, body, format="json")
                results[i].append((res.status_code, res.json() if res.content else None))
        except Exception as exc:  # a crash must show up as a failed assertion, not vanish
            results[i].append((599, repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(sequences)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def codes(results) -> Counter:
    return Counter(
        (status, body["error"]["code"] if status >= 400 and isinstance(body, dict) else None)
        for status, body in results
    )


def test_50_simultaneous_redemptions_by_two_scanners_redeem_once(world, merchant):
    offer = publish(merchant=merchant, min_tier="")
    resident = make_resident()
    token = APIClient()
    token.credentials(**bearer(resident))
    voucher = token.post(f"/api/v1/offers/{offer.pk}/claim").json()
    scanners = [merchant_staff(merchant), merchant_staff(merchant)]
    calls = [
        (
            scanners[i % 2],
            "post",
            "/api/v1/merchant/redemptions",
            {"token": voucher["token"]} if i % 3 else {"code": voucher["code"]},
            {},
        )
        for i in range(50)
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 1, (409, "already_redeemed"): 49}), tally
    assert Redemption.objects.count() == 1
    assert Voucher.objects.get().status == "redeemed"


def test_200_residents_claiming_a_quota_of_20_get_exactly_20(world, merchant):
    offer = publish(merchant=merchant, min_tier="", total_quota=20)
    residents = [make_resident() for _ in range(200)]
    calls = [(r, "post", f"/api/v1/offers/{offer.pk}/claim", None, {}) for r in residents]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 20, (409, "quota_exhausted"): 180}), tally
    offer.refresh_from_db()
    assert offer.claimed_count == 20 == Voucher.objects.count()
    assert Voucher.objects.values("resident").distinct().count() == 20


def test_100_residents_with_idempotency_keys_claiming_a_quota_of_20_get_exactly_20(world, merchant):
    """With a key the claim's take has no savepoint of its own: a race on the last places
    undoes the whole work, which runs again (facts.RepeatWork). The outcome is as exact,
    no tally keeps a refused claim, and each key replays the answer it gave."""
    offer = publish(merchant=merchant, min_tier="", total_quota=20)
    residents = [make_resident() for _ in range(100)]
    calls = [
        (r, "post", f"/api/v1/offers/{offer.pk}/claim", None, {"HTTP_IDEMPOTENCY_KEY": f"k-{i}"})
        for i, r in enumerate(residents)
    ]
    results = fire(calls)
    assert codes(results) == Counter({(201, None): 20, (409, "quota_exhausted"): 80})
    offer.refresh_from_db()
    assert offer.claimed_count == 20 == Voucher.objects.count()
    assert sum(ClaimTally.objects.values_list("held", flat=True)) == 20
    for (resident, _method, path, _body, headers), first in zip(calls, results, strict=True):
        client = APIClient()
        client.credentials(**bearer(resident))
        again = client.post(path, format="json", **headers)
        assert (again.status_code, again.json()) == first


def test_20_simultaneous_claims_by_one_resident_with_limit_1_give_one_voucher(world, merchant):
    offer = publish(merchant=merchant, min_tier="", total_quota=100, per_resident_limit=1)
    resident = make_resident()
    calls = [(resident, "post", f"/api/v1/offers/{offer.pk}/claim", None, {}) for _ in range(20)]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 1, (409, "claim_limit_reached"): 19}), tally
    assert Voucher.objects.count() == 1
    offer.refresh_from_db()
    assert offer.claimed_count == 1


def test_same_idempotency_key_sent_20_times_at_once_makes_one_voucher(world, merchant):
    offer = publish(merchant=merchant, min_tier="", per_resident_limit=5)
    resident = make_resident()
    headers = {"HTTP_IDEMPOTENCY_KEY": "double-tap"}
    calls = [(resident, "post", f"/api/v1/offers/{offer.pk}/claim", None, headers)] * 20
    results = fire(calls)
    tally = codes(results)
    assert Voucher.objects.count() == 1
    assert set(tally) <= {(201, None), (409, "request_in_progress")}, tally
    created = {body["code"] for status, body in results if status == 201}
    assert len(created) == 1  # every 201 is the same voucher, replayed
    answers = {json.dumps(body, sort_keys=True) for status, body in results if status == 201}
    assert len(answers) == 1  # and the very same answer
    # a repeat whose take met the first one's answer undid its own tally and place
    assert ClaimTally.objects.get(resident=resident).held == 1
    assert Offer.objects.get(pk=offer.pk).claimed_count == 1


def test_same_idempotency_key_refused_20_times_at_once_counts_one_refusal(world, merchant):
    """A refusal under a key is stored as the key's answer with its count (issue 27): the
    first one stored wins, every repeat answers it (or, if it came while the first was
    running, 409 request_in_progress), and the refusal is counted once."""
    from incentives.models import IdempotencyRecord, RefusalCount

    offer = publish(merchant=merchant, min_tier="", per_resident_limit=5)
    resident = make_resident(listed=True)  # seriously dishonest: not eligible
    headers = {"HTTP_IDEMPOTENCY_KEY": "double-tap"}
    calls = [(resident, "post", f"/api/v1/offers/{offer.pk}/claim", None, headers)] * 20
    results = fire(calls)
    tally = codes(results)
    assert set(tally) <= {(403, "not_eligible"), (409, "request_in_progress")}, tally
    assert tally[(403, "not_eligible")] >= 1, tally
    refusals = {json.dumps(b, sort_keys=True) for status, b in results if status == 403}
    assert len(refusals) == 1  # every 403 the very same stored answer
    assert not Voucher.objects.exists()
    assert RefusalCount.objects.get().count == 1
    assert IdempotencyRecord.objects.get(user=resident).response_status == 403


@pytest.mark.parametrize("round_", range(5))
def test_cancel_racing_redeem_leaves_one_winner_and_counts_that_match(world, merchant, round_):
    offer = publish(merchant=merchant, min_tier="", total_quota=10)
    resident = make_resident()
    clerk = merchant_staff(merchant)
    claimer = APIClient()
    claimer.credentials(**bearer(resident))
    voucher = claimer.post(f"/api/v1/offers/{offer.pk}/claim").json()
    calls = [
        (resident, "post", f"/api/v1/me/vouchers/{voucher['code']}/cancel", None, {}),
        (clerk, "post", "/api/v1/merchant/redemptions", {"token": voucher["token"]}, {}),
    ] * 3
    results = fire(calls)
    winners = [r for r in results if r[0] in (200, 201)]
    final = Voucher.objects.get()
    offer.refresh_from_db()
    if final.status == "redeemed":
        assert {r[0] for r in winners} == {201} and len(winners) == 1
        assert offer.claimed_count == 1 and Redemption.objects.count() == 1
    else:
        assert final.status == "cancelled"
        assert {r[0] for r in winners} == {200} and len(winners) == 1
        assert offer.claimed_count == 0 and not Redemption.objects.exists()
    assert ClaimTally.objects.get(resident=resident).held == offer.claimed_count
    assert all(r[0] in (200, 201, 409, 410) for r in results), results
    live = Voucher.objects.exclude(status__in=["cancelled", "revoked"]).count()
    assert Offer.objects.get(pk=offer.pk).claimed_count == live


def test_a_listed_holders_voucher_scanned_20_times_at_once_is_revoked_once(world, merchant):
    """The listing landed but its task was lost: every simultaneous redemption is refused,
    the voucher ends revoked and its place returns exactly once."""
    from accounts.credit.models import ListedPerson

    offer = publish(merchant=merchant, min_tier="", total_quota=10)
    resident = make_resident()
    claimer = APIClient()
    claimer.credentials(**bearer(resident))
    voucher = claimer.post(f"/api/v1/offers/{offer.pk}/claim").json()
    ListedPerson.objects.create(city_id="310100", person_hash=resident.id_hash)
    scanners = [merchant_staff(merchant), merchant_staff(merchant)]
    calls = [
        (scanners[i % 2], "post", "/api/v1/merchant/redemptions", {"token": voucher["token"]}, {})
        for i in range(20)
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(410, "voucher_revoked"): 20}), tally
    assert not Redemption.objects.exists()
    assert Voucher.objects.get().status == "revoked"
    assert Offer.objects.get(pk=offer.pk).claimed_count == 0
    assert ClaimTally.objects.get(resident=resident).held == 0


def test_offline_batches_racing_online_redemptions_redeem_each_voucher_once(world, merchant):
    """Two scanners upload offline batches of the same 30 vouchers (one of them twice at
    once, a retry racing its original) while a third scanner redeems each voucher online:
    every voucher is redeemed exactly once, and every offline row that lost is a recorded
    conflict with the winner's time."""
    from datetime import timedelta
    from uuid import uuid4

    from django.utils import timezone

    from incentives.models import OfflineRedemption

    offer = publish(merchant=merchant, min_tier="", total_quota=None, per_resident_limit=50)
    vouchers = []
    for _ in range(30):
        claimer = APIClient()
        claimer.credentials(**bearer(make_resident()))
        vouchers.append(claimer.post(f"/api/v1/offers/{offer.pk}/claim").json())
    gate_a, gate_b, online = (merchant_staff(merchant) for _ in range(3))
    scanned = (timezone.now() - timedelta(minutes=3)).isoformat()

    def batch(device: str) -> dict:
        return {
            "redemptions": [
                {
                    "token": v["token"],
                    "scanned_at": scanned,
                    "device_id": device,
                    "nonce": uuid4().hex,
                }
                for v in vouchers
            ]
        }

    batch_a, batch_b = batch("gate-a"), batch("gate-b")
    batch_b["redemptions"].reverse()  # the two gates meet in the middle
    path = "/api/v1/merchant/redemptions/batch"
    online_order = [*range(15, 30), *range(14, -1, -1)]  # from the middle outwards
    sequences = [
        [(gate_a, path, batch_a)],
        [(gate_a, path, batch_a)],  # the same batch again, at the same time
        [(gate_b, path, batch_b)],
        *(
            [(online, "/api/v1/merchant/redemptions", {"token": vouchers[i]["token"]})]
            for i in online_order[:10]  # ten single redemptions at the start
        ),
        [  # and one clerk going through the rest, one after another
            (online, "/api/v1/merchant/redemptions", {"token": vouchers[i]["token"]})
            for i in online_order[10:]
        ],
    ]
    results = fire_sequences(sequences)
    (a1, body_a1), (a2, body_a2), (b, body_b) = (r[0] for r in results[:3])
    assert (a1, a2, b) == (200, 200, 200), results[:3]
    assert body_a1 == body_a2  # one nonce, one result, whichever request applied it
    answered = [answer for sequence in results[3:] for answer in sequence]
    by_voucher = dict(zip(online_order, answered, strict=True))
    online_answers = [by_voucher[i] for i in range(30)]
    assert {status for status, _body in online_answers} <= {201, 409}

    assert Redemption.objects.count() == 30
    assert Voucher.objects.filter(status="redeemed").count() == 30
    nonce_a = {r["token"]: r["nonce"] for r in batch_a["redemptions"]}
    nonce_b = {r["token"]: r["nonce"] for r in batch_b["redemptions"]}
    outcome_a = {r["nonce"]: r for r in body_a1["results"]}
    outcome_b = {r["nonce"]: r for r in body_b["results"]}
    for i, voucher in enumerate(vouchers):
        row_a = outcome_a[nonce_a[voucher["token"]]]
        row_b = outcome_b[nonce_b[voucher["token"]]]
        online_won = online_answers[i][0] == 201
        winners = [online_won, row_a["outcome"] == "redeemed", row_b["outcome"] == "redeemed"]
        assert sum(winners) == 1, (voucher["code"], winners)
        first = timezone.localtime(Voucher.objects.get(code=voucher["code"]).redeemed_at)
        for row in (row_a, row_b):
            assert row["outcome"] in ("redeemed", "already_redeemed")
            assert row["redeemed_at"] == first.isoformat()
    lost_rows = [
        r for r in [*body_a1["results"], *body_b["results"]] if r["outcome"] == "already_redeemed"
    ]
    online_wins = sum(1 for status, _body in online_answers if status == 201)
    assert len(lost_rows) == 60 - (30 - online_wins)  # every offline row but the winners
    conflicts = set(OfflineRedemption.objects.filter(conflict=True).values_list("nonce", flat=True))
    assert conflicts == {r["nonce"] for r in lost_rows}
    assert OfflineRedemption.objects.count() == 60  # the retried batch added nothing
