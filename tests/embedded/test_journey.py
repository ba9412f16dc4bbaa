"""The core journey on the embedded default, through the API as a phone and a scanner
use it: register → consent → verify → claim → redeem → list sync → roll-ups → dashboard.
Background work runs the way `make run` runs it: the web process's scheduler
(config/scheduler.py) calling the beat schedule's tasks.

Each step is a small function, so a new requirement (an SMS code at registration, an
agreement version) changes one step, not the journey.
"""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.demo import CONSENT_V1, DEMO_PASSWORD
from accounts.identity import id_hash
from config.scheduler import Scheduler

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, ID_NUMBER, HOME = "13512340000", "350203198905140179", "350200"  # sandbox: 白鹭分 770
PASSWORD = "Journey#2026"


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def client_for(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.content else {}


def log_in(phone: str, password: str) -> APIClient:
    body = {"phone": phone, "password": password}
    tokens = ok(client_for().post("/api/v1/auth/token", body, format="json"))
    return client_for(tokens["access"])


def register(**fields) -> dict:
    body = {
        "phone": PHONE,
        "password": PASSWORD,
        "real_name": "鹭优演",
        "id_number": ID_NUMBER,
        "home_city": HOME,
        **fields,
    }
    return ok(client_for().post("/api/v1/auth/register", body, format="json"), 201)


def consent_and_verify(me: APIClient) -> dict:
    text = ok(client_for().get("/api/v1/credit/consent-text"))
    assert text["version"] == CONSENT_V1["version"]
    body = {"consent_version": text["version"], "accept": True}
    ok(me.post("/api/v1/me/credit/consent", body, format="json"), 201)
    return ok(me.post("/api/v1/me/credit/verify"))


def claim(me: APIClient, offer_id: int, key: str) -> dict:
    return ok(me.post(f"/api/v1/offers/{offer_id}/claim", HTTP_IDEMPOTENCY_KEY=key), 201)


def run_background(*tasks: str) -> list[str]:
    """What the embedded scheduler does when these jobs fall due."""
    from django.conf import settings

    scheduler = Scheduler.from_beat_schedule(settings.CELERY_BEAT_SCHEDULE)
    scheduler.jobs = [job for job in scheduler.jobs if job.name in tasks]
    assert {job.name for job in scheduler.jobs} == set(tasks)
    return scheduler.run_due(now=0)


def test_the_core_journey_on_the_embedded_default(demo, settings, tmp_path):
    # register, consent, verify: a resident of 厦门 with an excellent 白鹭分
    profile = register()
    assert profile["id_number"] == "3502**********0179"  # the ID number leaves masked
    me = log_in(PHONE, PASSWORD)
    standing = consent_and_verify(me)
    assert (standing["score"], standing["tier"]) == (770, "excellent")
    assert {e["city"] for e in standing["equivalents"]} >= {"330100", "460100"}

    # claim an offer of a 杭州 merchant that the resident may claim
    offers = ok(me.get("/api/v1/offers", {"city": "330100", "eligible": "true"}))["results"]
    clerk = log_in("13600000001", DEMO_PASSWORD)
    scan_side = ok(clerk.get("/api/v1/me"))
    assert "merchant_staff" in scan_side["roles"]
    boat = next(o for o in offers if o["merchant"]["name"].startswith("西湖画舫"))
    voucher = claim(me, boat["id"], "journey-1")
    again = claim(me, boat["id"], "journey-1")  # a retry with the same key
    assert again["code"] == voucher["code"]

    # redeem at the counter, exactly once (the ORM path of the SQLite database)
    preview = ok(clerk.post("/api/v1/merchant/scan", {"token": voucher["token"]}, format="json"))
    assert preview["redeemable"] is True
    done = ok(
        clerk.post("/api/v1/merchant/redemptions", {"code": voucher["code"]}, format="json"), 201
    )
    assert done["code"] == voucher["code"]
    twice = clerk.post("/api/v1/merchant/redemptions", {"code": voucher["code"]}, format="json")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_redeemed")

    # a second voucher stays open ... until the resident lands on the list (list sync)
    other = next(o for o in offers if o["id"] != boat["id"])
    open_voucher = claim(me, other["id"], "journey-2")
    listed = tmp_path / "listed.txt"
    listed.write_text(id_hash(settings.ID_HASH_KEY, ID_NUMBER) + "\n", encoding="ascii")
    settings.CREDIT_SANDBOX_LIST_FILE = str(listed)
    run_background("accounts.sync_all_dishonest_lists")
    mine = ok(me.get(f"/api/v1/me/vouchers/{open_voucher['code']}"))
    assert mine["status"] == "revoked"
    assert ok(me.get(f"/api/v1/offers/{other['id']}"))["eligibility"]["reasons"] == [
        "seriously_dishonest"
    ]

    # roll-ups by the scheduler, then the city dashboard shows the day's claims
    staff = log_in("13900000001", DEMO_PASSWORD)
    before = ok(staff.get("/api/v1/dashboard/summary"))
    refresh_started = timezone.now()
    run_background("incentives.refresh_dashboard_rollups", "incentives.expire_vouchers")
    after = ok(staff.get("/api/v1/dashboard/summary"))
    assert after["claims"] == before["claims"] + 2
    assert after["redemptions"] == before["redemptions"] + 1
    assert after["revoked"] == before["revoked"] + 1
    assert refresh_started <= _parse(after["as_of"]) <= timezone.now()
    flows = ok(staff.get("/api/v1/dashboard/flows"))
    assert any(f["home_city"] == HOME and f["dest_city"] == "330100" for f in flows)


def _parse(value: str):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value)
