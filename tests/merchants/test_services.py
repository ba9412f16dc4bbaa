"""The review workflow and offer revisions, through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from merchants import services
from merchants.models import Merchant, Offer, OfferTransition
from merchants.workflow import TRANSITIONS

from .factories import MerchantFactory, OfferFactory, city_staff, merchant_staff, superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(cities):
    merchant = MerchantFactory(city_id="330100")
    other = MerchantFactory(city_id="460100")
    return {
        "merchant": merchant,
        "staff": merchant_staff(merchant),
        "other_staff": merchant_staff(other),
        "city": city_staff("330100"),
        "other_city": city_staff("460100"),
        "root": superuser(),
    }


def code_of(call) -> str:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.code


def offer_in(people, status: str, **kw) -> Offer:
    return OfferFactory(merchant=people["merchant"], status=status, **kw)


FIELDS = {
    "title": "西湖游船八折",
    "description": "守信居民专享",
    "category": "scenic",
    "benefit_type": "percent_off",
    "benefit_value": Decimal("20"),
    "min_tier": "good",
}


def window() -> dict:
    now = timezone.now()
    return {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=10)}


def test_create_offer_makes_a_recorded_draft(people):
    offer = services.create_offer(
        actor=people["staff"], merchant=people["merchant"], fields={**FIELDS, **window()}
    )
    assert offer.status == "draft" and offer.created_by == people["staff"]
    t = offer.transitions.get()
    assert (t.action, t.from_status, t.to_status, t.actor) == (
        "create",
        "",
        "draft",
        people["staff"],
    )


def test_create_offer_for_another_merchant_is_permission_denied(people):
    call = lambda: services.create_offer(  # noqa: E731
        actor=people["other_staff"], merchant=people["merchant"], fields={**FIELDS, **window()}
    )
    assert code_of(call) == "permission_denied"
    assert not Offer.objects.exists()


def test_create_offer_refuses_bad_input_with_field_details(people):
    with pytest.raises(DomainError) as exc:
        services.create_offer(
            actor=people["staff"],
            merchant=people["merchant"],
            fields={**FIELDS, **window(), "benefit_value": Decimal("0"), "per_resident_limit": 0},
        )
    assert exc.value.code == "invalid_request" and exc.value.status == 400
    assert {"benefit_value", "per_resident_limit"} <= set(exc.value.detail)


def test_listed_home_cities_must_name_a_city(people):
    fields = {**FIELDS, **window(), "home_city_rule": "listed"}
    with pytest.raises(DomainError) as exc:
        services.create_offer(actor=people["staff"], merchant=people["merchant"], fields=fields)
    assert "eligible_home_cities" in exc.value.detail
    offer = services.create_offer(
        actor=people["staff"],
        merchant=people["merchant"],
        fields={**fields, "eligible_home_cities": ["460100"]},
    )
    assert list(offer.eligible_home_cities.values_list("code", flat=True)) == ["460100"]


def test_the_happy_path_is_recorded_step_by_step(people):
    offer = offer_in(people, "draft")
    offer = services.submit_offer(actor=people["staff"], offer=offer)
    assert offer.status == "submitted"
    offer = services.publish_offer(actor=people["city"], offer=offer)
    assert offer.status == "published" and offer.published_at is not None
    offer = services.pause_offer(actor=people["staff"], offer=offer, reason="装修")
    offer = services.resume_offer(actor=people["staff"], offer=offer)
    offer = services.end_offer(actor=people["city"], offer=offer, reason="活动结束")
    steps = list(offer.transitions.values_list("action", "from_status", "to_status", "actor"))
    assert steps == [
        ("submit", "draft", "submitted", people["staff"].pk),
        ("publish", "submitted", "published", people["city"].pk),
        ("pause", "published", "paused", people["staff"].pk),
        ("resume", "paused", "published", people["staff"].pk),
        ("end", "published", "ended", people["city"].pk),
    ]
    assert offer.transitions.get(action="end").reason == "活动结束"


def test_reject_needs_a_reason_the_merchant_sees_then_resubmit(people):
    offer = offer_in(people, "submitted")
    assert code_of(
        lambda: services.reject_offer(actor=people["city"], offer=offer, reason=" ")
    ) == ("reason_required")
    offer = services.reject_offer(actor=people["city"], offer=offer, reason="请写明折扣适用范围")
    assert offer.status == "rejected" and offer.rejection_reason == "请写明折扣适用范围"
    assert offer.transitions.get().reason == "请写明折扣适用范围"
    offer = services.submit_offer(actor=people["staff"], offer=offer)
    offer = services.publish_offer(actor=people["city"], offer=offer)
    assert offer.rejection_reason == ""


def test_withdraw_takes_a_submitted_offer_back_to_draft(people):
    offer = services.withdraw_offer(actor=people["staff"], offer=offer_in(people, "submitted"))
    assert offer.status == "draft"


@pytest.mark.parametrize(
    ("action", "start"),
    [
        (a, s)
        for a, (sources, _) in TRANSITIONS.items()
        if a != "revise"
        for s in Offer.Status.values
        if s not in sources
    ],
)
def test_every_transition_not_in_the_table_is_refused(people, action, start):
    offer = offer_in(people, start)
    kwargs = {"reason": "原因"} if action == "reject" else {}
    call = lambda: getattr(services, f"{action}_offer")(actor=people["root"], offer=offer, **kwargs)  # noqa: E731
    assert code_of(call) == "invalid_transition"
    offer.refresh_from_db()
    assert offer.status == start and not OfferTransition.objects.exists()


@pytest.mark.parametrize(
    ("action", "start", "who"),
    [
        ("submit", "draft", "city"),
        ("submit", "draft", "other_staff"),
        ("publish", "submitted", "staff"),
        ("publish", "submitted", "other_city"),
        ("reject", "submitted", "other_city"),
        ("pause", "published", "other_city"),
        ("pause", "published", "other_staff"),
        ("end", "published", "staff"),
        ("end", "published", "other_city"),
    ],
)
def test_actions_outside_ones_role_or_city_are_permission_denied(people, action, start, who):
    offer = offer_in(people, start)
    kwargs = {"reason": "原因"} if action == "reject" else {}
    service = getattr(services, f"{action}_offer")
    with pytest.raises(DomainError) as exc:
        service(actor=people[who], offer=offer, **kwargs)
    assert (exc.value.code, exc.value.status) == ("permission_denied", 403)
    offer.refresh_from_db()
    assert offer.status == start


def test_superuser_may_take_every_action(people):
    offer = offer_in(people, "draft")
    for action in ["submit", "publish", "pause", "resume", "end"]:
        offer = getattr(services, f"{action}_offer")(actor=people["root"], offer=offer)
    assert offer.status == "ended"


def test_an_offer_the_city_paused_only_the_city_resumes(people):
    offer = services.pause_offer(actor=people["city"], offer=offer_in(people, "published"))
    assert code_of(lambda: services.resume_offer(actor=people["staff"], offer=offer)) == (
        "paused_by_city"
    )
    assert services.resume_offer(actor=people["city"], offer=offer).status == "published"


def test_publishing_after_the_end_or_for_a_suspended_merchant_is_refused(people):
    over = offer_in(
        people,
        "submitted",
        valid_from=timezone.now() - timedelta(days=5),
        valid_until=timezone.now() - timedelta(days=1),
    )
    assert code_of(lambda: services.publish_offer(actor=people["city"], offer=over)) == (
        "offer_window_over"
    )
    offer = offer_in(people, "submitted")
    Merchant.objects.filter(pk=people["merchant"].pk).update(status="suspended")
    assert code_of(lambda: services.publish_offer(actor=people["city"], offer=offer)) == (
        "merchant_suspended"
    )


def test_revising_terms_of_a_published_offer_waits_for_review_and_changes_nothing(people):
    offer = offer_in(people, "published", claimed_count=5)
    revised = services.revise_offer(
        actor=people["staff"], offer=offer, changes={"benefit_value": Decimal("30")}
    )
    # residents, claims and exports keep the approved terms until the city decides
    fresh = Offer.objects.get(pk=offer.pk)
    assert (fresh.status, fresh.terms_version, fresh.benefit_value) == (
        "published",
        1,
        offer.benefit_value,
    )
    assert fresh.pending_terms == {"benefit_value": "30"}
    t = revised.transitions.get()
    assert (t.action, t.from_status, t.to_status, t.terms_version) == (
        "revise",
        "published",
        "published",
        1,
    )
    assert "优惠数值" in t.reason
    approved = services.publish_offer(actor=people["city"], offer=fresh)
    assert (approved.status, approved.terms_version, approved.benefit_value) == (
        "published",
        2,
        Decimal("30"),
    )
    assert approved.pending_terms == {} and approved.claimed_count == 5
    assert approved.transitions.last().action == "publish"


def test_a_rejected_revision_leaves_the_approved_terms(people):
    offer = offer_in(people, "published")
    services.revise_offer(actor=people["staff"], offer=offer, changes={"title": "未审核"})
    rejected = services.reject_offer(actor=people["city"], offer=offer, reason="标题不实")
    assert (rejected.status, rejected.title, rejected.terms_version) == (
        "published",
        offer.title,
        1,
    )
    assert (rejected.pending_terms, rejected.rejection_reason) == ({}, "标题不实")
    assert code_of(
        lambda: services.reject_offer(actor=people["city"], offer=offer, reason="x")
    ) == ("invalid_transition")


def test_revising_a_paused_offer_and_the_home_city_list_counts_as_terms(people):
    offer = offer_in(people, "paused")
    revised = services.revise_offer(
        actor=people["staff"],
        offer=offer,
        changes={"home_city_rule": "listed", "eligible_home_cities": ["460100"]},
    )
    assert (revised.status, revised.terms_version) == ("paused", 1)
    assert revised.pending_terms == {
        "home_city_rule": "listed",
        "eligible_home_cities": ["460100"],
    }
    approved = services.publish_offer(actor=people["city"], offer=revised)
    assert (approved.status, approved.terms_version, approved.home_city_rule) == (
        "paused",
        2,
        "listed",
    )
    assert list(approved.eligible_home_cities.values_list("code", flat=True)) == ["460100"]


def test_quota_change_alone_keeps_the_offer_published(people):
    offer = offer_in(people, "published", total_quota=10)
    revised = services.revise_offer(actor=people["staff"], offer=offer, changes={"total_quota": 50})
    assert (revised.status, revised.terms_version, revised.total_quota) == ("published", 1, 50)
    assert not revised.transitions.exists()


def test_quota_below_claimed_is_refused_under_the_lock(people):
    offer = offer_in(people, "published", total_quota=10)
    # claims land after the caller read the offer: the service re-reads the row
    Offer.objects.filter(pk=offer.pk).update(claimed_count=8)
    with pytest.raises(DomainError) as exc:
        services.revise_offer(actor=people["staff"], offer=offer, changes={"total_quota": 7})
    assert "total_quota" in exc.value.detail
    offer.refresh_from_db()
    assert (offer.total_quota, offer.claimed_count) == (10, 8)


def test_editing_a_draft_does_not_bump_the_version(people):
    offer = offer_in(people, "draft")
    revised = services.revise_offer(actor=people["staff"], offer=offer, changes={"title": "新标题"})
    assert (revised.title, revised.terms_version, revised.status) == ("新标题", 1, "draft")


@pytest.mark.parametrize("status", ["submitted", "ended"])
def test_submitted_and_ended_offers_are_not_editable(people, status):
    offer = offer_in(people, status)
    call = lambda: services.revise_offer(actor=people["staff"], offer=offer, changes={"title": "x"})  # noqa: E731
    assert code_of(call) == "offer_not_editable"


@pytest.mark.parametrize("who", ["other_staff", "city", "other_city"])
def test_only_own_staff_or_superuser_revise(people, who):
    offer = offer_in(people, "draft")
    call = lambda: services.revise_offer(actor=people[who], offer=offer, changes={"title": "x"})  # noqa: E731
    assert code_of(call) == "permission_denied"
