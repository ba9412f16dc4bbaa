"""Eligibility, one answer everywhere: every reason an offer may be refused, crossed with
every path that answers it — the offer list, the offer's detail, the claim (a voucher
offer) and the pass check at the counter (an entitlement offer). The list and the detail
show the reason in `eligibility.reasons`; the claim and the check refuse with it in
`detail.reasons` (or with the code api.md gives that reason); what is not an eligibility
reason (a paused merchant) is answered the same way by every path that can meet it. Sold
out and the per-period limit are reasons too (issue 23: a card never promises what the
claim or the check refuses), answered by the claim and the check with their own codes.
Replaces the equivalence test of the list's SQL with the claim's and check's row
(incentives.eligibility holds both)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.credit.models import Consent, ConsentText, Honour
from incentives import signing
from incentives.eligibility import OFFER_RULES, PERSONAL_RULES, REASONS, Reason
from incentives.models import EntitlementUse, Incident
from merchants.models import Merchant, Offer
from tests.factories import ResidentFactory
from tests.merchants.factories import MerchantFactory, merchant_staff

from .conftest import client_for, make_resident, publish

pytestmark = pytest.mark.django_db

VOUCHER, ENTITLEMENT = Offer.Kind.VOUCHER, Offer.Kind.ENTITLEMENT
SCORE = 650  # 钱江分 good: below excellent, 800 and the grade AAA


@dataclass(frozen=True)
class Case:
    """One way an offer may be refused. `reason`: the eligibility reason every path tells
    (None: none); `shown`: the lists and the detail show the offer; `claim`/`check`: the
    claim's and the check's answer (status, code) when it is not the reason's own."""

    name: str
    reason: Reason | None = None
    kinds: tuple[str, ...] = (VOUCHER, ENTITLEMENT)
    offer: dict = field(default_factory=dict)
    resident: Callable | None = None
    arrange: Callable | None = None  # (world, resident, offer) -> None
    shown: bool = True
    claim: tuple[int, str] | None = None
    check: tuple[int, str] | None = None


def _withdraw(world, resident, offer):
    Consent.objects.filter(resident=resident).update(withdrawn_at=timezone.now())


def _bare_resident():
    resident = ResidentFactory(home_city_id="330100")
    Consent.objects.create(resident=resident, text=ConsentText.objects.get(is_current=True))
    return resident


def _honour_elsewhere(world, resident, offer):
    # an honour of another kind is no help
    Honour.objects.create(city_id="330100", person_hash=resident.id_hash, kind="good_samaritan")


def _claim_once(world, resident, offer):
    assert client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201


def _sold_out(world, resident, offer):
    assert client_for(make_resident()).post(f"/api/v1/offers/{offer.pk}/claim").status_code == 201


def _use_once(world, resident, offer):
    assert _check(world, resident, offer).status_code == 201


def _suspend(world, resident, offer):
    lane = _publish(world, ENTITLEMENT, title="事件所在")
    now = timezone.now()
    use = EntitlementUse.objects.create(
        offer=lane,
        resident=resident,
        merchant=world.merchant,
        staff=world.clerk,
        pass_id=-1,
        period_start=now.date(),
        scenario="stay",
        category="hotel",
        dest_city_id="330100",
        home_city_id=resident.home_city_id,
    )
    Incident.objects.create(
        merchant=world.merchant,
        dest_city_id="330100",
        resident=resident,
        offer=lane,
        scenario="stay",
        use=use,
        kind="damage",
        status="upheld",
        reported_by=world.clerk,
        suspended_until=now + timedelta(days=3),
    )


def _pause_merchant(world, resident, offer):
    Merchant.objects.filter(pk=offer.merchant_id).update(status=Merchant.Status.SUSPENDED)


def _pause_offer(world, resident, offer):
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.PAUSED)


def _days(a: int, b: int) -> dict:
    now = timezone.now()
    return {"valid_from": now + timedelta(days=a), "valid_until": now + timedelta(days=b)}


CASES = (
    Case("eligible"),
    Case(
        "listed",
        Reason.SERIOUSLY_DISHONEST,
        resident=lambda: make_resident(score=SCORE, listed=True),
    ),
    Case(
        "consent withdrawn",
        Reason.CONSENT_WITHDRAWN,
        arrange=_withdraw,
        claim=(403, "consent_required"),
    ),
    Case("no standing", Reason.NO_STANDING, resident=_bare_resident, claim=(403, "no_standing")),
    Case(
        "stale standing",
        Reason.STANDING_EXPIRED,
        resident=lambda: make_resident(score=SCORE, expired=True),
    ),
    Case("tier", Reason.TIER_TOO_LOW, offer={"min_tier": "excellent"}),
    Case("score minimum", Reason.SCORE_TOO_LOW, offer={"min_score": 800}),
    Case("grade minimum", Reason.SCORE_TOO_LOW, offer={"city": "610800", "min_grade": "AAA"}),
    Case("home city", Reason.HOME_CITY_NOT_ELIGIBLE, offer={"home_city_rule": "visitors"}),
    Case(
        "home city not listed",
        Reason.HOME_CITY_NOT_ELIGIBLE,
        offer={"home_city_rule": "listed", "cities": ["460100"]},
    ),
    Case(
        "honour required",
        Reason.HONOUR_REQUIRED,
        offer={"required_honour": "blood_donor"},
        arrange=_honour_elsewhere,
    ),
    Case(
        "claim limit",
        Reason.CLAIM_LIMIT_REACHED,
        kinds=(VOUCHER,),
        offer={"per_resident_limit": 1},
        arrange=_claim_once,
        claim=(409, "claim_limit_reached"),
    ),
    Case(
        "per-period limit",
        Reason.USAGE_LIMIT_REACHED,
        kinds=(ENTITLEMENT,),
        arrange=_use_once,
        check=(409, "usage_limit_reached"),
    ),
    Case("suspended", Reason.SUSPENDED, arrange=_suspend),
    Case(
        "merchant paused",
        arrange=_pause_merchant,
        shown=False,
        claim=(410, "offer_not_active"),
        check=(410, "offer_not_active"),
    ),
    Case(
        "offer paused",
        arrange=_pause_offer,
        shown=False,
        claim=(410, "offer_not_active"),
        check=(410, "offer_not_active"),
    ),
    Case(
        "not yet live",
        Reason.OFFER_NOT_STARTED,
        offer=_days(1, 5),
        shown=False,
        claim=(410, "offer_not_active"),
        check=(410, "offer_not_active"),
    ),
    Case(
        "ended",
        Reason.OFFER_ENDED,
        offer=_days(-5, -1),
        shown=False,
        claim=(410, "offer_not_active"),
        check=(410, "offer_not_active"),
    ),
    Case(
        "sold out",
        Reason.QUOTA_EXHAUSTED,
        kinds=(VOUCHER,),
        offer={"total_quota": 1},
        arrange=_sold_out,
        claim=(409, "quota_exhausted"),
    ),
)


@dataclass
class World:
    merchants: dict
    clerks: dict
    city: str = "330100"

    @property
    def merchant(self):
        return self.merchants[self.city]

    @property
    def clerk(self):
        return self.clerks[self.city]


@pytest.fixture
def grid_world(world):
    merchants = {
        "330100": MerchantFactory(city_id="330100", name="西湖商户"),
        "610800": MerchantFactory(city_id="610800", name="榆林商户"),
    }
    return World(merchants, {code: merchant_staff(m) for code, m in merchants.items()})


def _publish(world: World, kind: str, **fields) -> Offer:
    fields = {
        "min_tier": "",
        "total_quota": None,
        "per_resident_limit": 2,
        "scenario": "stay",
        "category": "hotel",
        **fields,
    }
    cities = fields.pop("cities", None)
    if kind == ENTITLEMENT:
        fields.update(kind=kind, benefit_type="deposit_waiver", benefit_value=None)
        fields.setdefault("limit_per_period", 1)
        fields.setdefault("period", "day")
    offer = publish(merchant=world.merchant, **fields)
    if cities:
        offer.eligible_home_cities.set(cities)
    return offer


def _check(world: World, resident, offer):
    token = signing.sign_pass(
        resident_id=resident.pk, expires_at=timezone.now() + timedelta(minutes=5)
    )
    return client_for(world.clerk).post(
        "/api/v1/merchant/pass-checks", {"token": token, "offer_id": offer.pk}, format="json"
    )


def _arranged(grid_world: World, case: Case, kind: str):
    spec = dict(case.offer)
    grid_world.city = spec.pop("city", "330100")
    offer = _publish(grid_world, kind, **spec)
    resident = case.resident() if case.resident else make_resident(score=SCORE)
    if case.arrange:
        case.arrange(grid_world, resident, offer)
    return resident, offer


def _refusal(res) -> tuple[int, str, list]:
    body = res.json()
    if res.status_code in (200, 201):
        return res.status_code, "", []
    error = body["error"]
    return res.status_code, error["code"], error.get("detail", {}).get("reasons", [])


_GRID = [
    pytest.param(case, kind, id=f"{case.name}-{kind}") for case in CASES for kind in case.kinds
]


@pytest.mark.parametrize(("case", "kind"), _GRID)
def test_every_path_gives_the_same_answer(grid_world, case, kind):
    resident, offer = _arranged(grid_world, case, kind)
    client = client_for(resident)
    reasons = [case.reason] if case.reason else []
    eligibility = {"eligible": not reasons, "reasons": reasons}

    # the list (every page row carries the resident's eligibility) and the detail
    rows = client.get("/api/v1/offers", {"page_size": 100}).json()["results"]
    listed = {row["id"]: row["eligibility"] for row in rows}
    detail = client.get(f"/api/v1/offers/{offer.pk}")
    if case.shown:
        assert listed.get(offer.pk) == eligibility
        assert detail.status_code == 200 and detail.json()["eligibility"] == eligibility
        # eligible=true lists exactly the offers without a reason
        only = client.get("/api/v1/offers", {"eligible": "true", "page_size": 100}).json()
        assert (offer.pk in {row["id"] for row in only["results"]}) == (not reasons)
    else:  # not live, or its merchant paused: no path shows it
        assert offer.pk not in listed
        assert detail.status_code == 404

    # the claim (voucher) or the check at the counter (entitlement): the same reason
    if kind == VOUCHER:
        answer, expected = client.post(f"/api/v1/offers/{offer.pk}/claim"), case.claim
    else:
        answer, expected = _check(grid_world, resident, offer), case.check
    status, code, told = _refusal(answer)
    if expected is None:
        expected = (403, "not_eligible") if reasons else (201, "")
    assert (status, code) == expected, answer.content
    if case.reason and code not in {
        "claim_limit_reached",
        "no_standing",
        "quota_exhausted",
        "usage_limit_reached",
    }:
        assert told == reasons  # detail.reasons names the same reason


def test_the_grid_covers_every_reason_and_the_rules_follow_the_enumeration():
    """Every reason of the enumeration is met by some case, and the rule tables list the
    reasons in the enumeration's order (the order every path tells them in)."""
    assert {case.reason for case in CASES if case.reason} == set(Reason)
    assert [rule.reason for rule in (*PERSONAL_RULES, *OFFER_RULES)] == list(Reason)
    assert list(REASONS) == [reason.value for reason in Reason]


def test_reasons_come_in_the_order_of_the_enumeration_on_every_path(grid_world):
    """Several reasons at once: the same list, in the same order, from the list, the detail,
    the claim and the check."""
    resident = make_resident(score=SCORE, expired=True)
    expected = ["standing_expired", "home_city_not_eligible", "tier_too_low", "honour_required"]
    spec = {"min_tier": "excellent", "home_city_rule": "visitors", "required_honour": "x"}
    voucher, entitlement = (_publish(grid_world, kind, **spec) for kind in (VOUCHER, ENTITLEMENT))
    client = client_for(resident)
    rows = client.get("/api/v1/offers", {"page_size": 100}).json()["results"]
    for offer in (voucher, entitlement):
        assert next(r for r in rows if r["id"] == offer.pk)["eligibility"]["reasons"] == expected
        assert client.get(f"/api/v1/offers/{offer.pk}").json()["eligibility"]["reasons"] == (
            expected
        )
    assert _refusal(client.post(f"/api/v1/offers/{voucher.pk}/claim")) == (
        403,
        "not_eligible",
        expected,
    )
    assert _refusal(_check(grid_world, resident, entitlement)) == (403, "not_eligible", expected)


def test_sold_out_is_told_with_the_other_reasons_and_the_limit_wins_alone(grid_world):
    """A sold-out offer the resident may not have anyway: every path names both reasons;
    one whose per-resident limit they reached answers `409 claim_limit_reached` as before."""
    too_high = _publish(grid_world, VOUCHER, min_tier="excellent", total_quota=1)
    _sold_out(grid_world, None, too_high)
    resident = make_resident(score=SCORE)
    client = client_for(resident)
    expected = ["tier_too_low", "quota_exhausted"]
    assert client.get(f"/api/v1/offers/{too_high.pk}").json()["eligibility"]["reasons"] == (
        expected
    )
    assert _refusal(client.post(f"/api/v1/offers/{too_high.pk}/claim")) == (
        403,
        "not_eligible",
        expected,
    )
    held = _publish(grid_world, VOUCHER, total_quota=1, per_resident_limit=1)
    _claim_once(grid_world, resident, held)  # their claim took the last place
    assert client.get(f"/api/v1/offers/{held.pk}").json()["eligibility"]["reasons"] == [
        "claim_limit_reached",
        "quota_exhausted",
    ]
    assert _refusal(client.post(f"/api/v1/offers/{held.pk}/claim"))[:2] == (
        409,
        "claim_limit_reached",
    )


@pytest.mark.parametrize("period", ["day", "week", "month", "offer"])
def test_a_used_up_period_is_told_for_every_kind_of_period(grid_world, period):
    lane = _publish(grid_world, ENTITLEMENT, period=period, limit_per_period=1)
    resident = make_resident(score=SCORE)
    client = client_for(resident)
    assert client.get(f"/api/v1/offers/{lane.pk}").json()["eligibility"]["eligible"]
    _use_once(grid_world, resident, lane)
    told = client.get(f"/api/v1/offers/{lane.pk}").json()["eligibility"]
    assert told == {"eligible": False, "reasons": ["usage_limit_reached"]}
    only = client.get("/api/v1/offers", {"eligible": "true", "page_size": 100}).json()
    assert lane.pk not in {row["id"] for row in only["results"]}
    assert _refusal(_check(grid_world, resident, lane))[:2] == (409, "usage_limit_reached")


def test_the_list_with_sold_out_and_used_up_offers_runs_a_fixed_number_of_queries(grid_world):
    """The two rules of what is left are part of the list's one query: many offers, sold
    out or used up or not, cost the same few queries as one (no query per offer)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    resident = make_resident(score=SCORE)
    client = client_for(resident)
    _publish(grid_world, VOUCHER)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            res = client.get("/api/v1/offers", {"page_size": 100})
        assert res.status_code == 200
        return len(ctx.captured_queries)

    count()  # the resident's equivalents are cached after their first page
    few = count()
    for i in range(12):
        sold = _publish(grid_world, VOUCHER, total_quota=1, title=f"售罄 {i}")
        _sold_out(grid_world, resident, sold)
        lane = _publish(grid_world, ENTITLEMENT, period=("day", "week", "month", "offer")[i % 4])
        _use_once(grid_world, resident, lane)
    rows = client.get("/api/v1/offers", {"page_size": 100}).json()["results"]
    told = [r["eligibility"]["reasons"] for r in rows]
    assert told.count(["quota_exhausted"]) == 12 and told.count(["usage_limit_reached"]) == 12
    assert count() == few
