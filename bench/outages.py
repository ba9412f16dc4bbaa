"""What an outage costs a request (issue 12): latency of offer lists, login, claims,
redemptions and verification with Redis up, stopped (connection refused) and stalled
(accepting connections, answering nothing: `CLIENT PAUSE`), and of the 503 while
PostgreSQL is stopped. In-process (Django's test client), on the rig's servers.

Run: scripts/with-services.sh .venv/bin/python bench/outages.py [--requests N]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import add_smoke, machine, pct, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    add_smoke(parser, requests=2)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.credit.services import give_consent
    from accounts.reference import CONSENT_V1, load_reference_data
    from config.celery import app
    from core.resilience import queue_dependency, redis_dependency
    from incentives.models import Voucher
    from tests.conftest import bearer
    from tests.factories import PASSWORD, ResidentFactory
    from tests.incentives.conftest import make_resident, publish
    from tests.merchants.factories import MerchantFactory, merchant_staff
    from tests.services import start_postgres, start_redis, stop_postgres, stop_redis

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CREDIT_VERIFY_REUSE_SECONDS = 0
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"] = "100000/min"
    load_reference_data()
    merchant = MerchantFactory(city_id="330100")
    offer = publish(merchant=merchant, min_tier="", total_quota=None, per_resident_limit=100000)
    resident = make_resident()
    clerk = merchant_staff(merchant)
    verifier = ResidentFactory(home_city_id="330100", id_number="330106199107050229")
    give_consent(resident=verifier, version=CONSENT_V1["version"])

    def client(user=None) -> APIClient:
        c = APIClient()
        c.default_format = "json"
        if user:
            c.credentials(**bearer(user))
        return c

    counter = iter(range(10**9))

    def claim_and_redeem() -> tuple:
        key = f"k{next(counter)}"
        claimed = client(resident).post(
            f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY=key
        )
        return claimed, claimed.json().get("code")

    calls = {
        "offers (resident)": lambda: client(resident).get("/api/v1/offers"),
        "login": lambda: client().post(
            "/api/v1/auth/token", {"phone": resident.phone, "password": PASSWORD}
        ),
        "claim": lambda: claim_and_redeem()[0],
        "redeem": lambda: client(clerk).post(
            "/api/v1/merchant/redemptions",
            {"code": Voucher.objects.filter(status="issued").values_list("code", flat=True)[0]},
        ),
        "verify": lambda: client(verifier).post("/api/v1/me/credit/verify"),
    }

    def measure(state: str) -> None:
        for name, call in calls.items():
            times, statuses = [], set()
            for _ in range(args.requests):
                started = time.perf_counter()
                response = call()
                times.append((time.perf_counter() - started) * 1000)
                statuses.add(response.status_code)
            print(
                f"| {state} | {name} | {sorted(statuses)} | {times[0]:.0f} | "
                f"{pct(times, 50):.0f} | {pct(times, 95):.0f} | {max(times):.0f} |",
                flush=True,
            )

    print(f"{args.requests} requests each; {machine()}")
    print("| Redis | call | statuses | first ms | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    app.conf.task_always_eager = True  # no worker here: with Redis up, verify runs inline
    measure("up")
    app.conf.task_always_eager = False  # the queue is tried, and found unavailable
    stop_redis()
    measure("stopped")
    start_redis()
    redis_dependency.reset()
    queue_dependency.reset()
    port = settings.REDIS_URL.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(["redis-cli", "-p", port, "client", "pause", "120000", "ALL"], check=True)
    try:
        measure("stalled")
    finally:
        subprocess.run(["redis-cli", "-p", port, "client", "unpause"], check=True)

    app.conf.task_always_eager = True
    stop_postgres()
    times, statuses = [], set()
    for _ in range(args.requests):
        started = time.perf_counter()
        statuses.add(client(resident).get("/api/v1/offers").status_code)
        times.append((time.perf_counter() - started) * 1000)
    start_postgres()
    connection.close()
    print(
        f"\nPostgreSQL stopped: GET /api/v1/offers → {sorted(statuses)}, "
        f"p50 {pct(times, 50):.0f} ms, max {max(times):.0f} ms"
    )


if __name__ == "__main__":
    main()
