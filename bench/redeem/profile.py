"""Where a request's time goes: the redeem benchmark's endpoints called in-process
(Django's test client, the full middleware stack) under pyinstrument.

Run: scripts/with-services.sh .venv/bin/python bench/redeem/profile.py WHICH [N]
     (WHICH: redeem, claim, passes, bare or floor)
     scripts/with-services.sh .venv/bin/python bench/redeem/profile.py cpu [N]
The `cpu` form calls each endpoint N times in turn (several rounds, interleaved: the claim
with an Idempotency-Key each, the pass check as bench/redeem/pass_checks.py sends it) and
prints the Python CPU time per request (time.process_time: the server side's own work, which a
machine shared with other jobs disturbs much less than wall-clock throughput).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "redeem"))
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.redeem.settings"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
from _common import setup_django  # noqa: E402


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "redeem"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    setup_django()
    from django.test import Client
    from pyinstrument import Profiler
    from redeem.run import seed, seed_claimants
    from rest_framework.authtoken.models import Token

    from accounts.tokens import tokens_for

    clerk, merchant, ids, tokens = seed(n)
    client = Client(SERVER_NAME="127.0.0.1")
    bearer = "Bearer " + str(tokens_for(clerk).access_token)
    if which == "cpu":
        return cpu(client, clerk, merchant, ids, tokens, bearer)
    calls: list[tuple[str, dict, str, str | None]]
    if which == "claim":
        offer_id, residents = seed_claimants(merchant, n, 3600)
        calls = [
            (f"/api/v1/offers/{offer_id}/claim", {}, f"Bearer {t}", f"k{i}")
            for i, t in enumerate(residents)
        ]
    elif which == "passes":
        calls = [("/api/v1/merchant/pass-checks", b, bearer, None) for b in pass_bodies(clerk, n)]
    elif which == "bare":
        token = "Token " + Token.objects.create(user=clerk).key
        calls = [("/bench/bare", {"id": pk}, token, None) for pk in ids]
    elif which == "floor":
        calls = [("/bench/floor", {"id": pk}, bearer, None) for pk in ids]
    else:
        calls = [("/api/v1/merchant/redemptions", {"token": t}, bearer, None) for t in tokens]
    for path, body, auth, key in calls[:20]:  # warm up
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        r = client.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=auth, **extra
        )
    print(r.status_code, r.content[:300])
    profiler = Profiler(interval=0.0002)
    profiler.start()
    statuses = {}
    for path, body, auth, key in calls[20:]:
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        r = client.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=auth, **extra
        )
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    profiler.stop()
    print(statuses)
    show_all = os.environ.get("SHOW_ALL") == "1"  # every frame, libraries' too
    print(profiler.output_text(unicode=False, color=False, show_all=show_all))


def pass_bodies(clerk, count: int) -> list[dict]:
    """Pass checks as bench/redeem/pass_checks.py sends them: a distinct resident's pass each,
    the first use of a 1-per-day entitlement."""
    from datetime import timedelta

    from django.utils import timezone
    from pass_checks import seed_residents  # type: ignore[import-not-found]

    from incentives import signing

    offer, residents = seed_residents(count, clerk.merchant_membership.merchant_id)
    expires = timezone.now() + timedelta(minutes=30)
    return [
        {"token": signing.sign_pass(resident_id=pk, expires_at=expires), "offer_id": offer.pk}
        for pk in residents
    ]


def cpu(client, clerk, merchant, ids, tokens, bearer) -> None:
    import statistics
    import time

    from redeem.run import seed_claimants
    from rest_framework.authtoken.models import Token

    offer_id, residents = seed_claimants(merchant, len(ids), 3600)
    drf = "Token " + Token.objects.create(user=clerk).key
    rounds = 5
    per = len(ids) // rounds
    targets = {
        "bare": [("/bench/bare", {"id": pk}, drf, None) for pk in ids],
        "floor": [("/bench/floor", {"id": pk}, bearer, None) for pk in ids],
        "redeem": [("/api/v1/merchant/redemptions", {"token": t}, bearer, None) for t in tokens],
        "claim": [
            (f"/api/v1/offers/{offer_id}/claim", {}, f"Bearer {t}", f"k{i}")
            for i, t in enumerate(residents)
        ],
        "passes": [
            ("/api/v1/merchant/pass-checks", b, bearer, None) for b in pass_bodies(clerk, len(ids))
        ],
    }
    from django.db import connection

    samples: dict[str, list[float]] = {name: [] for name in targets}
    server: dict[str, list[float]] = {name: [] for name in targets}
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]

    def backend_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend (same machine)."""
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    for r in range(rounds):
        for name, calls in targets.items():
            if name in ("bare", "floor", "redeem"):
                with connection.cursor() as cur:  # the floors and redemption share vouchers
                    cur.execute("DELETE FROM incentives_redemption")
                    cur.execute("UPDATE incentives_voucher SET status='issued'")
            t0, b0 = time.process_time(), backend_cpu()
            for path, body, auth, key in calls[r * per : (r + 1) * per]:
                extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
                res = client.post(
                    path, body, content_type="application/json", HTTP_AUTHORIZATION=auth, **extra
                )
                assert res.status_code in (200, 201), (name, res.status_code, res.content[:200])
            samples[name].append((time.process_time() - t0) / per * 1000)
            server[name].append((backend_cpu() - b0) / per * 1000)
    base = statistics.median(samples["bare"])
    for name, values in samples.items():
        med = statistics.median(values)
        pg = statistics.median(server[name])
        print(
            f"{name}: {med:.3f} ms CPU per request (median of {rounds} rounds of {per}); "
            f"x{med / base:.2f} of bare; PostgreSQL backend {pg:.3f} ms"
        )


if __name__ == "__main__":
    main()
