"""Offers open to "the residents of alliance X" (issue 26): the member list at the time of
asking decides, the same way on the list, the detail, the claim and the pass check, and
the claim's statements do not grow."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Alliance
from incentives import signing
from incentives.models import Voucher
from merchants import services
from merchants.models import Offer
from tests.incentives.conftest import client_for, make_resident, publish
from tests.incentives.test_hot_path import CLAIM_STATEMENTS, work_statements
from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff

pytestmark = pytest.mark.django_db

YRD = "yrd"  # 上海, 南京, 无锡, 苏州, 南通, 杭州, 宁波, 合肥 (accounts.reference)


def _alliance_offer(merchant, **fields) -> Offer:
    """Listed for no city by name: only the residents of the YRD's member cities."""
    fields = {"min_tier": "", "home_city_rule": "listed", "eligible_alliance_id": YRD, **fields}
    return publish(merchant=merchant, **fields)


def _eligibility(resident, offer) -> tuple[dict, dict]:
    client = client_for(resident)
    rows = client.get("/api/v1/offers", {"page_size": 100}).json()["results"]
    listed = {row["id"]: row for row in rows}[offer.pk]
    detail = client.get(f"/api/v1/offers/{offer.pk}").json()
    assert listed["eligibility"] == detail["eligibility"]
    return listed["eligibility"], listed["eligibility_rule"]


def _claim(resident, offer):
    return client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")


def test_a_member_citys_resident_may_claim(world, merchant):
    offer = _alliance_offer(merchant)
    nanjing = make_resident("320100")  # a YRD member, not the merchant's city (杭州)
    eligibility, rule = _eligibility(nanjing, offer)
    assert eligibility == {"eligible": True, "reasons": []}
    assert rule["home_city_rule"] == "listed" and rule["eligible_alliance"] == YRD
    assert rule["eligible_home_cities"] == []
    res = _claim(nanjing, offer)
    assert res.status_code == 201, res.content
    voucher = Voucher.objects.get()
    assert voucher.terms["eligible_alliance"] == YRD
    assert voucher.terms == offer.terms_snapshot()  # the claim's one read keeps it too


def test_a_non_members_resident_may_not(world, merchant):
    offer = _alliance_offer(merchant)
    haikou = make_resident("460100")  # the ten-city alliance, not the YRD
    eligibility, _rule = _eligibility(haikou, offer)
    assert eligibility == {"eligible": False, "reasons": ["home_city_not_eligible"]}
    res = _claim(haikou, offer)
    assert res.status_code == 403
    assert res.json()["error"]["detail"]["reasons"] == ["home_city_not_eligible"]
    assert not Voucher.objects.exists()


def test_named_cities_and_the_alliance_add_up(world, merchant):
    offer = _alliance_offer(merchant)
    offer.eligible_home_cities.set(["460100"])
    assert _claim(make_resident("460100"), offer).status_code == 201  # named
    assert _claim(make_resident("310100"), offer).status_code == 201  # a member
    assert _claim(make_resident("350200"), offer).status_code == 403  # neither


def test_a_city_that_joins_after_the_offer_was_made_is_in_at_claim_time(world, merchant):
    offer = _alliance_offer(merchant)
    xiamen = make_resident("350200")
    assert _eligibility(xiamen, offer)[0]["eligible"] is False
    assert _claim(xiamen, offer).status_code == 403
    Alliance.objects.get(pk=YRD).members.add("350200")
    assert _eligibility(xiamen, offer)[0] == {"eligible": True, "reasons": []}
    assert _claim(xiamen, offer).status_code == 201
    # and one that leaves is out for the next claim
    Alliance.objects.get(pk=YRD).members.remove("320100")
    nanjing = make_resident("320100")
    assert _eligibility(nanjing, offer)[0]["reasons"] == ["home_city_not_eligible"]
    assert _claim(nanjing, offer).status_code == 403


def test_the_pass_check_asks_the_same_rule(world, merchant):
    clerk = merchant_staff(merchant)
    offer = _alliance_offer(
        merchant,
        kind="entitlement",
        benefit_type="deposit_waiver",
        benefit_value=None,
        limit_per_period=1,
        period="day",
        scenario="stay",
        category="hotel",
    )

    def check(resident):
        token = signing.sign_pass(
            resident_id=resident.pk, expires_at=timezone.now() + timedelta(minutes=5)
        )
        return client_for(clerk).post(
            "/api/v1/merchant/pass-checks", {"token": token, "offer_id": offer.pk}, format="json"
        )

    assert check(make_resident("340100")).status_code == 201  # 合肥: a member
    refused = check(make_resident("460200"))  # 三亚: not
    assert refused.status_code == 403
    assert refused.json()["error"]["detail"]["reasons"] == ["home_city_not_eligible"]


def test_claiming_an_alliance_offer_takes_the_pinned_statements(world, merchant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    offer = _alliance_offer(merchant, per_resident_limit=1)
    resident = make_resident("320500")
    client = client_for(resident)
    with CaptureQueriesContext(connection) as ctx:
        res = client.post(f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY="a-1")
    assert res.status_code == 201, res.content
    assert len(work_statements(ctx)) == CLAIM_STATEMENTS


def test_an_alliance_alone_satisfies_the_listed_rule_and_other_rules_drop_it(world, merchant):
    clerk = merchant_staff(merchant)
    base = {
        "title": "长三角居民专享",
        "description": "凭券优惠",
        "category": "scenic",
        "scenario": "travel",
        "benefit_type": "percent_off",
        "benefit_value": 20,
        "valid_from": timezone.now(),
        "valid_until": timezone.now() + timedelta(days=30),
        "home_city_rule": "listed",
    }
    alone = services.create_offer(
        actor=clerk,
        merchant=merchant,
        fields={**base, "eligible_alliance": Alliance.objects.get(pk=YRD)},
    )
    assert alone.eligible_alliance_id == YRD
    everyone = services.create_offer(
        actor=clerk,
        merchant=merchant,
        fields={
            **base,
            "home_city_rule": "all",
            "eligible_alliance": Alliance.objects.get(pk=YRD),
        },
    )
    assert everyone.eligible_alliance_id is None


def test_naming_an_alliance_on_a_published_offer_waits_for_review(world, merchant):
    clerk, reviewer = merchant_staff(merchant), city_staff("330100")
    offer = publish(merchant=merchant, min_tier="", home_city_rule="listed")
    offer.eligible_home_cities.set(["330100"])
    ten = Alliance.objects.get(pk="ten-cities")
    services.revise_offer(actor=clerk, offer=offer, changes={"eligible_alliance": ten})
    offer.refresh_from_db()
    assert offer.eligible_alliance_id is None  # residents keep the approved terms
    assert offer.pending_terms == {"eligible_alliance": "ten-cities"}
    assert _claim(make_resident("460100"), offer).status_code == 403
    services.publish_offer(actor=reviewer, offer=offer)
    offer.refresh_from_db()
    assert (offer.eligible_alliance_id, offer.terms_version, offer.pending_terms) == (
        "ten-cities",
        2,
        {},
    )
    assert _claim(make_resident("460100"), offer).status_code == 201


def test_another_citys_merchant_offer_is_not_opened_by_the_alliance_to_its_own(world):
    # the rule is about residents' home cities only: the offer's city need not be a member
    sanya = MerchantFactory(city_id="460200", name="三亚酒店")
    offer = _alliance_offer(sanya)
    assert _claim(make_resident("330100"), offer).status_code == 201
    assert _claim(make_resident("460200"), offer).status_code == 403


def test_merchant_staff_name_an_alliance_in_the_offer_form(world, merchant, client):
    from tests.merchants.test_admin import ADD, form_data

    client.force_login(merchant_staff(merchant))
    data = form_data(merchant=merchant, home_city_rule="listed", eligible_alliance="yrd")
    response = client.post(ADD, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    offer = Offer.objects.get(title="新优惠")
    assert (offer.home_city_rule, offer.eligible_alliance_id) == ("listed", "yrd")
    assert list(offer.eligible_home_cities.all()) == []
    # neither a city nor an alliance: the form says so
    data = form_data(merchant=merchant, home_city_rule="listed", title="另一个")
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "至少选择一个城市" in " ".join(
        response.context["adminform"].form.errors["eligible_home_cities"]
    )
    # another rule drops the alliance
    data = form_data(merchant=merchant, home_city_rule="all", eligible_alliance="yrd", title="三")
    assert client.post(ADD, data).status_code == 302
    assert Offer.objects.get(title="三").eligible_alliance_id is None
