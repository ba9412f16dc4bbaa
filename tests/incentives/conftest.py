"""A small programme for the voucher tests: schemes, a Hangzhou merchant with staff, a
published offer, and residents with verified standings."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.credit.conversion import tier_of
from accounts.credit.models import Consent, ConsentText, RuleVersion, Standing
from accounts.reference import load_reference_data
from merchants.models import Offer
from tests.conftest import bearer
from tests.factories import ResidentFactory
from tests.merchants.factories import MerchantFactory, OfferFactory, merchant_staff


@pytest.fixture
def world(db):
    load_reference_data()


def make_resident(
    city: str = "330100",
    score: int = 720,
    *,
    listed: bool = False,
    expired: bool = False,
    consent: bool = True,
    **kwargs,
):
    """A resident of `city` whose standing (score in their city's scheme) is on file."""
    resident = ResidentFactory(home_city_id=city, **kwargs)
    if consent:
        Consent.objects.create(resident=resident, text=ConsentText.objects.get(is_current=True))
    rule = RuleVersion.objects.filter(scheme__cities=city).order_by("-version").first()
    now = timezone.now()
    Standing.objects.create(
        resident=resident,
        city_id=city,
        rule_version=rule,
        score=score,
        tier=tier_of(score, rule.bands),
        seriously_dishonest=listed,
        verified_at=now,
        valid_until=now - timedelta(hours=1) if expired else now + timedelta(days=30),
    )
    return resident


@pytest.fixture
def resident(world):
    return make_resident()


@pytest.fixture
def merchant(world):
    return MerchantFactory(city_id="330100", name="西湖游船")


@pytest.fixture
def clerk(merchant):
    return merchant_staff(merchant)


@pytest.fixture
def other_clerk(world):
    return merchant_staff(MerchantFactory(city_id="330100", name="别家商户"))


def publish(**fields) -> Offer:
    fields.setdefault("status", Offer.Status.PUBLISHED)
    fields.setdefault("published_at", timezone.now())
    return OfferFactory(**fields)


@pytest.fixture
def offer(merchant):
    return publish(merchant=merchant, min_tier="good", total_quota=5, per_resident_limit=1)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(user))
    return client
