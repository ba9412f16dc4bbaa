"""Settings profiles, health probes, OpenAPI, demo data, and a real Celery worker."""

import base64
import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from config.settings import BASE_DIR


def _run_django(env_over: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ID_HASH_KEY"}}
    env.update(env_over)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_real_secret_key():
    res = _run_django({"DJANGO_ENV": "production"}, "check")
    assert res.returncode != 0
    assert "SECRET_KEY" in res.stderr


def test_production_profile_passes_check_deploy():
    res = _run_django(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "p" * 20 + "-RealRandom-" + "k9" * 20,
            "ID_HASH_KEY": "alliance-pepper-" + "z" * 32,
            "ALLOWED_HOSTS": "xinyou.example.cn",
            "METRICS_TOKEN": "metrics-" + "t" * 24,
            "SMS_GATEWAY": '{"kind": "http", "base_url": "https://sms.example.cn", '
            '"app_key": "k", "app_secret": "s"}',
            "IDENTITY_PROVIDER": '{"kind": "http", "base_url": "https://id.example.cn", '
            '"app_key": "k", "app_secret": "s"}',
            "VOUCHER_SIGNING_KEYS": '[{"kid": "P1", "private_key": "'
            + base64.b64encode(b"k" * 32).decode()
            + '"}]',
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.django_db
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_names_redis_when_it_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["redis"]


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for p in ("/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/me", "/api/v1/cities"):
        assert p in paths
    register = paths["/api/v1/auth/register"]["post"]["responses"]
    assert {"201", "400", "409"} <= set(register)
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    from accounts.models import City, User

    call_command("seed_demo", stdout=io.StringIO())
    counts = (City.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (City.objects.count(), User.objects.count()) == counts
    assert counts[0] == 17
    assert User.objects.filter(is_superuser=True).exists()
    assert User.objects.filter(role="city_staff").values("staff_city").distinct().count() >= 2
    assert User.objects.filter(role="resident").exists()


def test_a_real_worker_runs_a_task(celery_worker_process):
    from django.core.cache import cache

    from accounts.tasks import record_worker_heartbeat

    result = record_worker_heartbeat.delay("suite")
    # Celery's "no join inside a task" guard is one process-wide flag that eager tasks
    # run from several threads at once (the verification races) can leave set: this is
    # the test's own thread, not a task.
    stamp = result.get(timeout=30, disable_sync_subtasks=False)
    assert cache.get("worker-heartbeat:suite") == stamp
    assert result.status == "SUCCESS"


@pytest.mark.django_db
def test_demo_claim_counts_agree_with_the_vouchers():
    from django.db.models import Sum

    from incentives.models import ClaimTally, Voucher
    from merchants.models import Offer

    call_command("seed_demo", stdout=io.StringIO())
    live = Voucher.objects.exclude(status__in=["cancelled", "revoked"])
    assert live.count() > 1000
    for offer in Offer.objects.all():
        assert offer.claimed_count == live.filter(offer=offer).count()
    assert ClaimTally.objects.aggregate(n=Sum("held"))["n"] == live.count()
    assert Voucher.objects.filter(resident__phone="13700000001", status="redeemed").exists()
    assert Voucher.objects.filter(resident__phone="13700000001", status="issued").exists()
