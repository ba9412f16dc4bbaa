"""Offer matching benchmark (issue 5): 20,000 published offers across the partner cities;
the p95 of a resident's eligible-offer list (page of 20), measured in-process, and its
query count, against a floor measured in the same run: the same page for an anonymous
caller (no eligibility annotations).

Run: scripts/with-services.sh .venv/bin/python bench/offers.py [--offers N]
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
from _common import add_smoke, pct, record, setup_django, summary_ms


def seed(count: int) -> None:
    from django.utils import timezone

    from accounts.models import City
    from merchants.models import SCENARIO_OF_CATEGORY, Category, Merchant, Offer
    from merchants.validators import credit_code_check_char

    cities = list(City.objects.values_list("code", flat=True))
    rng = random.Random(7)
    merchants = []
    for i in range(count // 10):
        first17 = f"91{cities[i % len(cities)]}MB{i:07d}"
        merchants.append(
            Merchant(
                name=f"基准商户{i}",
                credit_code=first17 + credit_code_check_char(first17),
                city_id=cities[i % len(cities)],
                district="区",
                address="路",
                category="scenic",
                contact_phone="0571-87654321",
            )
        )
    Merchant.objects.bulk_create(merchants, batch_size=2000)
    merchants = list(Merchant.objects.filter(name__startswith="基准商户"))
    now = timezone.now()
    tiers = ["", "fair", "good", "excellent"]
    offers = []
    for i in range(count):
        m = merchants[i % len(merchants)]
        category = rng.choice(Category.values)
        offers.append(
            Offer(
                merchant=m,
                title=f"基准优惠{i}",
                description="基准",
                category=category,
                scenario=SCENARIO_OF_CATEGORY[category],
                benefit_type="percent_off",
                benefit_value=Decimal("10"),
                min_tier=rng.choice(tiers),
                home_city_rule=rng.choice(["all", "all", "visitors", "listed"]),
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=rng.randint(2, 90)),
                total_quota=1000,
                status="published",
                published_at=now,
            )
        )
    Offer.objects.bulk_create(offers, batch_size=2000)
    through = Offer.eligible_home_cities.through
    listed = Offer.objects.filter(home_city_rule="listed").values_list("pk", flat=True)
    through.objects.bulk_create(
        [through(offer_id=pk, city_id=c) for pk in listed for c in rng.sample(cities, 3)],
        batch_size=5000,
    )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=200)
    add_smoke(parser, offers=200, rounds=3)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.credit.models import Consent, ConsentText, RuleVersion, Standing
    from accounts.models import User
    from accounts.reference import load_reference_data

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    load_reference_data()
    t0 = time.perf_counter()
    seed(args.offers)
    seeded = time.perf_counter() - t0
    resident = User(phone="15888880000", real_name="基准", role="resident", home_city_id="330100")
    resident.set_id_number("330106199107050229")
    resident.save()
    Consent.objects.create(resident=resident, text=ConsentText.objects.get(is_current=True))
    now = timezone.now()
    Standing.objects.create(
        resident=resident,
        city_id="330100",
        rule_version=RuleVersion.objects.get(scheme__name="钱江分", version=1),
        score=655,
        tier="good",
        verified_at=now,
        valid_until=now + timedelta(days=30),
    )
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(resident).access_token}")
    anon = APIClient()

    def measure(client, path: str) -> tuple[list[float], set[int], int]:
        times, counts, total = [], set(), 0
        for _ in range(10):
            client.get(path)
        for _ in range(args.rounds):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                res = client.get(path)
                times.append(time.perf_counter() - t)
            assert res.status_code == 200, res.content
            counts.add(len(ctx.captured_queries))
            total = res.json()["count"]
        return times, counts, total

    lines = [
        f"{args.offers:,} published offers, {args.offers // 10:,} merchants across 17 "
        f"cities (seeded in {seeded:.1f} s); in-process DRF client; {args.rounds} "
        "requests each after 10 warm-up requests.",
        "",
    ]
    floor, floor_q, n_all = measure(anon, "/api/v1/offers?page_size=20")
    lines.append(
        f"- floor, anonymous list (no eligibility), page of 20 of {n_all:,}: "
        f"{summary_ms(floor)}; queries {sorted(floor_q)}"
    )
    for label, path in [
        ("resident, eligible=true, page of 20", "/api/v1/offers?eligible=true&page_size=20"),
        ("resident, eligible=true, page of 100", "/api/v1/offers?eligible=true&page_size=100"),
        ("resident, all with eligibility, page of 20", "/api/v1/offers?page_size=20"),
        ("resident, eligible=true, city=460100", "/api/v1/offers?eligible=true&city=460100"),
    ]:
        times, queries, n = measure(me, path)
        lines.append(
            f"- {label} (of {n:,}): {summary_ms(times)}; queries {sorted(queries)}; "
            f"p95 ratio to floor {pct(times, 95) / pct(floor, 95):.2f}"
        )
    lines.append("")
    lines.append("Target: p95 ≤ 50 ms for the eligible page of 20, queries constant.")
    record("Offers: resident's eligible-offer list (bench/offers.py)", lines)


if __name__ == "__main__":
    main()
