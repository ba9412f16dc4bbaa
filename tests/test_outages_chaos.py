"""Chaos: the served product (gunicorn, a Celery worker, PostgreSQL, Redis) while Redis and
then PostgreSQL stop and come back in the middle of a run.

Residents keep claiming and a clerk keeps redeeming over HTTP the whole time, each request
with its own `Idempotency-Key`, sent again (same key) after a `503`, a `409
request_in_progress` or a dropped connection, as a client app does. Between the load
rounds the test checks what api.md promises during each outage:

- Redis down: offer lists, login, claims, redemptions and verification keep working
  (verification answered in-process); `/readyz` names `redis`.
- Redis back: the Celery worker reconnects and runs tasks again.
- PostgreSQL down (cut while requests are in flight): API calls and pages answer `503
  service_unavailable` with `Retry-After`; `/readyz` names `database`; the service
  recovers by itself when the database returns.

and at the end, from the database: every claim that got its `201` is exactly one voucher
(none lost, none doubled), the quota and the per-resident tallies agree with the vouchers,
and every redemption is exactly one redemption row. The outcome of every request is
decided by the database, never by timing: the assertions hold however the requests
interleave with the outages.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT
from tests.services import redis_stopped, start_postgres, stop_postgres

pytestmark = [pytest.mark.slow, pytest.mark.outage]

PASSWORD = "Trust-reward-2026"
SANDBOX_ID = "330106199107050229"  # a sandbox person of 杭州 (score 655)
RESIDENTS = 4
CLAIMS_PER_ROUND = 3
DEADLINE = 180.0  # seconds a single request may keep being retried through an outage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _test_database_url() -> str:
    from django.db import connection

    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]


def _wait_for(predicate, what: str, seconds: float = 90.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds:.0f} s")


class Served:
    """gunicorn and a Celery worker, shaped as in production, on the test database."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            DATABASE_URL=_test_database_url(),
            CELERY_TASK_ALWAYS_EAGER="0",
            PYTHONPATH=str(ROOT),
            CREDIT_VERIFY_REUSE_SECONDS="0",
            CREDIT_VERIFY_BUDGET_SECONDS="5",
            THROTTLE_AUTH_TOKEN="1000/min",
        )
        self.logs = {"web": tmp / "gunicorn.log", "worker": tmp / "worker.log"}
        self.procs: dict[str, subprocess.Popen] = {}

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = self.logs[name].open("w")
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "120",
            ],
        )
        self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "-n",
                f"chaos-{os.getpid()}@localhost",
            ],
        )

        def web_up():
            self.alive()
            try:
                return requests.get(f"{self.url}/healthz", timeout=10).status_code == 200
            except requests.RequestException:
                return False

        _wait_for(web_up, "gunicorn did not answer /healthz")

    def alive(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"{name} exited:\n{self.tail(name)}"

    def tail(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def served(transactional_db, tmp_path):
    from config.celery import app

    server = Served(tmp_path)
    server.start()
    app.conf.task_always_eager = False
    yield server
    app.conf.task_always_eager = True
    server.stop()


@pytest.fixture
def programme(transactional_db, settings):
    from django.conf import global_settings

    from accounts.credit.services import give_consent
    from accounts.reference import CONSENT_V1, load_reference_data
    from tests.factories import ResidentFactory
    from tests.incentives.conftest import make_resident, publish
    from tests.merchants.factories import MerchantFactory, merchant_staff

    # the served processes check passwords with the production hashers
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    load_reference_data()
    merchant = MerchantFactory(city_id="330100", name="西湖游船（混沌）")
    offer = publish(merchant=merchant, min_tier="", total_quota=1000, per_resident_limit=1000)
    residents = [make_resident(password=PASSWORD) for _ in range(RESIDENTS)]
    verifier = ResidentFactory(home_city_id="330100", id_number=SANDBOX_ID, password=PASSWORD)
    give_consent(resident=verifier, version=CONSENT_V1["version"])
    clerk = merchant_staff(merchant)
    clerk.set_password(PASSWORD)
    clerk.save()
    return {"offer": offer, "residents": residents, "verifier": verifier, "clerk": clerk}


class Client:
    """One app on one phone: logs in, then sends each request until it has an answer that
    is not an outage (503, request_in_progress, a dropped connection)."""

    def __init__(self, base: str, phone: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.phone = phone
        self.token = ""
        self.retries: Counter = Counter()

    def login(self) -> None:
        body = {"phone": self.phone, "password": PASSWORD}
        answer = self.send("post", "/api/v1/auth/token", body)
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access"]

    def send(self, method: str, path: str, body: dict | None = None, key: str | None = None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            try:
                answer = self.http.request(
                    method, self.base + path, json=body, headers=headers, timeout=30
                )
            except requests.ConnectionError:
                self.retries["connection"] += 1
                time.sleep(0.1)
                continue
            assert answer.status_code < 500 or answer.status_code == 503, (
                f"{method} {path}: {answer.status_code} {answer.text[:300]}"
            )
            if answer.status_code == 503:
                assert_outage_answer(answer)
                self.retries["503"] += 1
                time.sleep(0.1)
                continue
            if answer.status_code == 409 and _code(answer) == "request_in_progress":
                self.retries["in_progress"] += 1
                time.sleep(0.1)
                continue
            return answer
        raise AssertionError(f"{method} {path}: no answer within {DEADLINE:.0f} s")


def _code(answer: requests.Response) -> str:
    return answer.json()["error"]["code"]


def assert_outage_answer(answer: requests.Response) -> None:
    assert answer.status_code == 503
    retry_after = int(answer.headers["Retry-After"])
    assert retry_after > 0
    if answer.headers["Content-Type"].startswith("application/json"):
        error = answer.json()["error"]
        assert error["code"] == "service_unavailable", error
        assert error["detail"]["retry_after"] == retry_after


def admin_session(base: str, phone: str) -> requests.Session:
    """A browser session logged into the admin (merchant staff may use it)."""
    browser = requests.Session()
    browser.get(f"{base}/admin/login/", timeout=30)
    answer = browser.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": phone,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/admin/login/"},
        timeout=30,
    )
    assert answer.status_code == 200 and "sessionid" in browser.cookies, answer.text[:500]
    return browser


class Load:
    """Residents claiming and a clerk redeeming, round by round, each in its own thread."""

    def __init__(self, base: str, programme: dict) -> None:
        self.base = base
        self.offer_id = programme["offer"].pk
        self.residents = [Client(base, r.phone) for r in programme["residents"]]
        self.clerk = Client(base, programme["clerk"].phone)
        self.claimed: dict[str, str] = {}  # idempotency key -> voucher code
        self.redeemed: dict[str, str] = {}  # voucher code -> redeemed_at
        self.lock = threading.Lock()
        self.errors: list[BaseException] = []

    def login(self) -> None:
        for client in [*self.residents, self.clerk]:
            client.login()

    def _claims(self, client: Client, round_: str) -> None:
        for i in range(CLAIMS_PER_ROUND):
            key = f"{round_}-{client.phone}-{i}-{uuid.uuid4().hex[:8]}"
            answer = client.send("post", f"/api/v1/offers/{self.offer_id}/claim", key=key)
            assert answer.status_code == 201, answer.text
            code = answer.json()["code"]
            # the same key again replays the same voucher
            again = client.send("post", f"/api/v1/offers/{self.offer_id}/claim", key=key)
            assert again.status_code == 201 and again.json()["code"] == code
            with self.lock:
                self.claimed[key] = code

    def _redeem(self, codes: list[str], round_: str) -> None:
        for code in codes:
            key = f"redeem-{round_}-{code}"
            answer = self.clerk.send("post", "/api/v1/merchant/redemptions", {"code": code}, key)
            assert answer.status_code == 201, answer.text
            assert answer.json()["code"] == code
            with self.lock:
                self.redeemed[code] = answer.json()["redeemed_at"]

    def round(self, name: str) -> list[threading.Thread]:
        """Start one round: every resident claims; the clerk redeems what earlier rounds
        issued and nobody redeemed yet."""
        with self.lock:
            todo = sorted(set(self.claimed.values()) - set(self.redeemed))

        def guard(fn, *args):
            try:
                fn(*args)
            except BaseException as exc:  # surfaced by join()
                self.errors.append(exc)

        threads = [
            threading.Thread(target=guard, args=(self._claims, client, name))
            for client in self.residents
        ]
        threads.append(threading.Thread(target=guard, args=(self._redeem, todo, name)))
        for thread in threads:
            thread.start()
        return threads

    def join(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            thread.join(timeout=DEADLINE + 30)
            assert not thread.is_alive(), "a load thread hung"
        if self.errors:
            raise self.errors[0]


def test_no_claim_or_redemption_is_lost_or_doubled_across_redis_and_postgres_outages(
    served, programme
):
    from accounts.tasks import record_worker_heartbeat
    from incentives.models import ClaimTally, Redemption, Voucher

    base = served.url
    load = Load(base, programme)
    load.login()
    load.join(load.round("healthy"))
    verifier = Client(base, programme["verifier"].phone)
    verifier.login()
    anonymous = Client(base, "")

    # --- Redis down: everything that does not need Redis keeps working ---------------
    with redis_stopped():
        threads = load.round("redis-down")
        offers = verifier.send("get", "/api/v1/offers")
        assert offers.status_code == 200
        assert all("eligibility" in offer for offer in offers.json()["results"])
        assert anonymous.send("get", "/api/v1/offers").status_code == 200
        again = Client(base, programme["residents"][0].phone)
        again.login()  # the login throttle counts in-process
        verified = verifier.send("post", "/api/v1/me/credit/verify")
        assert verified.status_code == 200, verified.text
        assert verified.json()["score"] == 655 and verified.json()["stale"] is False
        ready = requests.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["failed"] == ["redis"]
        load.join(threads)
        served.alive()

    # --- Redis back: the worker reconnects and runs tasks --------------------------------
    assert record_worker_heartbeat.apply_async(args=["chaos"]).get(timeout=120)
    before = verifier.send("get", "/api/v1/me/credit").json()["verified_at"]
    verified = verifier.send("post", "/api/v1/me/credit/verify")
    assert verified.status_code in (200, 202), verified.text
    _wait_for(
        lambda: verifier.send("get", "/api/v1/me/credit").json()["verified_at"] != before,
        "the worker did not verify after Redis came back",
    )
    assert requests.get(f"{base}/readyz", timeout=30).status_code == 200

    # --- PostgreSQL cut while requests are in flight ----------------------------------
    admin = admin_session(base, programme["clerk"].phone)
    threads = load.round("postgres-down")
    _wait_for(  # cut the database in the middle of the round
        lambda: any(key.startswith("postgres-down") for key in list(load.claimed)),
        "no claim of the round got through",
    )
    stop_postgres()
    try:
        for path in ("/api/v1/offers", f"/api/v1/offers/{load.offer_id}", "/api/v1/me"):
            answer = verifier.http.get(
                base + path, headers={"Authorization": f"Bearer {verifier.token}"}, timeout=30
            )
            assert_outage_answer(answer)
        claim = verifier.http.post(
            f"{base}/api/v1/offers/{load.offer_id}/claim",
            headers={"Authorization": f"Bearer {verifier.token}", "Idempotency-Key": "x"},
            timeout=30,
        )
        assert_outage_answer(claim)
        page = admin.get(f"{base}/admin/", timeout=30, allow_redirects=False)
        assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
        assert int(page.headers["Retry-After"]) > 0
        ready = requests.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503 and "database" in ready.json()["failed"]
        served.alive()
    finally:
        start_postgres()
        from django.db import connections

        for conn in connections.all():
            conn.close()
    load.join(threads)  # every request of the round got its answer after the restart
    load.join(load.round("recovered"))
    assert requests.get(f"{base}/readyz", timeout=30).status_code == 200
    served.alive()

    # --- nothing lost, nothing doubled ---------------------------------------------------
    offer = programme["offer"]
    offer.refresh_from_db()
    rounds = 4
    assert len(load.claimed) == RESIDENTS * CLAIMS_PER_ROUND * rounds
    codes = list(load.claimed.values())
    assert len(set(codes)) == len(codes), "two claims answered with the same voucher"
    vouchers = Voucher.objects.filter(offer=offer)
    assert sorted(vouchers.values_list("code", flat=True)) == sorted(codes)
    assert offer.claimed_count == len(codes)
    tallies = ClaimTally.objects.filter(offer=offer).values_list("resident__phone", "held")
    held = Counter(dict(tallies))
    assert held == Counter({c.phone: CLAIMS_PER_ROUND * rounds for c in load.residents})
    redemptions = Redemption.objects.filter(voucher__offer=offer)
    assert sorted(redemptions.values_list("voucher__code", flat=True)) == sorted(load.redeemed)
    assert set(vouchers.filter(status="redeemed").values_list("code", flat=True)) == set(
        load.redeemed
    )
    # every round but the last redeemed what the one before issued
    assert len(load.redeemed) == RESIDENTS * CLAIMS_PER_ROUND * (rounds - 1)
    retries = sum((c.retries for c in [*load.residents, load.clerk]), Counter())
    print(f"chaos: {len(codes)} claims, {len(load.redeemed)} redemptions, retries {dict(retries)}")
