"""Pass checks under concurrency, on PostgreSQL with real threads: every request is a full
request through the stack on its own database connection."""

from collections import Counter

import pytest

from incentives.models import EntitlementTally, EntitlementUse
from merchants.models import Offer
from tests.incentives.conftest import client_for, make_resident, publish
from tests.incentives.test_concurrency import codes, fire
from tests.merchants.factories import merchant_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _entitlement(merchant, **fields) -> Offer:
    return publish(
        merchant=merchant,
        kind=Offer.Kind.ENTITLEMENT,
        scenario="stay",
        category="hotel",
        benefit_type="deposit_waiver",
        benefit_value=None,
        min_tier="",
        **fields,
    )


def _pass(resident) -> str:
    res = client_for(resident).get("/api/v1/me/credit/pass")
    assert res.status_code == 200, res.content
    return res.json()["token"]


def test_40_simultaneous_checks_of_one_pass_use_it_once(world, merchant):
    offer = _entitlement(merchant, limit_per_period=100, period="day")
    token = _pass(make_resident())
    clerks = [merchant_staff(merchant), merchant_staff(merchant)]
    calls = [
        (
            clerks[i % 2],
            "post",
            "/api/v1/merchant/pass-checks",
            {"token": token, "offer_id": offer.pk},
            {},
        )
        for i in range(40)
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 1, (409, "pass_already_used"): 39}), tally
    assert EntitlementUse.objects.count() == 1
    assert EntitlementTally.objects.get().used == 1


def test_the_same_pass_at_a_limit_of_one_is_still_already_used(world, merchant):
    offer = _entitlement(merchant, limit_per_period=1, period="day")
    token = _pass(make_resident())
    clerk = merchant_staff(merchant)
    calls = [
        (clerk, "post", "/api/v1/merchant/pass-checks", {"token": token, "offer_id": offer.pk}, {})
        for _ in range(20)
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 1, (409, "pass_already_used"): 19}), tally


def test_the_per_period_limit_is_exact_across_many_passes_of_one_person(world, merchant):
    offer = _entitlement(merchant, limit_per_period=3, period="week")
    resident = make_resident()
    tokens = [_pass(resident) for _ in range(30)]
    assert len(set(tokens)) == 30
    clerks = [merchant_staff(merchant) for _ in range(3)]
    calls = [
        (
            clerks[i % 3],
            "post",
            "/api/v1/merchant/pass-checks",
            {"token": token, "offer_id": offer.pk},
            {},
        )
        for i, token in enumerate(tokens)
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 3, (409, "usage_limit_reached"): 27}), tally
    assert EntitlementUse.objects.filter(resident=resident).count() == 3
    assert EntitlementTally.objects.get().used == 3


def test_different_people_do_not_share_a_limit(world, merchant):
    offer = _entitlement(merchant, limit_per_period=1, period="offer")
    residents = [make_resident() for _ in range(12)]
    tokens = [_pass(r) for r in residents for _ in range(2)]
    clerk = merchant_staff(merchant)
    calls = [
        (clerk, "post", "/api/v1/merchant/pass-checks", {"token": t, "offer_id": offer.pk}, {})
        for t in tokens
    ]
    tally = codes(fire(calls))
    assert tally == Counter({(201, None): 12, (409, "usage_limit_reached"): 12}), tally
    assert sorted(EntitlementUse.objects.values_list("resident_id", flat=True)) == sorted(
        r.pk for r in residents
    )
