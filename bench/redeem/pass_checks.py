"""Pass checks under load (issue 14): `POST /api/v1/merchant/pass-checks` under gunicorn on
PostgreSQL, loaded by wrk with one distinct valid credit pass of a distinct resident per
request (each a first use of a 1-per-day entitlement: every answer a 201), against the
same floor as bench/redeem/run.py (same stack and auth, one conditional UPDATE) in the
same run.

The passes are signed by the bench itself with a 30-minute expiry so that they outlive
the run (the service gives residents five minutes); everything else is the product's path.

Run: scripts/with-services.sh .venv/bin/python bench/redeem/pass_checks.py [--residents N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "redeem"))
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.redeem.settings"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
import _common  # noqa: E402
from _common import add_smoke, fmt, lasting_token, ratio, record, setup_django  # noqa: E402
from run import measure_rounds, seed, settle  # noqa: E402


def seed_residents(count: int, merchant_id: int):
    """`count` residents of Hangzhou with a current standing and consent, and one published
    entitlement offer of the bench merchant (1 use per day), which each of them used
    yesterday: the counter's tables are as on a holiday's second day, not empty. (Analyzed
    empty, they were planned as empty: the first timed round's checks then scanned the
    tally that they were filling, until autovacuum analyzed it.)"""
    from django.db import connection
    from django.utils import timezone

    from accounts.credit.models import ConsentText, RuleVersion
    from accounts.models import User
    from incentives.models import EntitlementTally, EntitlementUse
    from merchants.models import Offer

    now = timezone.now()
    offer = Offer.objects.create(
        merchant_id=merchant_id,
        kind="entitlement",
        scenario="travel",
        title="压测信用通道",
        description="压测",
        category="scenic",
        benefit_type="priority_service",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
        status="published",
        published_at=now,
        limit_per_period=1,
        period="day",
    )
    rule = RuleVersion.objects.filter(scheme__cities="330100").order_by("-version").first()
    text = ConsentText.objects.get(is_current=True)
    with connection.cursor() as cur:
        cols = "phone, password, real_name, role, home_city_id, id_hash, id_masked, is_active, is_staff, is_superuser, date_joined"  # noqa: E501
        with cur.copy(f"COPY {User._meta.db_table} ({cols}) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row(
                    (
                        f"159{i:08d}",
                        "!",
                        "压测居民",
                        "resident",
                        "330100",
                        f"bench-pass-{i:040d}",
                        f"3301**********{i % 10000:04d}",
                        True,
                        False,
                        False,
                        now,
                    )
                )
        cur.execute(
            "INSERT INTO accounts_standing (resident_id, city_id, rule_version_id, score, tier, "
            "seriously_dishonest, verified_at, valid_until, provider_reference, grade) "
            "SELECT id, '330100', %s, 760, 'excellent', false, %s, %s, '', '' "
            "FROM accounts_user WHERE phone LIKE '159%%'",
            [rule.pk, now, now + timedelta(days=30)],
        )
        cur.execute(
            "INSERT INTO accounts_consent (resident_id, text_id, granted_at) "
            "SELECT id, %s, %s FROM accounts_user WHERE phone LIKE '159%%'",
            [text.pk, now],
        )
        yesterday = now - timedelta(days=1)
        day = timezone.localtime(yesterday).date()
        cur.execute(
            f"INSERT INTO {EntitlementTally._meta.db_table} "
            "(offer_id, resident_id, period_start, used) "
            "SELECT %s, id, %s, 1 FROM accounts_user WHERE phone LIKE '159%%'",
            [offer.pk, day],
        )
        cur.execute(
            f"INSERT INTO {EntitlementUse._meta.db_table} (offer_id, resident_id, merchant_id, "
            "staff_id, pass_id, period_start, used_at, scenario, category, dest_city_id, "
            "home_city_id) SELECT %s, id, %s, NULL, -id, %s, %s, %s, %s, %s, home_city_id "
            "FROM accounts_user WHERE phone LIKE '159%%'",
            [
                offer.pk,
                merchant_id,
                day,
                yesterday,
                offer.scenario,
                offer.category,
                offer.merchant.city_id,
            ],
        )
        cur.execute("ANALYZE")
    ids = list(
        User.objects.filter(phone__startswith="159").order_by("pk").values_list("pk", flat=True)
    )
    return offer, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6)
    add_smoke(parser, residents=3000, workers=1, seconds=1, rounds=1, connections=2, threads=1)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from accounts.tokens import tokens_for
    from incentives import signing

    t0 = time.perf_counter()
    clerk, _merchant, voucher_ids, _tokens = seed(args.residents)
    merchant_id = clerk.merchant_membership.merchant_id
    offer, residents = seed_residents(args.residents, merchant_id)
    expires = timezone.now() + timedelta(hours=2)
    passes = [signing.sign_pass(resident_id=pk, expires_at=expires) for pk in residents]
    seeded = time.perf_counter() - t0
    # with the role claim, as login issues it, dated to outlive the run
    run_seconds = (args.rounds + 1) * 2 * (args.seconds + 15)
    access = lasting_token(tokens_for(clerk).access_token, run_seconds)
    folder = Path(tempfile.mkdtemp())
    # wrk.lua's lines: authorization, idempotency key (- for none), JSON body. A pass is
    # used once, so each round (and the warm-up round) has its own residents' passes.
    auth = f"Bearer {access}"
    floor_bodies = folder / "floor.txt"
    floor_bodies.write_text(
        "\n".join(f"{auth}\t-\t{json.dumps({'id': pk})}" for pk in voucher_ids) + "\n"
    )
    chunks = args.rounds + 1
    per = len(passes) // chunks
    pass_files = []
    for c in range(chunks):
        out = folder / f"passes-{c}.txt"
        body = ({"token": t, "offer_id": offer.pk} for t in passes[c * per : (c + 1) * per])
        out.write_text("\n".join(f"{auth}\t-\t{json.dumps(b)}" for b in body) + "\n")
        pass_files.append(out)
    settle()

    results = measure_rounds(
        [
            ("floor", "/bench/floor", [floor_bodies] * chunks),
            ("passes", "/api/v1/merchant/pass-checks", pass_files),
        ],
        args,
    )
    _common.fail_smoke_if_void(results)
    from incentives.models import EntitlementUse

    # the run's own (yesterday's, seeded, have negative pass ids and yesterday's period)
    uses = EntitlementUse.objects.filter(pass_id__gt=0).count()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*), COALESCE(MAX(used), 0) FROM incentives_entitlementtally "
            "WHERE period_start > %s",
            [timezone.localdate() - timedelta(days=1)],
        )
        tallies, most = cur.fetchone()
    floor, checks = results["floor"], results["passes"]
    lines = [
        f"gunicorn {args.workers} sync workers, wrk {args.threads} threads / "
        f"{args.connections} connections / {args.seconds} s per round on the same 2-core "
        f"machine, {args.rounds} rounds interleaved after a 3 s warm-up round (figures: the "
        f"mean), PostgreSQL, {args.residents:,} residents with a standing and consent and as "
        f"many issued vouchers for the floor, each resident's use of the entitlement yesterday "
        f"(seeded in {seeded:.1f} s); every pass check a "
        "distinct valid pass of a distinct resident, a first use of a 1-per-day entitlement. "
        "The machine's speed drifts: compare the ratio of one run, not absolute figures.",
        "",
        "| endpoint | req/s (mean) | each round | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
        f"| floor: one conditional UPDATE, same stack and auth | {fmt(floor['rps'])} | "
        f"{floor['rounds']} | {fmt(floor['p50'], '.1f')} | {fmt(floor['p99'], '.1f')} | "
        f"{floor['status']} |",
        f"| POST /api/v1/merchant/pass-checks | {fmt(checks['rps'])} | {checks['rounds']} | "
        f"{fmt(checks['p50'], '.1f')} | {fmt(checks['p99'], '.1f')} | {checks['status']} |",
        "",
        f"Ratio pass checks/floor: **{ratio(checks['rps'], floor['rps'])}** (target ≥ 0.9, "
        "issue 27). Only 201s count: a round with any other answer or a socket error is "
        "void and left out of the means"
        + (
            " (" + "; ".join(f"{n}: {r['void']}" for n, r in results.items() if r["void"]) + "). "
            if any(r["void"] for r in results.values())
            else " (none was void in this run). "
        )
        + f"Uses after the run: {uses:,}; tally rows {tallies:,}, the most used {most} "
        "(limit 1: never exceeded).",
    ]
    record("Pass checks under load (bench/redeem/pass_checks.py)", lines)


if __name__ == "__main__":
    main()
