"""Redemption under load (issues 5 and 18): the service under gunicorn on PostgreSQL with
100,000 issued vouchers, loaded by wrk with distinct valid tokens; in the same run, two
comparison endpoints doing one conditional UPDATE of one row: the floor (same stack and
auth as redemption) and bare (DRF token auth, IsAuthenticated); and the resident's claim
(distinct residents, distinct idempotency keys). Pass checks against the same floor:
bench/redeem/pass_checks.py. Each target runs in interleaved rounds after a warm-up.

Run: scripts/with-services.sh .venv/bin/python bench/redeem/run.py [--vouchers N]
"""

import argparse
import json
import os
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
import _common  # noqa: E402
from _common import (  # noqa: E402
    add_smoke,
    fmt,
    lasting_token,
    mean_of,
    ratio,
    record,
    setup_django,
    wrk,
)


def seed(count: int):
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from accounts.reference import load_reference_data
    from incentives import signing
    from incentives.models import Voucher
    from merchants.models import Merchant, MerchantStaff, Offer
    from merchants.validators import credit_code_check_char

    load_reference_data()
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
        codes = _common.unused_codes(cur, count)
        cols = (
            "code, offer_id, resident_id, status, merchant_id, dest_city_id, home_city_id, "
            "category, terms, terms_version, key_id, issued_at, expires_at, idempotency_key"
        )
        with cur.copy(f"COPY incentives_voucher ({cols}) FROM STDIN") as copy:
            for code in codes:
                copy.write_row(
                    (
                        code,
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
    return clerk, merchant, ids, tokens


def seed_claimants(merchant, count: int, run_seconds: float) -> tuple[int, list[str]]:
    """`count` residents with consent and a verified standing, and an open offer (no quota,
    one per resident, no tier): each claim is a distinct resident's first."""
    from django.utils import timezone

    from accounts.credit.conversion import tier_of
    from accounts.credit.models import Consent, ConsentText, RuleVersion, Standing
    from accounts.identity import id_check_char
    from accounts.models import User
    from accounts.tokens import access_token_for
    from merchants.models import Offer

    now = timezone.now()
    offer = Offer.objects.create(
        merchant=merchant,
        title="压测领取",
        description="压测",
        category="scenic",
        benefit_type="free_entry",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
        status="published",
        published_at=now,
        per_resident_limit=1,
    )
    residents = []
    for i in range(count):
        user = User(
            phone=f"157{i:08d}", real_name="压测居民", role="resident", home_city_id="330100"
        )
        user.set_unusable_password()
        month, day = i // 25200 % 12 + 1, i // 900 % 28 + 1  # 302,400 distinct numbers
        first17 = f"3301061990{month:02d}{day:02d}{i % 900 + 100:03d}"
        user.set_id_number(first17 + id_check_char(first17))
        residents.append(user)
    residents = User.objects.bulk_create(residents)
    text = ConsentText.objects.get(is_current=True)
    Consent.objects.bulk_create([Consent(resident=r, text=text) for r in residents])
    rule = RuleVersion.objects.filter(scheme__cities="330100").order_by("-version").first()
    Standing.objects.bulk_create(
        [
            Standing(
                resident=r,
                city_id="330100",
                rule_version=rule,
                score=720,
                tier=tier_of(720, rule.bands),
                seriously_dishonest=False,
                verified_at=now,
                valid_until=now + timedelta(days=30),
            )
            for r in residents
        ]
    )
    # access tokens as login issues them (with the role claim: accounts.tokens), dated to
    # outlive the run
    return offer.pk, [lasting_token(access_token_for(r), run_seconds) for r in residents]


def reset_vouchers() -> None:
    from django.db import connection

    # Only the rows a run flipped, then their dead versions vacuumed and the dirty pages
    # written: the next target starts on a settled database, not during a checkpoint.
    with connection.cursor() as cur:
        cur.execute("DELETE FROM incentives_redemption")
        cur.execute(
            "UPDATE incentives_voucher SET status='issued', redeemed_at=NULL "
            "WHERE status <> 'issued'"
        )
        cur.execute("VACUUM ANALYZE incentives_voucher")
        cur.execute("VACUUM ANALYZE incentives_redemption")
        cur.execute("CHECKPOINT")


def settle() -> None:
    """After seeding: statistics fresh, dirty pages written, so that no autovacuum or
    checkpoint of the seed lands on whichever target is measured first."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("CHECKPOINT")


def measure_rounds(targets: list, args, on_run=None) -> dict[str, dict]:
    """Serve the bench settings under gunicorn and measure each target (name, path, one
    body file per round) in interleaved rounds: round 0 a 3 s warm-up, then
    `len(bodies) - 1` rounds of `args.seconds`, each after a settled reset. Returns each
    target's mean (mean_of); `on_run(name)` is called after each measured run."""
    port = 18000 + os.getpid() % 1000
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.redeem.settings", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.redeem.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "--worker-class", "sync",
         # gunicorn.conf.py's threads (4) would turn "sync" into gthread (issue 24 on)
         "--threads", "1",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    runs: dict[str, list[dict]] = {}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        for round_ in range(len(targets[0][2])):
            for name, path, bodies in targets:
                time.sleep(1)  # requests still in flight when wrk stopped finish first
                reset_vouchers()
                seconds = 3 if round_ == 0 else args.seconds
                run = wrk(
                    f"http://127.0.0.1:{port}{path}",
                    bodies[round_],
                    threads=args.threads,
                    connections=args.connections,
                    seconds=seconds,
                )
                if round_:  # round 0 warms the workers up
                    runs.setdefault(name, []).append(run)
                    if on_run:
                        on_run(name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {name: mean_of(found) for name, found in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--claimants", type=int, default=60_000)
    parser.add_argument("--label", default="", help="what changed since the last run")
    parser.add_argument("--only", default="", help="comma-separated endpoints (exploring)")
    add_smoke(
        parser,
        vouchers=4000,
        claimants=3000,
        workers=1,
        seconds=1,
        rounds=1,
        connections=2,
        threads=1,
    )
    args = parser.parse_args()
    setup_django()

    # every target's rounds, each with its settling reset (~15 s): the tokens outlive it
    run_seconds = (args.rounds + 1) * 4 * (args.seconds + 15)
    t0 = time.perf_counter()
    clerk, merchant, ids, tokens = seed(args.vouchers)
    offer_id, claimant_tokens = seed_claimants(merchant, args.claimants, run_seconds)
    seeded = time.perf_counter() - t0
    from rest_framework.authtoken.models import Token

    from accounts.tokens import tokens_for

    bearer = "Bearer " + lasting_token(tokens_for(clerk).access_token, run_seconds)
    drf_token = "Token " + Token.objects.create(user=clerk).key
    folder = Path(tempfile.mkdtemp())

    def lines(name: str, rows) -> Path:
        out = folder / f"{name}.txt"
        out.write_text("".join(f"{auth}\t{key}\t{json.dumps(body)}\n" for auth, key, body in rows))
        return out

    # Every target is measured `rounds` times, interleaved (bare, floor, redeem, claim, bare,
    # …), after one short warm-up round: the figures are the mean of the rounds. A claim
    # uses a resident once, so each round (and the warm-up) has its own claimants.
    chunks = args.rounds + 1
    per = len(claimant_tokens) // chunks
    claim_files = [
        lines(
            f"claim-{c}",
            (
                (f"Bearer {t}", f"bench-{c}-{i}", {})
                for i, t in enumerate(claimant_tokens[c * per : (c + 1) * per])
            ),
        )
        for c in range(chunks)
    ]
    bare_file = lines("bare", ((drf_token, "-", {"id": pk}) for pk in ids))
    floor_file = lines("floor", ((bearer, "-", {"id": pk}) for pk in ids))
    redeem_file = lines("redeem", ((bearer, "-", {"token": t}) for t in tokens))
    targets = [
        ("bare", "/bench/bare", [bare_file] * chunks),
        ("floor", "/bench/floor", [floor_file] * chunks),
        ("redeem", "/api/v1/merchant/redemptions", [redeem_file] * chunks),
        ("claim", f"/api/v1/offers/{offer_id}/claim", claim_files),
    ]
    settle()

    from incentives.models import Redemption

    redeemed = 0

    def count_redemptions(name: str) -> None:  # the next target's reset deletes them
        nonlocal redeemed
        if name == "redeem":
            redeemed = Redemption.objects.count()

    only = set(filter(None, args.only.split(",")))
    measured = [t for t in targets if not only or t[0] in only]
    results = measure_rounds(measured, args, count_redemptions)
    _common.fail_smoke_if_void(results)
    if set(results) != {name for name, _, _ in targets}:  # --only: an exploring run
        for name, r in results.items():
            print(
                f"{name}: {fmt(r['rps'])} req/s, p50 {fmt(r['p50'], '.1f')} ms, "
                f"p99 {fmt(r['p99'], '.1f')} ms, statuses {r['status']}, rounds {r['rounds']}"
                + (f", VOID: {r['void']}" if r["void"] else "")
            )
        return
    titles = {
        "bare": "bare: DRF TokenAuthentication + one conditional UPDATE",
        "floor": "floor: one conditional UPDATE, same stack and JWT auth",
        "redeem": "POST /api/v1/merchant/redemptions",
        "claim": "POST /api/v1/offers/{id}/claim (distinct residents and keys)",
    }
    bare, floor, redeem = results["bare"], results["floor"], results["redeem"]
    lines_out = [
        f"Change measured: {args.label or '(none given)'}",
        "",
        f"gunicorn {args.workers} sync workers, wrk {args.threads} threads / "
        f"{args.connections} connections / {args.seconds} s per round on the same 2-core "
        f"machine, {args.rounds} rounds interleaved after a 3 s warm-up round, "
        "(the machine's speed drifts: compare the ratios of one run, not absolute figures), "
        f"PostgreSQL, {args.vouchers:,} issued vouchers and {args.claimants:,} claimants "
        f"(seeded in {seeded:.1f} s), every request a distinct valid token (floor and bare: "
        "a distinct row id; claim: a distinct resident and Idempotency-Key).",
        "",
        "| endpoint | req/s (mean) | each round | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
        *(
            f"| {titles[name]} | {fmt(r['rps'])} | {r['rounds']} | {fmt(r['p50'], '.1f')} | "
            f"{fmt(r['p99'], '.1f')} | {r['status']} |"
            for name, r in results.items()
        ),
        "",
        f"Ratios: redeem/bare **{ratio(redeem['rps'], bare['rps'])}** (target ≥ 1.0), "
        f"redeem/floor **{ratio(redeem['rps'], floor['rps'])}** (≥ 0.9), redeem p99 / bare "
        f"p99 **{ratio(redeem['p99'], bare['p99'])}** (≤ 1.5), claim/bare "
        f"**{ratio(results['claim']['rps'], bare['rps'])}** (≥ 0.9, issue 27)"
        + (", pass checks: bench/redeem/pass_checks.py (a pass per resident and offer)")
        + f". Redemption rows after the last redemption round: {redeemed:,}.",
        "",
        "Only the statuses each round asked for count (201); a round with any other answer "
        "or a socket error is void and left out of the means"
        + (
            ": " + "; ".join(f"{n}: {r['void']}" for n, r in results.items() if r["void"])
            if any(r["void"] for r in results.values())
            else " (none was void in this run)."
        ),
    ]
    record("Redeem under load (bench/redeem/run.py)", lines_out)


if __name__ == "__main__":
    main()
