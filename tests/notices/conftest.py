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


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """The SMS go at once whatever the time the suite runs; the quiet-hours tests set
    NOTICE_QUIET_HOURS back to (22, 8)."""
    settings.NOTICE_QUIET_HOURS = (0, 0)


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


SCORE_ID = "330106198803120118"  # the sandbox's 王小明: 钱江分 812, excellent


def story(resident, merchant, clerk, reviewer) -> dict:
    """Every kind of event but the closing, for `resident`, through the real paths: a
    voucher about to lapse, three incidents (confirmed then upheld; dismissed; confirmed
    then overturned), a suspension that ended, a tier change at a refresh. Returns the
    incidents' ids. Run inside django_capture_on_commit_callbacks(execute=True)."""
    from datetime import timedelta

    from accounts.credit.services import PURPOSE_REFRESH, query_provider
    from incentives.incidents.services import decide_incident
    from incentives.models import Incident, Voucher
    from incentives.notices import notify_ended_suspensions, notify_expiring_vouchers

    mine = client_for(resident)
    codes = []
    for n in range(3):
        offer = publish(
            merchant=merchant,
            min_tier="",
            title=f"西湖游船 {n}",
            scenario="travel",
            total_quota=5,
            per_resident_limit=1,
        )
        res = mine.post(f"/api/v1/offers/{offer.pk}/claim")
        assert res.status_code == 201, res.content
        codes.append(res.json()["code"])
    first = Voucher.objects.get(code=codes[0])
    assert notify_expiring_vouchers(now=first.expires_at - timedelta(hours=2)) >= 1

    ids = []
    for code in codes:
        res = client_for(clerk).post(
            "/api/v1/merchant/incidents",
            {"voucher_code": code, "kind": "no_show", "note": "店员赵某某说未到"},
            format="json",
        )
        assert res.status_code == 201, res.content
        ids.append(res.json()["id"])
    upheld, dismissed, overturned = ids
    decide_incident(actor=reviewer, incident_id=upheld, action="confirm")
    decide_incident(actor=reviewer, incident_id=dismissed, action="dismiss")
    decide_incident(actor=reviewer, incident_id=overturned, action="confirm")
    for incident_id in (upheld, overturned):
        res = mine.post(
            f"/api/v1/me/incidents/{incident_id}/objection", {"text": "我当天到店了"}, format="json"
        )
        assert res.status_code == 201, res.content
    decide_incident(actor=reviewer, incident_id=upheld, action="uphold")
    decide_incident(actor=reviewer, incident_id=overturned, action="overturn")
    ended = Incident.objects.get(pk=upheld).suspended_until
    assert ended is not None
    assert notify_ended_suspensions(now=ended + timedelta(minutes=5)) == 1

    assert (
        query_provider(resident_id=resident.pk, purpose=PURPOSE_REFRESH, requested_by="refresh")
        == "ok"
    )
    return {"upheld": upheld, "dismissed": dismissed, "overturned": overturned}
