"""Redemption under load (issue 5): the service under gunicorn on PostgreSQL with 100,000
issued vouchers, loaded by wrk with distinct valid tokens; in the same run, the floor: a
minimal endpoint on the same stack and auth doing one conditional UPDATE of one row.

Run: scripts/with-services.sh .venv/bin/python bench/redeem/run.py [--vouchers N]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.redeem.settings"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
from _common import record, setup_django  # noqa: E402


def seed(count: int):
    from django.db import connection
    from django.utils import timezone

    from accounts.demo import seed_cities_and_schemes
    from accounts.models import User
    from incentives import signing
    from incentives.models import Voucher
    from merchants.models import Merchant, MerchantStaff, Offer
    from merchants.validators import credit_code_check_char

    seed_cities_and_schemes()
    first17 = "91330100MC0000001"
    merchant = Merchant.objects.create(
        name="压测景区",
        credit_code=first17 + credit_code_check_char(first17),
        city_id="330100",
        district="西湖区",
        address="压测路",
        category="scenic",
        contact_phone="0571-87654321",
    )
    now = timezone.now()
    offer = Offer.objects.create(
        merchant=merchant,
        title="压测优惠",
        description="压测",
        category="scenic",
        benefit_type="free_entry",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
        status="published",
        published_at=now,
        claimed_count=count,
    )
    clerk = User.objects.create_user(
        "13600009999", "bench-pass-1", role="merchant_staff", real_name="检票员", is_staff=True
    )
    MerchantStaff.objects.create(user=clerk, merchant=merchant)
    resident = User(
        phone="15800000000", real_name="压测居民", role="resident", home_city_id="330100"
    )
    resident.set_id_number("330106199107050229")
    resident.save()
    kid = signing.active_key().kid
    expires = now + timedelta(days=7)
    terms = json.dumps(offer.terms_snapshot(), ensure_ascii=False)
    with connection.cursor() as cur:
        cols = (
            "code, offer_id, resident_id, status, merchant_id, dest_city_id, home_city_id, "
            "category, terms, terms_version, key_id, issued_at, expires_at, idempotency_key"
        )
        with cur.copy(f"COPY incentives_voucher ({cols}) FROM STDIN") as copy:
            for _ in range(count):
                copy.write_row(
                    (
                        signing.new_code(),
                        offer.pk,
                        resident.pk,
                        "issued",
                        merchant.pk,
                        "330100",
                        "330100",
                        "scenic",
                        terms,
                        1,
                        kid,
                        now,
                        expires,
                        "",
                    )
                )
        cur.execute("ANALYZE incentives_voucher")
    ids = list(Voucher.objects.order_by("pk").values_list("pk", flat=True))
    tokens = [signing.sign(kid=kid, voucher_id=pk, expires_at=expires) for pk in ids]
    return clerk, ids, tokens


def reset_vouchers() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM incentives_redemption")
        cur.execute("UPDATE incentives_voucher SET status='issued', redeemed_at=NULL")
        cur.execute("VACUUM ANALYZE incentives_voucher")


def wrk(url: str, bodies: Path, token: str, args) -> dict:
    env = dict(
        os.environ, BENCH_BODIES=str(bodies), BENCH_TOKEN=token, BENCH_THREADS=str(args.threads)
    )
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{args.seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench/redeem/wrk.lua"),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    out = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    status = re.search(r"STATUS (.*)", out).group(1)
    lat = re.search(r"LAT p50=([\d.]+) p99=([\d.]+)", out)
    return {"rps": rps, "status": status, "p50": float(lat.group(1)), "p99": float(lat.group(2))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from rest_framework_simplejwt.tokens import RefreshToken

    t0 = time.perf_counter()
    clerk, ids, tokens = seed(args.vouchers)
    seeded = time.perf_counter() - t0
    access = str(RefreshToken.for_user(clerk).access_token)
    folder = Path(tempfile.mkdtemp())
    floor_bodies, redeem_bodies = folder / "floor.txt", folder / "redeem.txt"
    floor_bodies.write_text("\n".join(json.dumps({"id": pk}) for pk in ids) + "\n")
    redeem_bodies.write_text("\n".join(json.dumps({"token": t}) for t in tokens) + "\n")

    port = 18000 + os.getpid() % 1000
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.redeem.settings", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.redeem.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        for name, path, bodies in [
            ("floor", "/bench/floor", floor_bodies),
            ("redeem", "/api/v1/merchant/redemptions", redeem_bodies),
        ]:
            reset_vouchers()
            results[name] = wrk(f"http://127.0.0.1:{port}{path}", bodies, access, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    from incentives.models import Redemption

    redeemed = Redemption.objects.count()
    floor, redeem = results["floor"], results["redeem"]
    lines = [
        f"gunicorn {args.workers} sync workers, wrk {args.threads} threads / "
        f"{args.connections} connections / {args.seconds} s on the same 2-core machine, "
        f"PostgreSQL, {args.vouchers:,} issued vouchers (seeded by COPY in {seeded:.1f} s), "
        "every request a distinct valid token (floor: a distinct row id).",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|",
        f"| floor: one conditional UPDATE, same stack and auth | {floor['rps']:.0f} | "
        f"{floor['p50']:.1f} | {floor['p99']:.1f} | {floor['status']} |",
        f"| POST /api/v1/merchant/redemptions | {redeem['rps']:.0f} | {redeem['p50']:.1f} | "
        f"{redeem['p99']:.1f} | {redeem['status']} |",
        "",
        f"Ratio redeem/floor: **{redeem['rps'] / floor['rps']:.2f}** (target ≥ 0.7). "
        f"Redemption rows after the run: {redeemed:,}.",
    ]
    record("Redeem under load (bench/redeem/run.py)", lines)


if __name__ == "__main__":
    main()
