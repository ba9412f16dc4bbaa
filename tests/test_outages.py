"""Outages of a dependency (api.md, Conventions): the throwaway Redis and PostgreSQL servers
are really stopped and started again (tests/services.py).

- Redis down: claims, offer lists, login, redemption and verification keep working; the
  cache and the throttles count in-process, with a logged warning; `/readyz` names redis.
- PostgreSQL down: API calls and pages answer `503 service_unavailable` with `Retry-After`
  (header and `detail.retry_after`); `/readyz` names the database; a served process
  answers normally again as soon as the database is back.
- A Celery worker reconnects after Redis restarts and runs the next task.
"""

import logging
import socket
import threading

import pytest
import requests
from django.test import Client
from rest_framework.test import APIClient

from accounts.reference import CONSENT_V1, load_reference_data
from tests.conftest import bearer
from tests.factories import PASSWORD, ResidentFactory
from tests.services import postgres_stopped, redis_stopped, start_redis, stop_redis

# Stops the shared servers: run alone (make test: after the parallel pass).
pytestmark = pytest.mark.outage

SANDBOX_ID = "330106199107050229"  # a sandbox person of 杭州 (score 655)


@pytest.fixture
def programme(db):
    from tests.incentives.conftest import make_resident, publish
    from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff

    load_reference_data()
    merchant = MerchantFactory(city_id="330100", name="西湖游船")
    offer = publish(merchant=merchant, min_tier="", total_quota=100, per_resident_limit=5)
    return {
        "offer": offer,
        "resident": make_resident(),
        "clerk": merchant_staff(merchant),
        "city_staff": city_staff("330100"),
    }


def api(user=None) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    if user is not None:
        client.credentials(**bearer(user))
    return client


# --------------------------------------------------------------------------- Redis


def test_with_redis_down_everything_that_does_not_need_it_keeps_working(
    programme, settings, caplog
):
    from accounts.credit.services import give_consent
    from config.celery import app
    from incentives.models import Redemption, Voucher

    offer, resident, clerk = programme["offer"], programme["resident"], programme["clerk"]
    verifier = ResidentFactory(home_city_id="330100", id_number=SANDBOX_ID)
    give_consent(resident=verifier, version=CONSENT_V1["version"])
    caplog.set_level(logging.WARNING, logger="xinyou.resilience")

    with redis_stopped():
        app.conf.task_always_eager = False  # tasks go to the (unreachable) queue
        offers = api(resident).get("/api/v1/offers")
        assert offers.status_code == 200, offers.content
        assert offers.json()["results"][0]["eligibility"]["eligible"] is True
        assert api().get("/api/v1/offers").status_code == 200

        login = api().post("/api/v1/auth/token", {"phone": resident.phone, "password": PASSWORD})
        assert login.status_code == 200, login.content

        claimed = api(resident).post(
            f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY="during-outage"
        )
        assert claimed.status_code == 201, claimed.content
        replay = api(resident).post(
            f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY="during-outage"
        )
        assert replay.json() == claimed.json()

        redeemed = api(clerk).post(
            "/api/v1/merchant/redemptions",
            {"code": claimed.json()["code"]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="r-1",
        )
        assert redeemed.status_code == 201, redeemed.content

        # the provider query cannot be queued: it is made here, synchronously
        verified = api(verifier).post("/api/v1/me/credit/verify")
        assert verified.status_code == 200, verified.content
        assert verified.json()["score"] == 655 and verified.json()["stale"] is False

        ready = Client().get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["redis"] and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["database"] == "ok"
        # a status-code-only probe (Kubernetes) keeps a degraded node in rotation
        probe = Client().get("/readyz?accept=degraded")
        assert probe.status_code == 200 and probe.json()["status"] == "degraded"

    assert Voucher.objects.get().status == "redeemed" and Redemption.objects.count() == 1
    # Redis is back: once the retry interval is over, work is queued again from this very
    # process (no worker runs here, so the answer is 202 pending)
    from core.resilience import queue_dependency, redis_dependency

    redis_dependency.reset()
    queue_dependency.reset()
    settings.CREDIT_VERIFY_BUDGET_SECONDS = 0.2
    settings.CREDIT_VERIFY_REUSE_SECONDS = 0
    assert api(verifier).post("/api/v1/me/credit/verify").status_code == 202
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("redis unavailable") for m in warnings), warnings
    assert any(m.startswith("queue unavailable") for m in warnings), warnings
    assert Client().get("/readyz").status_code == 200  # back, and said so


def test_throttles_keep_counting_in_process_while_redis_is_down(programme):
    resident = programme["resident"]
    body = {"phone": resident.phone, "password": PASSWORD}
    with redis_stopped():
        answers = [api().post("/api/v1/auth/token", body).status_code for _ in range(11)]
    assert answers[:10] == [200] * 10
    assert answers[10] == 429  # THROTTLE_AUTH_TOKEN 10/min, counted in this process


def test_cache_falls_back_to_process_memory_shared_by_threads_and_warns_once(caplog):
    from django.core.cache import cache

    caplog.set_level(logging.WARNING, logger="xinyou.resilience")
    with redis_stopped():
        assert cache.add("lock:1", "me", 30) is True
        seen = []
        thread = threading.Thread(target=lambda: seen.append(cache.add("lock:1", "other", 30)))
        thread.start()
        thread.join()
        assert seen == [False]  # one lock per process, whichever thread asks
        assert cache.get("lock:1") == "me"
        cache.delete("lock:1")
        assert cache.get("lock:1") is None
    down = [r for r in caplog.records if r.getMessage().startswith("redis unavailable")]
    assert len(down) == 1  # one warning per outage, not one per call


def test_a_breaker_lets_calls_through_when_redis_is_down(settings):
    from accounts.credit.registry import breaker_for

    settings.CREDIT_PROVIDERS = {
        "330100": {
            "kind": "http",
            "base_url": "http://127.0.0.1:9",
            "app_key": "k",
            "app_secret": "s",
        }
    }
    breaker = breaker_for("330100")
    for _ in range(10):
        breaker.record_failure()
    assert breaker.state() == "open" and not breaker.allow()
    with redis_stopped():
        assert breaker.allow() is True and breaker.state() == "closed"
        breaker.record_failure()  # nothing raised
        breaker.record_success()


class _Blackhole:
    """A TCP server that accepts connections and never answers: a stalled Redis."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


def test_a_stalled_redis_is_waited_for_once_per_retry_interval_not_on_every_call(settings):
    """Each call would otherwise wait a socket timeout: after the first times out, the
    cache answers from memory without touching Redis until the retry interval passes."""
    from django.core.cache import caches

    hole = _Blackhole()
    try:
        settings.REDIS_RETRY_SECONDS = 3600
        settings.CACHES = {
            "default": {
                "BACKEND": "core.resilience.FallbackRedisCache",
                "LOCATION": f"redis://127.0.0.1:{hole.port}/0",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
            }
        }
        cache = caches["default"]
        for i in range(20):
            cache.set(f"k{i}", i, 30)
            assert cache.get(f"k{i}") == i
        assert hole.accepted == 1  # the first call timed out; none of the others waited
    finally:
        hole.close()


@pytest.mark.slow
def test_a_worker_reconnects_after_redis_restarts_and_runs_the_next_task(
    start_celery_worker,
):
    from accounts.tasks import record_worker_heartbeat

    worker = start_celery_worker()
    assert record_worker_heartbeat.apply_async(args=["before"]).get(timeout=120)
    stop_redis()
    start_redis()
    assert record_worker_heartbeat.apply_async(args=["after"]).get(timeout=120)
    assert worker.poll() is None


# --------------------------------------------------------------------------- PostgreSQL


def assert_503(response) -> None:
    assert response.status_code == 503, (response.status_code, response.content[:300])
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    if response["Content-Type"].startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["detail"] == {"retry_after": retry_after}


@pytest.mark.django_db(transaction=True)
def test_with_postgres_down_every_endpoint_answers_503_and_recovers_by_itself(
    programme, live_server
):
    from django.contrib.auth import get_user_model

    offer, resident, clerk = programme["offer"], programme["resident"], programme["clerk"]
    superuser = get_user_model().objects.create_superuser(phone="13800009999", password="x")
    staff_page = Client(raise_request_exception=False)
    staff_page.force_login(programme["city_staff"])
    admin_page = Client(raise_request_exception=False)
    admin_page.force_login(superuser)
    code = api(resident).post(f"/api/v1/offers/{offer.pk}/claim").json()["code"]
    anonymous = APIClient(raise_request_exception=False)

    with postgres_stopped():
        calls = [
            (anonymous, "get", "/api/v1/offers", None),
            (anonymous, "get", f"/api/v1/offers/{offer.pk}", None),
            (anonymous, "get", "/api/v1/cities", None),
            (anonymous, "post", "/api/v1/auth/token", {"phone": "13700000001", "password": "x"}),
            (api(resident), "get", "/api/v1/me", None),
            (api(resident), "get", "/api/v1/me/vouchers", None),
            (api(resident), "post", f"/api/v1/offers/{offer.pk}/claim", None),
            (api(resident), "post", "/api/v1/me/credit/verify", None),
            (api(clerk), "post", "/api/v1/merchant/redemptions", {"code": code}),
            (api(programme["city_staff"]), "get", "/api/v1/dashboard/summary", None),
        ]
        for client, method, path, body in calls:
            client.raise_request_exception = False
            assert_503(getattr(client, method)(path, body, format="json"))
        for page, path in (
            (staff_page, "/dashboard/"),
            (staff_page, "/dashboard/export.csv"),
            (admin_page, "/admin/"),
            (admin_page, "/admin/merchants/offer/"),
        ):
            response = page.get(path)
            assert_503(response)
            assert response["Content-Type"].startswith("text/html")
        ready = Client().get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"] == ["database"]
        assert Client().get("/readyz?accept=degraded").status_code == 503  # not degraded: down
        # a served process (a real HTTP server thread) says the same ...
        served = requests.get(f"{live_server.url}/api/v1/offers", timeout=30)
        assert served.status_code == 503 and int(served.headers["Retry-After"]) > 0
        assert served.json()["error"]["code"] == "service_unavailable"

    # ... and answers again as soon as the database is back, with nothing done to it
    served = requests.get(f"{live_server.url}/api/v1/offers", timeout=30)
    assert served.status_code == 200 and served.json()["count"] == 1
    assert requests.get(f"{live_server.url}/readyz", timeout=30).status_code == 200
