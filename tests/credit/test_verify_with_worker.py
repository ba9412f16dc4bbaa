"""A slow provider: verify answers 202 within its budget and a real Celery worker
finishes the query; the resident then finds the standing."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.credit import services
from accounts.credit.models import CreditQuery
from accounts.reference import CONSENT_V1, load_reference_data
from tests.conftest import bearer
from tests.factories import ResidentFactory


@pytest.mark.slow
def test_slow_provider_gives_pending_then_the_worker_delivers(start_celery_worker, settings):
    load_reference_data()
    from accounts.models import City

    resident = ResidentFactory(
        home_city=City.objects.get(code="330100"), id_number="330106199107050229"
    )
    services.give_consent(resident=resident, version=CONSENT_V1["version"])
    start_celery_worker(CREDIT_SANDBOX_DELAY_SECONDS="2.5")
    settings.CREDIT_VERIFY_BUDGET_SECONDS = 0.5
    api = APIClient()
    api.credentials(**bearer(resident))

    res = api.post("/api/v1/me/credit/verify")
    assert res.status_code == 202
    assert res.json() == {"status": "pending"}
    assert api.get("/api/v1/me/credit").status_code == 404

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = api.get("/api/v1/me/credit")
        if got.status_code == 200:
            break
        time.sleep(0.2)
    assert got.status_code == 200, "the worker never stored the standing"
    assert got.json()["score"] == 655 and got.json()["tier"] == "good"
    audit = CreditQuery.objects.get()
    assert audit.outcome == "ok" and audit.latency_ms >= 2500
