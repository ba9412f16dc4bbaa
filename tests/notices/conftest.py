"""Fixtures of the notices tests: the small programme of tests/incentives (a Hangzhou
merchant, its clerk, residents with standings), a claimed voucher, and helpers to read a
resident's inbox and SMS."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.notices.models import Notice, SmsDelivery
from accounts.reference import load_reference_data
from accounts.sms.models import SmsOutboxMessage
from tests.incentives.conftest import client_for, make_resident, publish
from tests.merchants.factories import MerchantFactory, merchant_staff

__all__ = ["client_for", "make_resident", "publish"]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A moment in Asia/Shanghai: at("2026-12-06 23:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def kinds_of(person) -> list[str]:
    return list(
        Notice.objects.filter(resident=person)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


def outbox(phone: str) -> list[str]:
    return list(
        SmsOutboxMessage.objects.filter(phone=phone)
        .order_by("sent_at", "pk")
        .values_list("text", flat=True)
    )


def deliveries(person) -> list[SmsDelivery]:
    return list(SmsDelivery.objects.filter(resident=person).order_by("pk"))


@pytest.fixture
def world(db):
    load_reference_data()


@pytest.fixture
def resident(world):
    return make_resident(real_name="王小明")


@pytest.fixture
def merchant(world):
    return MerchantFactory(city_id="330100", name="西湖游船")


@pytest.fixture
def clerk(merchant):
    return merchant_staff(merchant)


@pytest.fixture
def voucher(resident, merchant):
    """A voucher the resident claimed (through the API)."""
    from incentives.models import Voucher

    offer = publish(
        merchant=merchant,
        min_tier="",
        title="西湖游船八折",
        title_en="West Lake boat, 20% off",
        total_quota=5,
        per_resident_limit=1,
    )
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201, res.content
    return Voucher.objects.get(code=res.json()["code"])
