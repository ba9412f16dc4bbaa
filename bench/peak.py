"""A holiday peak (issue 27, point 4): an open-model load test against `make cluster`.

Requests arrive on a fixed schedule (a constant arrival rate, whatever the answers: an
open model, as a city's residents do not wait for each other), stepped up past what the
cluster serves. Latency is measured from each request's *scheduled* send time, so a
generator or a server that falls behind shows up in the figures (no coordinated
omission). For each offered rate it reports the achieved rate (2xx answers only), p50/p99
of the admitted (2xx) requests, the shed answers (`503 service_unavailable` or `429
throttled` with `Retry-After`: the balancer's answer past its bounded queue,
`deploy/haproxy/errors/shed.json`) and the errors (every other non-2xx, and no answer within
10 s); then it finds the knee and checks, against the primary, that claims, redemptions
and pass checks stayed exact:

- every `201` claim is a voucher row with its idempotency key and code, one per key, and
  the offer's `claimed_count` equals its vouchers and stays within `total_quota`;
- every `201` redemption is a redemption row, no voucher is redeemed twice, and rows with
  no `201` are at most the redemptions that got no answer;
- every `201` pass check is an entitlement use (same bound for the unanswered).

The mix (weights, each a share of the arrivals; `MIX` below): browse the offer list as a
resident (eligibility per offer) 35, one offer 10, the resident's credit standing 5,
claim 15 (an `Idempotency-Key` each), redemption 15 (a distinct voucher each), pass check
15 (a fresh pass each), the city dashboard's summary 5. Access tokens are minted for 3
hours, so no `401` can come from expiry during a run.

Before the first step, `--warmup` seconds (10) at its rate are sent and not counted in
any step (their writes are counted for exactness): without them the nodes' first requests
and the WAL's full-page images after the checkpoint taken before timing fell on the first
step, which shed at 20 req/s and, as the bound's reference, could pass it against a p99 of
679 ms (2026-12-07 07:53 CST in bench/RESULTS.md).

A step in which the disk answered writes in over 100 ms (its worst quarter second,
`DiskWatch` below) runs again at once, each step once and three in a run at most; the
record lists the first runs' figures. The cluster's PostgreSQL waits for its WAL on every
commit, and this machine's disk is shared: such a step measures the disk. The bound's
reference is never a stalled step: one whose disk stalled (still so after its second
run), or one that shed more than 1% of its requests, which below the knee only a stall
does (2026-12-07 08:22 CST: after the warm-up, the first step shed 27 of 240 at 20 req/s
with a p99 of 704 ms and both nodes' workers held, the disk at 40 ms per write).

The knee: the highest offered rate whose achieved rate is ≥ 95% of it with no error.
Past it the verdict checks the p99 of admitted requests stays ≤ 2 × its value at the step
below the knee nearest half of it (with the knee at the lowest step there is none: the
bound is "not checked", never a pass), and that every non-2xx is a shed answer.

Beside each step: the disk's worst mean write latency over 0.25 s (`DiskWatch`; the
cluster's PostgreSQL waits for its WAL on the disk at every commit), and on stderr when
in the step the admitted answers slower than 100 ms were sent, to set a slow step beside
the disk and the primary's log.

Run it inside the cluster's network (the cluster started as `make cluster`):

    .venv/bin/python bench/peak.py [--steps 50,100,200,300,400,600,800] [--seconds 15]
        [--smoke] [--record]

`--smoke`: two tiny steps of 2 s against `--target local` (one web node started here on
DATABASE_URL, behind the cluster's HAProxy configuration; tests/test_bench_smoke.py),
nothing recorded, and every answer must be a 2xx. The figures depend on the machine:
on a 2-core machine the generator shares the cores with the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import itertools
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "cluster"))

from _common import (  # type: ignore[import-not-found]  # noqa: E402
    CLUSTER_PRIMARY,
    DiskWatch,
    add_smoke,
    beats_paused,
    checkpoint,
    cluster_balancer,
    cluster_pid,
    cpu_of,
    cpu_spent,
    pct,
    record,
)

CLUSTER_DIR = Path(os.environ.get("XINYOU_CLUSTER_DIR", "/tmp/xinyou-cluster"))

# kind -> weight (a share of the arrivals)
MIX: dict[str, int] = {
    "browse": 35,
    "offer": 10,
    "credit": 5,
    "claim": 15,
    "redeem": 15,
    "pass_check": 15,
    "dashboard": 5,
}
# docs/scaling.md's per-core rates ("What one request costs"); the model has no figure of
# its own for one offer, the standing and the dashboard summary: one offer and the summary
# are counted as an offer page, the standing as a redemption (one indexed read)
MODEL_PER_CORE: dict[str, float] = {
    "browse": 40,
    "offer": 40,
    "credit": 380,
    "claim": 170,
    "redeem": 380,
    "pass_check": 290,
    "dashboard": 40,
}
TOKEN_LIFETIME = timedelta(hours=3)
REQUEST_TIMEOUT = 10.0
GENERATOR_SLACK_MS = 100.0
SHED_CODES = {429: "throttled", 503: "service_unavailable"}


# --- data -------------------------------------------------------------------------------


def prepare(residents: int, vouchers: int, passes: int) -> dict[str, Any]:
    """The cluster test's offer, residents and issued vouchers (bench/cluster), an
    entitlement offer of the same merchant for pass checks, fresh passes, and access
    tokens that outlive the run."""
    import cluster_test  # type: ignore[import-not-found]
    from django.utils import timezone

    from accounts.models import User
    from accounts.tokens import access_token_for
    from incentives import signing
    from merchants.models import MerchantStaff, Offer

    data = cluster_test.prepare(residents, vouchers)
    now = timezone.now()
    # a quota the run cannot reach, so that "within the quota" is checked, not assumed
    offer = Offer.objects.get(pk=data["offer"])
    Offer.objects.filter(pk=offer.pk).update(total_quota=offer.claimed_count + 10_000_000)
    clerk = User.objects.get(phone="13600000001")
    merchant = MerchantStaff.objects.get(user=clerk).merchant
    entitlement = Offer.objects.create(
        merchant=merchant,
        kind="entitlement",
        scenario="travel",
        title="高峰压测信用通道",
        description="peak",
        category=merchant.category,
        benefit_type="priority_service",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
        status="published",
        published_at=now,
        limit_per_period=1_000_000,
        period="day",
    )

    def token(user: User) -> str:
        access = access_token_for(user)
        access.set_exp(lifetime=TOKEN_LIFETIME)
        return str(access)

    people = list(User.objects.filter(phone__startswith="158").order_by("-pk")[:residents])
    expires = now + TOKEN_LIFETIME
    return {
        "offer": offer.pk,
        "entitlement": entitlement.pk,
        "clerk": token(clerk),
        "city_staff": token(User.objects.get(phone="13900000001")),
        "residents": [token(u) for u in people],
        "passes": [
            signing.sign_pass(resident_id=people[i % len(people)].pk, expires_at=expires)
            for i in range(passes)
        ],
        "tokens": data["tokens"],
        "voucher_ids": data["voucher_ids"],
    }


# --- the load ---------------------------------------------------------------------------


@dataclass
class Answer:
    step: int
    kind: str
    status: int  # 0: no answer within REQUEST_TIMEOUT, or the connection failed
    latency: float  # seconds from the scheduled send time to the whole answer
    lag: float  # seconds the generator sent it after its scheduled time
    shed: bool = False  # a 429/503 with Retry-After and the envelope's code
    key: str = ""
    code: str = ""
    sent_at: float = 0.0  # the scheduled send time, wall clock (time.time())


@dataclass
class Plan:
    """What the next request of each kind sends: distinct vouchers and passes, rotating
    residents, a fresh idempotency key per write."""

    data: dict[str, Any]
    today: str
    rng: random.Random = field(default_factory=lambda: random.Random(27))
    tokens: list[str] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    residents: itertools.cycle = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = list(self.data["tokens"])
        self.passes = list(self.data["passes"])
        self.residents = itertools.cycle(self.data["residents"])
        kinds, weights = zip(*MIX.items(), strict=True)
        self.kinds, self.weights = list(kinds), list(weights)

    def next(self) -> tuple[str, str, str, dict | None, dict[str, str], str]:
        """(kind, method, path, body, headers, key)"""
        kind = self.rng.choices(self.kinds, self.weights)[0]
        resident = next(self.residents)
        d = self.data
        auth = {"Authorization": f"Bearer {resident}"}
        key = ""
        left = self.tokens if kind == "redeem" else self.passes
        if kind in ("redeem", "pass_check") and not left:
            kind = "browse"  # out of prepared vouchers or passes: never reuse one
        if kind == "browse":
            return kind, "GET", "/api/v1/offers?city=330100&page_size=20", None, auth, key
        if kind == "offer":
            return kind, "GET", f"/api/v1/offers/{d['offer']}", None, auth, key
        if kind == "credit":
            return kind, "GET", "/api/v1/me/credit", None, auth, key
        if kind == "dashboard":
            path = f"/api/v1/dashboard/summary?date_from={self.today}&date_to={self.today}"
            return kind, "GET", path, None, {"Authorization": f"Bearer {d['city_staff']}"}, key
        if kind == "claim":
            key = f"pk-{uuid.uuid4().hex}"
            auth["Idempotency-Key"] = key
            return kind, "POST", f"/api/v1/offers/{d['offer']}/claim", {}, auth, key
        clerk = {"Authorization": f"Bearer {d['clerk']}", "Idempotency-Key": uuid.uuid4().hex}
        if kind == "redeem":
            key = self.tokens.pop()
            return kind, "POST", "/api/v1/merchant/redemptions", {"token": key}, clerk, key
        key = self.passes.pop()
        body = {"token": key, "offer_id": d["entitlement"]}
        return kind, "POST", "/api/v1/merchant/pass-checks", body, clerk, key


async def one(session, base: str, step: int, plan_item, at: float, out: list[Answer]) -> None:
    import aiohttp

    kind, method, path, body, headers, key = plan_item
    loop = asyncio.get_running_loop()
    lag = loop.time() - at
    status, shed, code = 0, False, ""
    try:
        async with session.request(
            method, base + path, json=body, headers={"Accept-Language": "zh-hans", **headers}
        ) as resp:
            raw = await resp.read()
            status = resp.status
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                err = payload.get("error")
                if status in SHED_CODES and isinstance(err, dict):
                    shed = "Retry-After" in resp.headers and err.get("code") == SHED_CODES[status]
                elif kind == "claim":
                    code = str(payload.get("code", ""))
    except (aiohttp.ClientError, TimeoutError, OSError):
        status = 0
    latency = loop.time() - at
    out.append(Answer(step, kind, status, latency, lag, shed, key, code, time.time() - latency))


WARMUP, RERUN = -1, -2  # Answer.step of the warm-up's answers, and of a re-run step's first
# A step in which the disk answered writes slower than this (its worst quarter second) is
# run again, once, at most MAX_RERUNS times in a run: a commit waits for its WAL write, so
# such a step measures the disk (shared with other machines here) more than the service.
DISK_STALL_MS = 100.0
MAX_RERUNS = 3


async def run_steps(
    steps: list[int],
    seconds: float,
    plan: Plan,
    pause: float,
    warmup: float = 0.0,
    disk: DiskWatch | None = None,
    parts: dict[str, list[int]] | None = None,
) -> tuple[list[Answer], list[dict], dict[int, dict[str, float]]]:
    """Every step's answers (`Answer.step` its index) and the steps run again after a disk
    stall. First, with `warmup` seconds, a warm-up at the first step's rate (answers with
    step WARMUP). A step whose disk stalled (DISK_STALL_MS) runs again at once: the first
    run's answers get step RERUN and its figures are returned beside. Answers of every
    kind count for exactness, only a step's own in its figures. With `parts` (name: the
    roots of its processes), also the cores each part used in each step (its last run)."""
    import aiohttp

    host, port = os.environ.get("PEAK_HOST", "127.0.0.1"), os.environ.get("HAPROXY_PORT", "8080")
    base = f"http://{host}:{port}"
    out: list[Answer] = []
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        # No garbage collection inside a step: a full collection over the generator's heap
        # (every prepared token and answer) stalls its sending by tens of milliseconds, and
        # latency counts from the schedule, so the stall would be charged to the service.
        # Collected in the pause after each step instead.
        gc.collect()
        gc.freeze()
        gc.disable()
        schedule = [(WARMUP, steps[0], warmup)] if warmup > 0 else []
        schedule += [(index, rate, seconds) for index, rate in enumerate(steps)]
        reruns: list[dict] = []
        cores: dict[int, dict[str, float]] = {}
        while schedule:
            index, rate, duration = schedule.pop(0)
            n = int(rate * duration)
            before = {name: cpu_of(pids) for name, pids in (parts or {}).items()}
            began = time.monotonic()
            start = loop.time() + 0.05
            tasks = []
            for i in range(n):
                at = start + i / rate
                delay = at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(session, base, index, plan.next(), at, out)))
            await asyncio.gather(*tasks)
            took = time.monotonic() - began
            cores[index] = {
                name: round(cpu_spent(before[name], cpu_of(pids)) / took, 2)
                for name, pids in (parts or {}).items()
            }
            what = "warm-up" if index < 0 else "step"
            print(f"{what} {rate}/s done: {n} requests", file=sys.stderr, flush=True)
            _print_slow([a for a in out if a.step == index])
            gc.collect()
            await asyncio.sleep(pause)  # the disk's samples of the step's end come in meanwhile
            if index < 0 or disk is None or len(reruns) >= MAX_RERUNS:
                continue
            if any(r["offered"] == rate for r in reruns):
                continue  # run again once at most
            mine = [dataclasses.replace(a, step=0) for a in out if a.step == index]
            first = step_figures([rate], duration, mine, disk)[0]
            if disk_stalled(first):
                for answer in out:
                    if answer.step == index:
                        answer.step = RERUN
                reruns.append(first)
                schedule.insert(0, (index, rate, duration))
                print(f"step {rate}/s: the disk stalled, run again", file=sys.stderr, flush=True)
        gc.enable()
    return out, reruns, cores


def _print_slow(answers: list[Answer], over_ms: float = 100.0) -> None:
    """When in the step (UTC, to the tenth of a second) the admitted answers slower than
    `over_ms` were sent, and of which kind: to set a slow step beside the primary's log
    (checkpoints, autovacuum) and the machine's."""
    slow = sorted(
        (a for a in answers if 200 <= a.status < 300 and a.latency * 1000 > over_ms),
        key=lambda a: a.sent_at,
    )
    if not slow:
        return
    first = [a for a in answers if a.sent_at]
    began = min(a.sent_at for a in first) if first else 0.0
    stamps = Counter(
        time.strftime("%H:%M:%S", time.gmtime(a.sent_at)) + f".{int(a.sent_at * 10) % 10}"
        for a in slow
    )
    kinds = Counter(a.kind for a in slow)
    print(
        f"  {len(slow)} admitted over {over_ms:.0f} ms (step began "
        f"{time.strftime('%H:%M:%S', time.gmtime(began))} UTC): {dict(kinds)}; sent at "
        + ", ".join(f"{t}×{n}" for t, n in sorted(stamps.items())),
        file=sys.stderr,
        flush=True,
    )


# --- figures ----------------------------------------------------------------------------


def step_figures(
    steps: list[int], seconds: float, answers: list[Answer], disk: DiskWatch | None = None
) -> list[dict]:
    rows = []
    for index, rate in enumerate(steps):
        mine = [a for a in answers if a.step == index]
        began = min((a.sent_at for a in mine), default=0.0)
        ended = max((a.sent_at + a.latency for a in mine), default=0.0)
        ok = [a for a in mine if 200 <= a.status < 300]
        shed = [a for a in mine if a.shed]
        errors = [a for a in mine if not (200 <= a.status < 300) and not a.shed]
        ms = [a.latency * 1000 for a in ok]
        shed_ms = [a.latency * 1000 for a in shed]
        lag = round(pct([a.lag * 1000 for a in mine], 99), 1) if mine else None
        rows.append(
            {
                "offered": rate,
                "sent": len(mine),
                "achieved": round(len(ok) / seconds, 1),
                "p50_ms": round(pct(ms, 50), 1) if ms else None,
                "p99_ms": round(pct(ms, 99), 1) if ms else None,
                "shed": len(shed),
                "shed_p99_ms": round(pct(shed_ms, 99), 1) if shed else None,
                "errors": len(errors),
                "error_statuses": dict(Counter(f"{a.kind} {a.status}" for a in errors)),
                "lag_p99_ms": lag,
                # the disk's worst 0.25 s in the step: commits wait on it
                "disk_write_ms": disk.worst_ms(began, ended) if disk and mine else None,
                # where the admitted p99 comes from (the JSON output only)
                "p99_by_kind_ms": {
                    kind: round(pct([a.latency * 1000 for a in ok if a.kind == kind], 99), 1)
                    for kind in sorted({a.kind for a in ok})
                },
                # the generator could not keep the schedule: the step measures it, not the
                # service (void, left out of the verdict)
                "void": lag is None or lag > GENERATOR_SLACK_MS,
            }
        )
    return rows


REFERENCE_SHED = 0.01


def disk_stalled(row: dict) -> bool:
    """The step's disk answered writes slower than DISK_STALL_MS in a quarter second."""
    return (row.get("disk_write_ms") or 0) > DISK_STALL_MS


def stalled(row: dict) -> bool:
    """A step below the knee that cannot be the bound's reference (verdict)."""
    return disk_stalled(row) or row.get("shed", 0) > REFERENCE_SHED * max(row.get("sent", 0), 1)


def verdict(rows: list[dict]) -> dict:
    """The knee and the checks past it, over the steps the generator kept to schedule."""
    void = [r["offered"] for r in rows if r["void"]]
    rows = [r for r in rows if not r["void"]]
    if not rows:
        return {"knee": None, "void_steps": void}
    good = [r for r in rows if r["achieved"] >= 0.95 * r["offered"] and r["errors"] == 0]
    knee = max((r["offered"] for r in good), default=None)
    saturated = knee is not None and knee < rows[-1]["offered"]
    out: dict[str, Any] = {"knee": knee, "saturated": saturated, "void_steps": void}
    if knee is None:
        return out
    past = [r for r in rows if r["offered"] > knee]
    out["p99_past_knee_ms"] = [r["p99_ms"] for r in past]
    # the reference is a step below the knee, the one nearest half of it; with the knee at
    # the lowest step there is none, and the bound is not checked (None), never passed
    below = [r for r in rows if r["offered"] < knee and r["p99_ms"] is not None]
    # nor is a stalled step: its disk stalled (run again once, still stalled), or it shed
    # more than REFERENCE_SHED of its requests, which below the knee only a stall does (a
    # request waited out the queue's timeout with both workers held): its p99 is the stall's,
    # and a bound twice that passes anything
    quiet = [r for r in below if not stalled(r)]
    out["reference_stalled"] = [r["offered"] for r in below if r not in quiet]
    below = quiet
    out["p99_within_2x"] = None
    if below:
        half = min(below, key=lambda r: abs(r["offered"] - knee / 2))
        out["half_knee_step"] = half["offered"]
        out["p99_at_half_knee_ms"] = half["p99_ms"]
        bound = 2 * half["p99_ms"]
        out["p99_within_2x"] = all(r["p99_ms"] is None or r["p99_ms"] <= bound for r in past)
    out["errors_past_knee"] = sum(r["errors"] for r in past)
    out["shed_past_knee"] = sum(r["shed"] for r in past)
    out["peak_achieved"] = max(r["achieved"] for r in rows)
    return out


def verdict_self_check() -> None:
    """--smoke: the verdict's rule on made-up steps. A knee at the lowest step has no step
    below it to measure the bound from, nor has a knee whose steps below all had the disk
    stalled: not checked, never a pass against itself or the disk."""

    def step(offered: int, achieved: float, p99: float, shed: int = 0) -> dict:
        return {"offered": offered, "sent": offered * 12, "achieved": achieved, "p99_ms": p99,
                "errors": 0, "shed": shed, "void": False}  # fmt: skip

    rows = [step(20, 20, 40), step(40, 40, 45), step(60, 50, 79), step(80, 52, 80)]
    assert verdict(rows)["p99_within_2x"] is True  # knee 40, against the 20 step's 40 ms
    assert verdict([*rows[:3], step(80, 52, 80.5)])["p99_within_2x"] is False
    low = [step(20, 19.6, 289), step(40, 34, 179), step(60, 53, 194)]
    assert verdict(low)["knee"] == 20 and verdict(low)["p99_within_2x"] is None
    # a reference whose disk stalled (2026-12-07 07:53 CST: 679 ms) is no reference
    on_disk = dict(step(20, 19, 283), disk_write_ms=510)
    assert verdict([on_disk, *rows[1:]])["p99_within_2x"] is None
    found = verdict([step(10, 10, 40), on_disk, *rows[1:]])
    assert (found["half_knee_step"], found["reference_stalled"]) == (10, [20])
    assert found["p99_within_2x"] is True
    # nor one that shed below the knee (2026-12-07 08:22 CST: 27 of 240 at 20 req/s, 704 ms)
    cold, up = step(20, 17.8, 704, shed=27), [step(60, 60, 50), step(80, 80, 55)]
    found = verdict([cold, step(40, 40, 45, shed=2), *up, step(100, 85, 91)])
    assert (found["knee"], found["half_knee_step"], found["p99_within_2x"]) == (80, 40, False)
    found = verdict([cold, step(40, 40, 71), step(60, 58.8, 82), step(80, 73.7, 96)])
    assert (found["knee"], found["half_knee_step"]) == (60, 40)  # 30: 20 and 40 as near
    found = verdict([cold, step(40, 40, 300, shed=20), *up, step(100, 85, 91)])
    assert (found["half_knee_step"], found["reference_stalled"]) == (60, [20, 40])


def model_rate(cores: int) -> float:
    """The capacity model's rate for the mix on `cores` web cores, without the balancer's
    and pooler's cost."""
    total = sum(MIX.values())
    return cores / sum(w / total / MODEL_PER_CORE[k] for k, w in MIX.items())


def exactness(data: dict, answers: list[Answer]) -> list[str]:
    """Claims, redemptions and pass checks counted against the primary."""
    from django.db.models import Count

    from incentives.models import Redemption, Voucher
    from incentives.passes.models import EntitlementUse
    from merchants.models import Offer

    failures: list[str] = []
    lost = Counter(a.kind for a in answers if a.status == 0 or (a.status >= 500 and not a.shed))
    claims = {(a.key, a.code) for a in answers if a.kind == "claim" and a.status == 201}
    found = dict(
        Voucher.objects.filter(idempotency_key__in=[k for k, _c in claims]).values_list(
            "idempotency_key", "code"
        )
    )
    if any(found.get(k) != c for k, c in claims):
        failures.append("a claim answered 201 has no voucher with its code")
    made = Voucher.objects.filter(idempotency_key__startswith="pk-")
    if made.values("idempotency_key").annotate(n=Count("id")).filter(n__gt=1).exists():
        failures.append("one idempotency key made two vouchers")
    extra = made.filter(offer_id=data["offer"]).count() - len(claims)
    if not 0 <= extra <= lost["claim"]:
        failures.append(f"{extra} vouchers beyond the 201 claims, {lost['claim']} unanswered")
    offer = Offer.objects.get(pk=data["offer"])
    if Voucher.objects.filter(offer=offer).count() != offer.claimed_count:
        failures.append("the offer's claimed_count is not its number of vouchers")
    if offer.total_quota is not None and offer.claimed_count > offer.total_quota:
        failures.append("the offer's quota was exceeded")
    token_to_id = dict(zip(data["tokens"], data["voucher_ids"], strict=True))
    seen = {token_to_id[a.key] for a in answers if a.kind == "redeem" and a.status == 201}
    rows = set(
        Redemption.objects.filter(voucher_id__in=data["voucher_ids"]).values_list(
            "voucher_id", flat=True
        )
    )
    if not seen <= rows:
        failures.append("a redemption answered 201 is not recorded")
    if len(rows - seen) > lost["redeem"]:
        failures.append(f"{len(rows - seen)} redemptions with no 201, {lost['redeem']} unanswered")
    if Redemption.objects.values("voucher_id").annotate(n=Count("id")).filter(n__gt=1).exists():
        failures.append("a voucher was redeemed twice")
    checks = sum(1 for a in answers if a.kind == "pass_check" and a.status == 201)
    uses = EntitlementUse.objects.filter(offer_id=data["entitlement"]).count()
    if not checks <= uses <= checks + lost["pass_check"]:
        failures.append(f"{uses} entitlement uses for {checks} pass checks answered 201")
    return failures


def cores_cell(cores: dict[str, float] | None) -> str:
    parts = ("generator", "balancer", "web", "database")
    if not cores:
        return "–"
    return " / ".join(f"{cores[p]:.2f}" if p in cores else "–" for p in parts)


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| offered req/s | sent | achieved 2xx/s | p50 ms | p99 ms | shed (503 + Retry-After) "
        "| shed p99 ms | errors | generator lag p99 ms | disk: worst ms per write "
        "| cores used: generator / balancer / web / database |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        errs = r["errors"] if not r["errors"] else f"{r['errors']} {r['error_statuses']}"
        lines.append(
            f"| {r['offered']} | {r['sent']} | {r['achieved']} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r['shed']} | {r['shed_p99_ms']} | {errs} | {r['lag_p99_ms']}"
            + (" (void: the generator fell behind)" if r["void"] else "")
            + f" | {r.get('disk_write_ms') if r.get('disk_write_ms') is not None else '–'} | "
            + cores_cell(r.get("cores"))
            + " |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="50,100,200,300,400,600,800")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--pause", type=float, default=3, help="seconds between steps")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10,
        help="seconds at the first step's rate before it, not counted: the nodes' first "
        "requests (connections, prepared statements) and the WAL's full-page images after "
        "the checkpoint taken before timing would fall on the first step, often the "
        "bound's reference",
    )
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument(
        "--target",
        choices=["cluster", "local"],
        default="cluster",
        help="cluster: `make cluster`'s HAProxy (XINYOU_CLUSTER_DIR, HAPROXY_PORT); local: "
        "the cluster's HAProxy configuration in front of one gunicorn node started here on "
        "DATABASE_URL, with the demo data (what --smoke uses)",
    )
    add_smoke(parser, steps="5,10", seconds=2, pause=0.5, warmup=1, residents=20, target="local")
    args = parser.parse_args()
    if args.target == "cluster":
        from cluster_test import cluster_env

        cluster_env()
        return run(args)
    with local_target():
        return run(args)


@contextlib.contextmanager
def local_target() -> Iterator[None]:
    """The suite's database with the demo data, one web node as the cluster runs it, and
    the cluster's HAProxy configuration (bench/slow_clients.py) in front of it."""
    from _common import setup_django
    from slow_clients import run_haproxy  # type: ignore[import-not-found]

    setup_django()
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp, run_haproxy(Path(tmp)) as port:
        os.environ["HAPROXY_PORT"] = str(port)
        yield


def cpu_roots(args: argparse.Namespace) -> dict[str, list[int]]:
    """The processes whose CPU each step reads (the roots of their trees): this generator
    and, against the cluster, its balancer, web nodes and PostgreSQL primary. The
    generator shares the cores with the service here; a step past the knee that slows
    shows where the cores went."""
    if args.target != "cluster":
        return {"generator": [os.getpid()]}
    from cluster_test import web_nodes

    found = {
        "balancer": [cluster_pid(CLUSTER_DIR, "haproxy")],
        "web": [cluster_pid(CLUSTER_DIR, f"web-{i}") for i in range(1, web_nodes() + 1)],
        "database": [cluster_pid(CLUSTER_DIR, "postgres-primary")],
    }
    roots = {name: [p for p in pids if p] for name, pids in found.items()}
    return {"generator": [os.getpid()], **roots}


def balancer_settings() -> str:
    """What the running balancer admits, read from its configuration (scripts/cluster.sh
    renders it from NODE_MAXCONN, QUEUE_MAX and QUEUE_TIMEOUT at `up`)."""
    found = cluster_balancer(CLUSTER_DIR)
    if found is None:
        return "HAProxy settings unknown"
    shape = f"{found['nodes']} web nodes × {found.get('workers', '?')} workers → PostgreSQL"
    names = {"maxconn": "maxconn per node", "queue_max": "queue bound"}
    names["queue_timeout"] = "timeout queue"
    return f"{shape}; HAProxy " + ", ".join(
        f"{label} {found[key]}" for key, label in names.items() if key in found
    )


def run(args: argparse.Namespace) -> int:
    from incentives.dashboard.rollup import local_today

    steps = [int(s) for s in args.steps.split(",")]

    total = sum(steps) * args.seconds + steps[0] * args.warmup
    total += sum(sorted(steps)[-MAX_RERUNS:]) * args.seconds  # at most so many steps again
    share = {k: w / sum(MIX.values()) for k, w in MIX.items()}
    need = {k: int(total * share[k] * 1.3) + 20 for k in ("redeem", "pass_check")}
    t0 = time.monotonic()
    data = prepare(args.residents, need["redeem"], need["pass_check"])
    if args.target == "cluster":
        checkpoint(CLUSTER_PRIMARY)
    print(f"prepared in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    plan = Plan(data, str(local_today()))
    held = beats_paused(CLUSTER_DIR) if args.target == "cluster" else contextlib.nullcontext([])
    with held, DiskWatch(CLUSTER_DIR) as disk:
        answers, reruns, cores = asyncio.run(
            run_steps(steps, args.seconds, plan, args.pause, args.warmup, disk, cpu_roots(args))
        )
    rows = step_figures(steps, args.seconds, answers, disk)
    for index, row in enumerate(rows):
        row["cores"] = cores.get(index) or None
    result = verdict(rows)
    failures = exactness(data, answers)
    result["exact"] = not failures
    result["model_rate"] = round(model_rate(os.cpu_count() or 1), 1)
    result["exactness_failures"] = failures
    print(
        json.dumps(
            {"steps": rows, "reruns": reruns, "verdict": result}, ensure_ascii=False, indent=2
        )
    )
    if args.record or os.environ.get("BENCH_NO_RECORD") == "1":
        mix = ", ".join(f"{k} {w}" for k, w in MIX.items())
        warmed = [a for a in answers if a.step == WARMUP]
        warm = (
            f"after a {args.warmup:.0f} s warm-up at {steps[0]} req/s, not counted in any step "
            f"({sum(1 for a in warmed if 200 <= a.status < 300)} 2xx, "
            f"{sum(1 for a in warmed if a.shed)} shed);"
            if args.warmup > 0
            else "with no warm-up;"
        )
        within = result.get("p99_within_2x")
        if within is None:
            within = "not checked: " + (
                "no knee"
                if result.get("knee") is None
                else "every step below the knee stalled (its disk, or it shed)"
                if result.get("reference_stalled")
                else "no step below the knee"
            )
        again = (
            "Run again after the disk stalled (the first run's figures; the table has the "
            "second): "
            + "; ".join(
                f"{r['offered']} req/s (disk {r['disk_write_ms']} ms per write, p99 "
                f"{r['p99_ms']} ms, {r['shed']} shed, {r['errors']} errors)"
                for r in reruns
            )
            + "."
            if reruns
            else f"No step was run again (none had the disk over {DISK_STALL_MS:.0f} ms per write)."
        )
        record(
            "Holiday peak (bench/peak.py, open model through HAProxy)",
            [
                f"Steps of {args.seconds:.0f} s at a constant arrival rate through HAProxy "
                f"(scripts/cluster.sh: {balancer_settings()}), {warm} "
                f"the mix (weights): {mix}. A step whose disk stalled (over "
                f"{DISK_STALL_MS:.0f} ms per write in a quarter second) runs again once, "
                f"{MAX_RERUNS} times at most. "
                "Latency from each request's scheduled time.",
                "",
                *table(rows),
                "",
                f"Knee: {result.get('knee')} req/s offered (peak achieved "
                f"{result.get('peak_achieved')} 2xx/s); p99 at half the knee "
                f"({result.get('half_knee_step')}/s) {result.get('p99_at_half_knee_ms')} ms, past "
                f"the knee {result.get('p99_past_knee_ms')} ms (≤ 2×: {within}); past the "
                f"knee {result.get('shed_past_knee')} shed, {result.get('errors_past_knee')} "
                "errors. Claims, redemptions and pass checks exact against the primary: "
                f"{result['exact']} {failures or ''}. "
                f"The capacity model (docs/scaling.md) gives {result['model_rate']} req/s for "
                f"this mix on {os.cpu_count()} cores, before the balancer's and pooler's cost.",
                "",
                again,
            ],
        )
    if args.smoke and any(r["errors"] or not r["achieved"] for r in rows):
        return 1  # the smoke's rates are far below any knee: every answer must be a 2xx
    if args.smoke:
        verdict_self_check()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
