"""An SMS gateway outage delays notices and loses none: with the local gateway server
stopped, a real Celery worker tries each message, backs off and tries again; when the
server is back on the same port, every message arrives exactly once."""

import json
import time
from collections import Counter

import pytest

from accounts.notices.models import NoticeKind, SmsDelivery
from accounts.notices.services import notify

from .conftest import make_resident
from .gateway import SmsGatewayServer

pytestmark = pytest.mark.slow

RESIDENTS = 5


def wait_for(check, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {check.__doc__}")


def test_an_outage_delays_every_sms_and_loses_none(start_celery_worker, settings):
    from accounts.reference import load_reference_data

    load_reference_data()
    server = SmsGatewayServer().start()
    gateway = server.settings()
    server.stop()  # the gateway is down before anything is sent
    start_celery_worker(
        SMS_GATEWAY=json.dumps(gateway),
        NOTICE_SMS_BACKOFF_SECONDS="0.3",
        NOTICE_SMS_BACKOFF_MAX_SECONDS="1",
        NOTICE_SMS_MAX_ATTEMPTS="1000",
        NOTICE_QUIET_HOURS="0-0",
    )
    settings.SMS_GATEWAY = gateway
    settings.NOTICE_QUIET_HOURS = (0, 0)
    residents = [make_resident() for _ in range(RESIDENTS)]
    for resident in residents:
        assert notify(
            kind=NoticeKind.SUSPENSION_ENDED,
            resident_id=resident.pk,
            event="1",
            params={"scenario": "信易游"},
        )

    def tried_twice() -> bool:
        """every message failed at least twice (the worker backs off and retries)"""
        rows = SmsDelivery.objects.values_list("status", "attempts")
        return len(rows) == RESIDENTS and all(
            status == "pending" and attempts >= 2 for status, attempts in rows
        )

    wait_for(tried_twice)
    assert all(SmsDelivery.objects.values_list("last_error", flat=True))  # each failure noted
    server.restart()

    def all_sent() -> bool:
        """every message sent"""
        return SmsDelivery.objects.filter(status="sent").count() == RESIDENTS

    wait_for(all_sent)
    time.sleep(2)  # a duplicate, if any, would arrive in the meantime
    sent = Counter(server.sent_request_ids())
    expected = {d.request_id.hex for d in SmsDelivery.objects.all()}
    assert set(sent) == expected and set(sent.values()) == {1}
    phones = {body["phone"] for body in server.received}
    assert phones == {r.phone for r in residents}
    server.stop()
