"""Dashboard benchmark: one year of vouchers across the partner cities, loaded with COPY,
roll-ups built from scratch, then every dashboard endpoint timed for one city.

    scripts/with-services.sh .venv/bin/python bench/dashboard.py            # 500k, 5M
    scripts/with-services.sh .venv/bin/python bench/dashboard.py --sizes 50000,200000

Each size tops the table up to that many vouchers (the first size from empty), rebuilds
every roll-up, and times the endpoints in-process (DRF test client, city staff bearer
token, warm cache, `--reps` runs each). Results are appended to bench/RESULTS.md: a table
per size, then each endpoint's p50 and p95 at the smallest and the largest size with the
growth of its p50, and a PASS/FAIL line against issue 27's targets (city endpoints: p50
grows ≤ 1.3× and p95 ≤ 50 ms at the largest size; the superuser's all-cities summary
p95 ≤ 100 ms). Every table states the load average at its start and end.
"""

import argparse
import io
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import pct, setup_django, summary_ms

CITY = "330100"
# issue 27's targets: growth of a city endpoint's p50 from the smallest to the largest
# size, its p95 at the largest, and the p95 of the superuser's all-cities summary
GROWTH_MAX, CITY_P95_MS, ALL_CITIES_P95_MS = 1.3, 50.0, 100.0
ALL_CITIES_SUMMARY = "superuser, all cities: summary (1 year)"
# Relative weight of each city as a destination (bigger cities, more offers taken).
CITY_WEIGHTS = {"310100": 10, "330100": 8, "320500": 5, "320100": 4, "460200": 4, "460100": 3}
MERCHANTS_PER_CITY = 20
OFFERS_PER_MERCHANT = 3
RESIDENTS = 300_000
CATEGORIES = ["scenic", "hotel", "shopping", "dining", "transport", "culture", "other"]
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 9, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2]


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(
        f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for chunk in lines:
            copy.write(chunk)


def seed_world(rng: random.Random) -> dict:
    """Cities, merchants, offers and residents (once)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import City, User
    from accounts.partner_cities import PARTNER_CITIES
    from merchants.models import SCENARIO_OF_CATEGORY, Merchant, Offer
    from merchants.validators import credit_code_check_char

    def credit_code(serial: int, division: str) -> str:
        first17 = f"91{division}MA{serial:07d}"
        return first17 + credit_code_check_char(first17)

    City.objects.bulk_create(
        [City(code=c, name=n, name_en=e, province=p) for c, n, e, p in PARTNER_CITIES],
        ignore_conflicts=True,
    )
    if Offer.objects.filter(title__startswith="bench ").exists():
        offers = list(Offer.objects.filter(title__startswith="bench ").select_related("merchant"))
    else:
        now = timezone.now()
        merchants = []
        serial = 0
        for code, *_rest in PARTNER_CITIES:
            for i in range(MERCHANTS_PER_CITY):
                serial += 1
                merchants.append(
                    Merchant(
                        name=f"bench {code} {i}",
                        credit_code=credit_code(serial, code),
                        city_id=code,
                        district="区",
                        address="路 1 号",
                        category=CATEGORIES[i % len(CATEGORIES)],
                        contact_phone="0571-87654321",
                    )
                )
        Merchant.objects.bulk_create(merchants)
        merchants = list(Merchant.objects.filter(name__startswith="bench "))
        Offer.objects.bulk_create(
            [
                Offer(
                    merchant=m,
                    title=f"bench {m.pk}-{j}",
                    description="bench",
                    category=m.category,
                    scenario=SCENARIO_OF_CATEGORY[m.category],
                    benefit_type="gift",
                    min_tier="good",
                    valid_from=now - timedelta(days=400),
                    valid_until=now + timedelta(days=200),
                    status="published",
                )
                for m in merchants
                for j in range(OFFERS_PER_MERCHANT)
            ]
        )
        offers = list(Offer.objects.filter(title__startswith="bench ").select_related("merchant"))
    if not User.objects.filter(phone__startswith="14").exists():
        cities = [c for c, *_ in PARTNER_CITIES]
        weights = [CITY_WEIGHTS.get(c, 1) for c in cities]
        stamp = timezone.now().isoformat()
        columns = [
            "password", "is_superuser", "phone", "real_name", "role", "home_city_id",
            "id_hash", "id_masked", "is_staff", "is_active", "date_joined",
        ]  # fmt: skip

        def lines():
            buf = io.StringIO()
            for i in range(RESIDENTS):
                home = rng.choices(cities, weights)[0]
                buf.write(
                    f"!\tf\t14{i:09d}\tbench\tresident\t{home}\t{i:064x}\t"
                    f"{home[:4]}**********{i % 10000:04d}\tf\tt\t{stamp}\n"
                )
                if i % 50_000 == 49_999:
                    yield buf.getvalue()
                    buf = io.StringIO()
            yield buf.getvalue()

        with connection.cursor() as cursor:
            _copy(cursor.connection.cursor(), "accounts_user", columns, lines())
    residents = list(
        User.objects.filter(phone__startswith="14").order_by("id").values_list("id", "home_city_id")
    )
    return {"offers": offers, "residents": residents}


def seed_vouchers(world: dict, start_n: int, end_n: int, rng: random.Random) -> float:
    """COPY vouchers number start_n..end_n-1, claimed over the last 365 days."""
    from django.db import connection
    from django.utils import timezone

    offers = world["offers"]
    residents = world["residents"]
    by_home: dict[str, list[int]] = {}
    for rid, home in residents:
        by_home.setdefault(home, []).append(rid)
    offer_weights = [CITY_WEIGHTS.get(o.merchant.city_id, 1) * rng.uniform(0.3, 3) for o in offers]
    now = timezone.now()
    year_ago = now - timedelta(days=365)
    span = (now - year_ago).total_seconds()
    columns = [
        "code", "offer_id", "resident_id", "status", "merchant_id", "dest_city_id",
        "home_city_id", "category", "terms", "terms_version", "key_id", "issued_at",
        "expires_at", "redeemed_at", "closed_at", "idempotency_key",
    ]  # fmt: skip
    total = end_n - start_n
    started = time.monotonic()
    batch = 20_000

    # pre-drawn choices in bulk: random.choices with cum_weights is much faster per call
    def lines():
        n = start_n
        while n < end_n:
            size = min(batch, end_n - n)
            picked = rng.choices(offers, offer_weights, k=size)
            out = io.StringIO()
            for offer in picked:
                dest = offer.merchant.city_id
                if rng.random() < 0.5 and dest in by_home:
                    resident = rng.choice(by_home[dest])
                    home = dest
                else:
                    resident, home = residents[rng.randrange(len(residents))]
                issued = year_ago + timedelta(seconds=rng.random() * span)
                expires = issued + timedelta(hours=72)
                roll = rng.random()
                redeemed = closed = r"\N"
                later = issued + timedelta(seconds=rng.random() * 200_000)
                if roll < 0.55 and later <= now:
                    status, redeemed = "redeemed", later.isoformat()
                elif roll < 0.65 and later <= now:
                    status, closed = "cancelled", later.isoformat()
                elif roll < 0.68 and later <= now:
                    status, closed = "revoked", later.isoformat()
                elif expires <= now:
                    status, closed = "expired", (expires + timedelta(minutes=3)).isoformat()
                else:
                    status = "issued"
                out.write(
                    f"B{n:011d}\t{offer.pk}\t{resident}\t{status}\t{offer.merchant_id}\t{dest}\t"
                    f"{home}\t{offer.category}\t{{}}\t1\tbench\t{issued.isoformat()}\t"
                    f"{expires.isoformat()}\t{redeemed}\t{closed}\t\n"
                )
                n += 1
            yield out.getvalue()
            progress("  vouchers", n - start_n, total, started)

    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        # The table's plain indexes (not those behind a constraint) are dropped for a big
        # load and built again after it: one sorted build each instead of millions of
        # random insertions (the load ran at ~14k rows/s with them in place).
        raw.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incentives_voucher' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'incentives_voucher'::regclass)"
        )
        indexes = raw.fetchall() if total >= 100_000 else []
        for name, _definition in indexes:
            raw.execute(f'DROP INDEX "{name}"')
        # Referential checks are per-row triggers; the rows are consistent by construction.
        raw.execute("SET session_replication_role = replica")
        try:
            _copy(raw, "incentives_voucher", columns, lines())
        finally:
            raw.execute("SET session_replication_role = DEFAULT")
            raw.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                raw.execute(definition)
            raw.execute("RESET maintenance_work_mem")
        raw.execute("ANALYZE incentives_voucher")
    return time.monotonic() - started


def build_rollups() -> tuple[float, Any]:
    from django.db import connection

    from incentives.dashboard.rollup import local_today, rebuild_rollups

    today = local_today()
    started = time.monotonic()
    first = today - timedelta(days=367)
    done = [0]
    days = (today - first).days + 1

    def tick(a, b, counts):
        done[0] += (b - a).days + 1
        progress("  roll-ups", done[0], days, started)

    report = rebuild_rollups(date_from=first, date_to=today, progress=tick)
    elapsed = time.monotonic() - started
    with connection.cursor() as cursor:
        for table in (
            "incentives_cityday", "incentives_citytotalday", "incentives_offerday",
            "incentives_claimantset", "incentives_citypairday", "incentives_citypairmonth",
        ):  # fmt: skip
            cursor.execute(f"ANALYZE {table}")
    return elapsed, report


def time_refresh() -> float:
    from incentives.dashboard.rollup import refresh_recent_rollups

    started = time.monotonic()
    refresh_recent_rollups()
    return time.monotonic() - started


def sizes_of_tables() -> str:
    from django.db import connection

    out = []
    with connection.cursor() as cursor:
        for table in (
            "incentives_voucher", "incentives_cityday", "incentives_citytotalday",
            "incentives_offerday", "incentives_claimantset", "incentives_citymonth",
            "incentives_citypairday", "incentives_citypairmonth",
        ):  # fmt: skip
            cursor.execute(
                f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
            )
            rows, size = cursor.fetchone()
            out.append(f"{table} {rows:,} rows / {size}")
    return "; ".join(out)


def time_endpoints(reps: int) -> list[tuple[str, list[float], bool]]:
    """Each case's times in seconds, and whether a city staff member calls it."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Alliance, City, User
    from incentives.dashboard.rollup import local_today

    def bearer(user) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}

    staff = User.objects.filter(phone="19900000001").first()
    if staff is None:
        staff = User.objects.create_user(
            "19900000001", "bench-pass", role="city_staff", staff_city_id=CITY
        )
    admin = User.objects.filter(phone="19900000002").first() or User.objects.create_superuser(
        "19900000002", "bench-pass"
    )
    # the YRD alliance over the bench's cities (its figures: the members' rows together,
    # distinct residents over them)
    yrd, _created = Alliance.objects.get_or_create(code="yrd", defaults={"name": "信用长三角"})
    yrd.members.set(City.objects.filter(code__in=["310100", "320100", "320500", "330100"]))
    client = APIClient()
    today = local_today()
    year = {"date_from": (today - timedelta(days=364)).isoformat(), "date_to": today.isoformat()}
    yrd_q = {"alliance": "yrd"}
    cases = [
        ("summary (30 days)", "summary", {}, staff),
        ("summary (1 year)", "summary", year, staff),
        ("series day (1 year)", "series", {**year, "interval": "day"}, staff),
        ("series week (1 year)", "series", {**year, "interval": "week"}, staff),
        ("series month (1 year)", "series", {**year, "interval": "month"}, staff),
        ("breakdown category (1 year)", "breakdown", {**year, "by": "category"}, staff),
        ("breakdown merchant (1 year)", "breakdown", {**year, "by": "merchant"}, staff),
        ("breakdown offer (1 year)", "breakdown", {**year, "by": "offer"}, staff),
        ("breakdown home_city (1 year)", "breakdown", {**year, "by": "home_city"}, staff),
        ("flows (1 year)", "flows", year, staff),
        ("superuser, all cities: summary (1 year)", "summary", year, admin),
        ("superuser, all cities: flows (1 year)", "flows", year, admin),
        ("alliance yrd (4 cities): summary (1 year)", "summary", {**year, **yrd_q}, admin),
        ("alliance yrd (4 cities): flows (1 year)", "flows", {**year, **yrd_q}, admin),
    ]
    results = []
    for label, path, params, user in cases:
        headers = bearer(user)
        times = []
        for i in range(reps + 3):
            t0 = time.perf_counter()
            response = client.get(f"/api/v1/dashboard/{path}", params, **headers)
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, response.content
            if i >= 3:  # warm-up
                times.append(elapsed)
        results.append((label, times, user is staff))
        print(f"  {label}: {summary_ms(times)}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="500000,5000000")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument(
        "--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target of issue 27 is missed"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one run per endpoint, nothing recorded (the suite runs this)",
    )
    args = parser.parse_args()
    if args.smoke:
        global RESIDENTS
        # two sizes, so that the growth table and its verdict run too (not judged)
        args.sizes, args.reps, args.no_record, RESIDENTS = "1000,2000", 1, True, 500
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if args.no_record:  # printed with the machine and its load, not appended
        os.environ["BENCH_NO_RECORD"] = "1"
    record = _common.record

    setup_django()
    from incentives.models import Voucher

    rng = random.Random(20261125)
    world = seed_world(rng)
    have = Voucher.objects.count()
    by_size = {}
    for size in sizes:
        print(f"== {size:,} vouchers", file=sys.stderr)
        seconds = seed_vouchers(world, have, size, rng) if size > have else 0.0
        loaded = size - have if size > have else 0
        have = max(have, size)
        build_s, report = build_rollups()
        refresh_s = time_refresh()
        load_before = os.getloadavg()
        timings = time_endpoints(args.reps)
        by_size[size] = timings
        lines = [
            f"{size:,} vouchers over 365 days, {len(world['offers']):,} offers in 17 cities, "
            f"{len(world['residents']):,} residents; endpoints timed for city {CITY} "
            f"(city staff token), in-process DRF client, {args.reps} runs after 3 warm-up.",
            "",
            f"- load: {loaded:,} vouchers by COPY in {seconds:.1f} s "
            f"({loaded / max(seconds, 1e-9):,.0f} rows/s)",
            f"- roll-up build from scratch (368 days): {build_s:.1f} s — {report.city_rows:,} "
            f"CityDay, {report.offer_rows:,} OfferDay rows, {report.claimant_sets:,} resident sets",
            f"- incremental refresh (today + yesterday): {refresh_s * 1000:.0f} ms",
            f"- sizes: {sizes_of_tables()}",
            f"- load average (1, 5, 15 min) while timing: at start {_load(load_before)}, "
            f"at end {_load(os.getloadavg())}",
            "",
            "| endpoint | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        for label, times, _city in timings:
            ms = [t * 1000 for t in times]
            lines.append(f"| {label} | {pct(ms, 50):.1f} | {pct(ms, 95):.1f} | {max(ms):.1f} |")
        record(
            f"Dashboard: roll-ups and endpoints at {size:,} vouchers (bench/dashboard.py)", lines
        )
    if len(by_size) > 1:
        lines, passed = growth_table(by_size)
        record("Dashboard: growth of endpoint time with data (bench/dashboard.py)", lines)
        if args.strict and not passed:
            sys.exit(1)


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def growth_table(by_size: dict) -> tuple[list[str], bool]:
    """p50 and p95 of each endpoint at the smallest and the largest size, the growth of
    p50, and the verdict against issue 27's targets."""
    first, last = min(by_size), max(by_size)
    lines = [
        f"Each endpoint at {first:,} and {last:,} vouchers ({last / first:.0f}× data), same run:",
        "",
        f"| endpoint | p50 ms at {first:,} | p95 ms at {first:,} | p50 ms at {last:,} "
        f"| p95 ms at {last:,} | p50 growth | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    failures = []
    for (label, small, city), (_l, big, _c) in zip(by_size[first], by_size[last], strict=True):
        s_ms, b_ms = [t * 1000 for t in small], [t * 1000 for t in big]
        a50, a95, b50, b95 = pct(s_ms, 50), pct(s_ms, 95), pct(b_ms, 50), pct(b_ms, 95)
        growth = b50 / a50
        if city:
            target = f"growth ≤ {GROWTH_MAX}, p95 ≤ {CITY_P95_MS:.0f} ms"
            ok = growth <= GROWTH_MAX and b95 <= CITY_P95_MS
        elif label == ALL_CITIES_SUMMARY:
            target = f"p95 ≤ {ALL_CITIES_P95_MS:.0f} ms"
            ok = b95 <= ALL_CITIES_P95_MS
        else:
            target, ok = "—", True
        if not ok:
            failures.append(label)
        verdict = "" if target == "—" else (" ok" if ok else " **missed**")
        lines.append(
            f"| {label} | {a50:.1f} | {a95:.1f} | {b50:.1f} | {b95:.1f} | {growth:.2f} "
            f"| {target}{verdict} |"
        )
    lines += [
        "",
        f"**{'PASS' if not failures else 'FAIL'}** (issue 27, point 1): city-staff endpoints' "
        f"p50 growth ≤ {GROWTH_MAX}× and p95 ≤ {CITY_P95_MS:.0f} ms at {last:,}; all-cities "
        f"summary p95 ≤ {ALL_CITIES_P95_MS:.0f} ms"
        + (f" — missed: {', '.join(failures)}" if failures else ""),
    ]
    return lines, not failures


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)
