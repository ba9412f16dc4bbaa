"""Rules that belong to one merchant or offer row: clean() and the database constraints."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from merchants.models import Merchant, MerchantStaff, Offer
from tests.factories import ResidentFactory

from .factories import MerchantFactory, OfferFactory, credit_code, scheme

pytestmark = pytest.mark.django_db


def errors_of(obj) -> dict:
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return exc.value.message_dict


# --- merchants ------------------------------------------------------------------------


def test_merchant_with_wrong_check_character_is_invalid(cities):
    merchant = MerchantFactory.build(credit_code="91350100M000100Y44")
    assert "credit_code" in errors_of(merchant)


def test_merchant_code_is_stored_upper_case_and_unique(cities):
    MerchantFactory(credit_code="91350100M000100Y43")
    twin = MerchantFactory.build(credit_code="91350100m000100y43")
    errors = errors_of(twin)
    assert twin.credit_code == "91350100M000100Y43"
    assert "已有商户" in errors["credit_code"][0]


def test_merchant_coordinates_come_in_pairs(cities):
    merchant = MerchantFactory.build(latitude=Decimal("30.1"))
    assert errors_of(merchant)
    with pytest.raises(IntegrityError), transaction.atomic():
        MerchantFactory(latitude=Decimal("30.1"), credit_code=credit_code(999))


def test_merchant_contact_phone_is_checked(cities):
    assert "contact_phone" in errors_of(MerchantFactory.build(contact_phone="12345"))
    for ok in ["13912345678", "0571-87654321", "02163000001", "400-123-4567"]:
        MerchantFactory.build(contact_phone=ok, credit_code=credit_code(5)).full_clean()


def test_only_merchant_staff_may_join_a_merchant(cities):
    merchant = MerchantFactory()
    resident = ResidentFactory(home_city=cities["330100"])
    assert "user" in errors_of(MerchantStaff(user=resident, merchant=merchant))


# --- offers -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "100", "120", "-5", None])
def test_percent_off_must_lie_strictly_between_0_and_100(cities, value):
    offer = OfferFactory.build(
        merchant=MerchantFactory(), benefit_value=None if value is None else Decimal(value)
    )
    assert "benefit_value" in errors_of(offer)


@pytest.mark.parametrize("benefit", ["amount_off", "fixed_price"])
@pytest.mark.parametrize("value", ["0", "-10", None])
def test_amounts_must_be_positive(cities, benefit, value):
    offer = OfferFactory.build(
        merchant=MerchantFactory(),
        benefit_type=benefit,
        benefit_value=None if value is None else Decimal(value),
    )
    assert "benefit_value" in errors_of(offer)


@pytest.mark.parametrize("benefit", ["free_entry", "deposit_waiver", "priority_service", "gift"])
def test_benefits_without_a_value_refuse_one(cities, benefit):
    offer = OfferFactory.build(merchant=MerchantFactory(), benefit_type=benefit)
    assert "benefit_value" in errors_of(offer)
    offer.benefit_value = None
    offer.full_clean()


def test_until_before_from_is_refused(cities):
    now = timezone.now()
    offer = OfferFactory.build(merchant=MerchantFactory(), valid_from=now, valid_until=now)
    assert "valid_until" in errors_of(offer)


def test_per_resident_limit_of_zero_is_refused(cities):
    offer = OfferFactory.build(merchant=MerchantFactory(), per_resident_limit=0)
    assert "per_resident_limit" in errors_of(offer)


def test_quota_below_claimed_is_refused(cities):
    offer = OfferFactory(total_quota=10, claimed_count=8)
    offer.total_quota = 7
    assert "已领取" in errors_of(offer)["total_quota"][0]


def test_min_tier_and_min_score_are_exclusive(cities):
    cities["330100"].scheme = scheme()
    cities["330100"].save()
    offer = OfferFactory.build(merchant=MerchantFactory(), min_tier="good", min_score=600)
    assert "min_score" in errors_of(offer)


def test_min_score_needs_a_scheme_and_must_lie_in_its_range(cities):
    offer = OfferFactory.build(merchant=MerchantFactory(), min_tier="", min_score=600)
    assert "尚未配置信用分体系" in errors_of(offer)["min_score"][0]
    city = cities["330100"]
    city.scheme = scheme(lo=0, hi=1000)
    city.save()
    offer.merchant.city.refresh_from_db()
    offer.full_clean()
    offer.min_score = 1001
    assert "0–1000" in errors_of(offer)["min_score"][0]


@pytest.mark.parametrize(
    "fields",
    [
        {"claimed_count": 11, "total_quota": 10},
        {"per_resident_limit": 0},
        {"voucher_lifetime_hours": 0},
        {"benefit_value": Decimal("100")},
        {"benefit_value": Decimal("0")},
        {"benefit_type": "gift"},
        {"min_score": 600},
        {"valid_until": timezone.now() - timedelta(days=5)},
    ],
)
def test_database_refuses_what_clean_would(cities, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferFactory(**fields)


def test_remaining_quota(cities):
    offer = OfferFactory(total_quota=10, claimed_count=3)
    assert offer.remaining_quota == 7
    offer.total_quota = None
    assert offer.remaining_quota is None


def test_terms_snapshot_is_json_and_complete(cities):
    import json

    offer = OfferFactory(home_city_rule="listed")
    offer.eligible_home_cities.set(["460100", "310100"])
    snap = json.loads(json.dumps(offer.terms_snapshot()))
    assert snap["terms_version"] == 1
    assert snap["benefit_value"] == "20.00"
    assert snap["eligible_home_cities"] == ["310100", "460100"]
    assert snap["merchant"] == offer.merchant.name and snap["city"] == "330100"
    for key in ["title", "title_en", "min_tier", "valid_from", "valid_until", "usage_notes"]:
        assert key in snap


def test_merchant_status_default_is_active(cities):
    assert MerchantFactory().status == Merchant.Status.ACTIVE
    assert OfferFactory().status == Offer.Status.DRAFT
