"""The whole journey on the embedded default (the embedded PostgreSQL of `make run`),
through the API as a phone and a scanner use it: register → consent → verify → claim →
redeem → pass check → offline batch → list sync → roll-ups → dashboard; and concurrent
registrations.
Background work runs the way `make run` runs it: the web process's scheduler
(config/scheduler.py) calling the beat schedule's tasks.

Each step is a small function, so a new requirement (an SMS code at registration, an
agreement version) changes one step, not the journey.
"""

import io
import re
import threading
from datetime import timedelta
from uuid import uuid4

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.demo import CONSENT_V1, DEMO_PASSWORD
from accounts.identity import id_hash
from config.scheduler import Scheduler
from tests.factories import make_id_number

# (serialized_rollback: the texts that migrations load, the agreement among them, come
# back after each test flushes the database)
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE, ID_NUMBER, HOME = "13512340000", "350203198905140179", "350200"  # sandbox: 白鹭分 770
PASSWORD = "Journey#2026"


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def client_for(token: str | None = None, **extra) -> APIClient:
    client = APIClient(**extra)
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


def ask_code(phone: str, **extra) -> APIClient:
    anonymous = client_for(**extra)
    asked = {"phone": phone, "purpose": "register"}
    ok(anonymous.post("/api/v1/auth/sms-code", asked, format="json"), 202)
    return anonymous


def sms_code(phone: str) -> str:
    """The last code sent to the phone, read from the sandbox gateway's outbox."""
    from accounts.sms.models import SmsOutboxMessage

    text = SmsOutboxMessage.objects.filter(phone=phone).order_by("-sent_at", "-pk").first().text
    return re.search(r"(?<![0-9])[0-9]{6}(?![0-9])", text).group(0)


def register(phone: str = PHONE, id_number: str = ID_NUMBER, **fields) -> dict:
    """Phone proven by an SMS code, the current agreement accepted, then the account."""
    anonymous = ask_code(phone)
    return complete_registration(anonymous, phone, id_number, **fields)


def complete_registration(anonymous: APIClient, phone: str, id_number: str, **fields) -> dict:
    agreement = ok(anonymous.get("/api/v1/legal/agreement"))
    body = {
        "phone": phone,
        "sms_code": sms_code(phone),
        "password": PASSWORD,
        "real_name": "鹭优演",
        "id_number": id_number,
        "home_city": HOME,
        "agreement_version": agreement["version"],
        **fields,
    }
    return ok(anonymous.post("/api/v1/auth/register", body, format="json"), 201)


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

    # redeem at the counter, exactly once
    preview = ok(clerk.post("/api/v1/merchant/scan", {"token": voucher["token"]}, format="json"))
    assert preview["redeemable"] is True
    done = ok(
        clerk.post("/api/v1/merchant/redemptions", {"code": voucher["code"]}, format="json"), 201
    )
    assert done["code"] == voucher["code"]
    twice = clerk.post("/api/v1/merchant/redemptions", {"code": voucher["code"]}, format="json")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_redeemed")

    # the credit pass (信用码) at the boat's priority lane: used once, not twice
    token = ok(me.get("/api/v1/me/credit/pass"))["token"]
    lanes = ok(clerk.get("/api/v1/merchant/offers", {"kind": "entitlement"}))["results"]
    check = {"token": token, "offer_id": lanes[0]["id"]}
    used = ok(clerk.post("/api/v1/merchant/pass-checks", check, format="json"), 201)
    assert used["offer"]["id"] == lanes[0]["id"], used
    again = clerk.post("/api/v1/merchant/pass-checks", check, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "pass_already_used")

    # a voucher scanned while the counter was offline, uploaded later in a batch
    boat_2 = next(
        o for o in offers if o["merchant"]["id"] == boat["merchant"]["id"] and o["id"] != boat["id"]
    )
    offline = claim(me, boat_2["id"], "journey-offline")
    scanned = {
        "token": offline["token"],
        "scanned_at": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "device_id": "gate-1",
        "nonce": uuid4().hex,
    }
    batch = {"redemptions": [scanned]}
    uploaded = ok(clerk.post("/api/v1/merchant/redemptions/batch", batch, format="json"))
    assert [r["outcome"] for r in uploaded["results"]] == ["redeemed"], uploaded
    retried = ok(clerk.post("/api/v1/merchant/redemptions/batch", batch, format="json"))
    assert retried["results"] == uploaded["results"]  # idempotent per nonce
    assert ok(me.get(f"/api/v1/me/vouchers/{offline['code']}"))["status"] == "redeemed"

    # a third voucher stays open ... until the resident lands on the list (list sync)
    other = next(o for o in offers if o["merchant"]["id"] != boat["merchant"]["id"])
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
    assert after["claims"] == before["claims"] + 3
    assert after["redemptions"] == before["redemptions"] + 2
    assert after["revoked"] == before["revoked"] + 1
    assert refresh_started <= _parse(after["as_of"]) <= timezone.now()
    flows = ok(staff.get("/api/v1/dashboard/flows"))
    assert any(f["home_city"] == HOME and f["dest_city"] == "330100" for f in flows)


def at_once(calls: list) -> list[tuple[int, str]]:
    """Run every call (a function taking no argument and returning a response) at the same
    moment, each in its own thread with its own database connection; (status, error code)
    of each answer, in order."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            barrier.wait()
            res = call()
            body = res.json() if res.content else {}
            results[i] = (res.status_code, (body.get("error") or {}).get("code"))
        except Exception as exc:  # a crash must show up as a failed assertion, not vanish
            results[i] = (599, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def sms_code_call(phone: str, address: str):
    body = {"phone": phone, "purpose": "register"}
    client = client_for(REMOTE_ADDR=address)
    return lambda: client.post("/api/v1/auth/sms-code", body, format="json")


def test_simultaneous_codes_and_registrations_all_succeed(demo):
    """What `make run`'s database once refused ("database is locked"): 8 SMS codes asked at
    the same moment, for one phone and for 8 phones, then 8 registrations at once."""
    one_phone = at_once([sms_code_call("13512340100", f"10.0.0.{i}") for i in range(8)])
    assert all(status < 500 for status, _ in one_phone), one_phone
    assert one_phone.count((202, None)) >= 1, one_phone

    phones = [f"135123402{i:02d}" for i in range(8)]
    asked = at_once([sms_code_call(phone, f"10.0.1.{i}") for i, phone in enumerate(phones)])
    assert asked == [(202, None)] * 8, asked

    agreement = ok(client_for().get("/api/v1/legal/agreement"))["version"]

    def registration(i: int, phone: str):
        body = {
            "phone": phone,
            "sms_code": sms_code(phone),
            "password": PASSWORD,
            "real_name": "并发测",
            "id_number": make_id_number(region="350203"),
            "home_city": HOME,
            "agreement_version": agreement,
        }
        client = client_for(REMOTE_ADDR=f"10.0.2.{i}")
        return lambda: client.post("/api/v1/auth/register", body, format="json")

    registered = at_once([registration(i, phone) for i, phone in enumerate(phones)])
    assert registered == [(201, None)] * 8, registered
    for phone in phones:
        log_in(phone, PASSWORD)


def _parse(value: str):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value)
