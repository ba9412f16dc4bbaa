"""Request ids, JSON logs that carry them into Celery tasks, and /metrics (issue 17)."""

import json
import logging
import re
import time

import pytest
from django.test import Client

from config.observability import RequestIdFilter, request_id
from tests.incentives.conftest import client_for

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id_and_a_sane_one_given_is_kept():
    client = Client()
    made = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.5")["X-Request-ID"] == "lb-1234.5"
    # not a token: replaced, never echoed into logs or headers
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="x" * 65 + "\n")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)


def test_json_log_lines_carry_the_request_id():
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
    record = logging.LogRecord(
        "incentives.vouchers.services", logging.INFO, __file__, 1, "hi", (), None
    )
    token = request_id.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-42"
    assert line["level"] == "INFO" and line["logger"] == "incentives.vouchers.services"


def _metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{want}}} not in /metrics")


def test_metrics_count_requests_and_redemptions(clerk, resident, offer):
    client = Client()  # loopback: the test client's REMOTE_ADDR is 127.0.0.1
    before = client.get("/metrics").content.decode()
    try:
        redeemed_before = _metric(before, "xinyou_events_total", event="redemption", status="201")
    except AssertionError:
        redeemed_before = 0.0
    code = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim").json()["code"]
    res = client_for(clerk).post("/api/v1/merchant/redemptions", {"code": code}, format="json")
    assert res.status_code == 201
    after = client.get("/metrics")
    assert after.status_code == 200
    assert after["Content-Type"].startswith("text/plain")
    text = after.content.decode()
    assert _metric(text, "xinyou_events_total", event="redemption", status="201") == (
        redeemed_before + 1
    )
    assert _metric(text, "xinyou_events_total", event="claim", status="201") >= 1
    assert (
        _metric(text, "xinyou_http_requests_total", method="GET", route="metrics", status="200")
        >= 1
    )
    assert "xinyou_http_request_duration_seconds_bucket" in text
    assert "xinyou_celery_queue_depth" in text


def test_metrics_are_not_for_the_public(settings):
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 404  # loopback is not enough with a token
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right = Client(REMOTE_ADDR="203.0.113.9").get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token"
    )
    assert right.status_code == 200


@pytest.mark.slow
def test_the_request_id_crosses_into_a_celery_task(start_celery_worker):
    from accounts.tasks import record_worker_heartbeat

    worker = start_celery_worker(LOG_FORMAT="json")
    token = request_id.set("crossing-7f3a")
    try:
        record_worker_heartbeat.delay("request-id").get(timeout=60)
    finally:
        request_id.reset(token)
    # the result is stored before the worker logs "succeeded": wait for the line
    ran: list[dict] = []
    deadline = time.monotonic() + 60
    while not ran and time.monotonic() < deadline:
        worker.log.seek(0)
        lines = [json.loads(line) for line in worker.log if line.startswith("{")]
        ran = [line for line in lines if "succeeded" in line.get("message", "")]
        if not ran:
            time.sleep(0.2)
    assert ran and all(line["request_id"] == "crossing-7f3a" for line in ran)
