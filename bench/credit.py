"""Credit benchmarks (issue 3).

1. Seriously-dishonest list sync: a list of N entries (default 1,000,000 keyed hashes,
   1,000 of them residents with standings) streamed from the provider and synced in
   batches; entries/s and peak memory (VmHWM, reset before each phase), against two
   floors measured in the same run: streaming the list alone, and PostgreSQL COPY of the
   same hashes into an unlogged table.
2. POST /me/credit/verify latency, in-process: warm (a standing verified moments ago is
   served) versus cold (a signed query to the partner open platform on loopback).

Run: scripts/with-services.sh .venv/bin/python bench/credit.py [--entries N]
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
from _common import add_smoke, record, setup_django, summary_ms


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_residents(count: int):
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.credit.models import Consent, ConsentText, RuleVersion, Standing
    from accounts.identity import id_check_char
    from accounts.models import User

    password = make_password("bench-password-1")
    rule = RuleVersion.objects.get(scheme__name="钱江分", version=1)
    text = ConsentText.objects.get(is_current=True)
    users = []
    for i in range(count):
        first17 = f"330106{1950 + i % 50}0101{i % 1000:03d}"
        raw = first17 + id_check_char(first17)
        u = User(
            phone=f"150{i:08d}",
            real_name="测试",
            role="resident",
            home_city_id="330100",
            password=password,
        )
        u.set_id_number(raw.replace(raw[14:17], f"{i % 1000:03d}"))
        u.id_hash = secrets.token_hex(32)  # unique keyed hash stand-ins
        users.append(u)
    User.objects.bulk_create(users, batch_size=2000)
    users = list(User.objects.filter(phone__startswith="150"))
    now = timezone.now()
    Consent.objects.bulk_create([Consent(resident=u, text=text) for u in users])
    Standing.objects.bulk_create(
        [
            Standing(
                resident=u,
                city_id="330100",
                rule_version=rule,
                score=700,
                tier="excellent",
                verified_at=now,
                valid_until=now + timedelta(days=30),
            )
            for u in users
        ]
    )
    return users


def bench_list_sync(entries: int) -> list[str]:
    from django.conf import settings
    from django.db import connection

    from accounts.credit import services
    from accounts.credit.models import ListedPerson, Standing
    from accounts.credit.registry import provider_for

    users = make_residents(2000)
    listed = [u.id_hash for u in users[:1000]]
    folder = Path(tempfile.mkdtemp())
    list_file = folder / "list.txt"
    with list_file.open("w") as out:
        for h in listed:
            out.write(h + "\n")
        for _ in range(entries - len(listed)):
            out.write(secrets.token_hex(32) + "\n")
    settings.CREDIT_SANDBOX_LIST_FILE = str(list_file)
    size_mib = list_file.stat().st_size / 2**20
    lines = [
        f"List: {entries:,} entries ({size_mib:.0f} MiB file), 2,000 residents with "
        f"standings, 1,000 of them on the list; batch {settings.CREDIT_LIST_BATCH_SIZE}.",
        "",
    ]

    reset_peak()
    base = rss_mib()
    t0 = time.perf_counter()
    n = sum(1 for _ in provider_for("330100").iter_dishonest_list())
    stream_s = time.perf_counter() - t0
    lines.append(
        f"- floor A, stream the list only: {n / stream_s:,.0f} entries/s "
        f"({stream_s:.2f} s), peak +{peak_mib() - base:.0f} MiB"
    )

    with connection.cursor() as cur:
        cur.execute("CREATE UNLOGGED TABLE bench_copy (person_hash varchar(64))")
        reset_peak()
        base = rss_mib()
        t0 = time.perf_counter()
        with cur.copy("COPY bench_copy (person_hash) FROM STDIN") as copy, list_file.open() as f:
            for line in f:
                copy.write_row((line.strip(),))
        copy_s = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_copy")
    lines.append(
        f"- floor B, PostgreSQL COPY into an unlogged table: {entries / copy_s:,.0f} "
        f"entries/s ({copy_s:.2f} s), peak +{peak_mib() - base:.0f} MiB"
    )

    for label in ("first sync (all entries new)", "second sync (same list, steady state)"):
        reset_peak()
        base = rss_mib()
        t0 = time.perf_counter()
        report = services.sync_dishonest_list(city_code="330100")
        took = time.perf_counter() - t0
        lines.append(
            f"- {label}: {report.entries / took:,.0f} entries/s ({took:.1f} s), "
            f"peak +{peak_mib() - base:.0f} MiB over {base:.0f} MiB RSS; newly listed "
            f"{report.newly_listed}, removed {report.removed}; ratio to COPY floor "
            f"{(report.entries / took) / (entries / copy_s):.2f}"
        )
    assert ListedPerson.objects.filter(city="330100").count() == report.entries >= entries
    assert Standing.objects.filter(seriously_dishonest=True).count() == 1000
    list_file.unlink()
    return lines


def bench_verify(rounds: int) -> list[str]:
    from django.conf import settings
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.credit.models import Standing
    from accounts.credit.services import give_consent
    from accounts.demo import CONSENT_V1
    from accounts.models import User

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.credit.partner_server import PartnerServer

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    server = PartnerServer().start()
    settings.CREDIT_PROVIDERS = {
        "330100": {
            "kind": "http",
            "base_url": server.base_url,
            "app_key": server.app_key,
            "app_secret": server.app_secret,
            "timeout": 2,
            "retries": 0,
        }
    }
    resident = User(phone="15999990000", real_name="基准", role="resident", home_city_id="330100")
    resident.set_id_number("330106199107050229")
    resident.save()
    give_consent(resident=resident, version=CONSENT_V1["version"])
    server.persons[resident.id_hash] = {"score": 655, "seriously_dishonest": False}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(resident).access_token}")
    old = Standing.objects.filter(resident=resident)

    cold, warm = [], []
    for _ in range(10):  # warm-up both paths
        old.update(
            verified_at=old.first().verified_at - timedelta(hours=1)
        ) if old.exists() else None
        api.post("/api/v1/me/credit/verify")
    for _ in range(rounds):
        old.update(verified_at=old.first().verified_at - timedelta(hours=1))
        t0 = time.perf_counter()
        res = api.post("/api/v1/me/credit/verify")
        cold.append(time.perf_counter() - t0)
        assert res.status_code == 200, res.content
        t0 = time.perf_counter()
        res = api.post("/api/v1/me/credit/verify")
        warm.append(time.perf_counter() - t0)
        assert res.status_code == 200
    server.stop()
    ratio = sorted(cold)[len(cold) // 2] / sorted(warm)[len(warm) // 2]
    return [
        f"In-process DRF test client, Celery eager, partner server on loopback "
        f"({rounds} rounds each):",
        "",
        f"- warm (standing verified moments ago, no provider call): {summary_ms(warm)}",
        f"- cold (signed query to the partner API + audit + standing): {summary_ms(cold)}",
        f"- cold/warm median ratio: {ratio:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    add_smoke(parser, entries=2_000, rounds=3)
    args = parser.parse_args()
    setup_django()
    from accounts.reference import load_reference_data

    load_reference_data()
    record("Credit: dishonest-list sync (bench/credit.py)", bench_list_sync(args.entries))
    record("Credit: verify latency, warm vs cold (bench/credit.py)", bench_verify(args.rounds))


if __name__ == "__main__":
    main()
