"""Enterprise credit sync benchmark (issue 15): N merchants (default 100,000) graded by the
enterprise credit provider's streamed list, synced set-based (COPY into staging, one
UPDATE, one pause); time and peak memory (VmHWM, reset before each phase), beside two
floors measured in the same run (streaming the list alone; COPY of the same rows into an
unlogged table) and the person dishonest-list sync of the same number of entries.

1,000 of the merchants have a published offer and 100 of those are downgraded to D by the
list (their offers are paused within the sync), 1% of the items are malformed (skipped
and audited).

Run: scripts/with-services.sh .venv/bin/python bench/enterprise_credit.py [--merchants N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
from _common import add_smoke, record, setup_django
from credit import bench_list_sync, peak_mib, reset_peak, rss_mib


def make_merchants(count: int) -> list[str]:
    from django.utils import timezone

    from merchants.models import SCENARIO_OF_CATEGORY, Merchant, Offer
    from merchants.validators import credit_code_check_char

    codes = []
    batch = []
    for i in range(count):
        first17 = f"91330100MA{i:07d}"
        code = first17 + credit_code_check_char(first17)
        codes.append(code)
        batch.append(
            Merchant(
                name=f"基准商户{i}",
                credit_code=code,
                city_id="330100",
                district="西湖区",
                address="基准路 1 号",
                category="scenic",
                contact_phone="0571-87654321",
            )
        )
        if len(batch) >= 5000:
            Merchant.objects.bulk_create(batch)
            batch = []
    if batch:
        Merchant.objects.bulk_create(batch)
    now = timezone.now()
    with_offers = Merchant.objects.order_by("pk").values_list("pk", flat=True)[:1000]
    Offer.objects.bulk_create(
        [
            Offer(
                merchant_id=pk,
                title="基准优惠",
                description="基准",
                category="scenic",
                scenario=SCENARIO_OF_CATEGORY["scenic"],  # bulk_create skips Offer.save
                benefit_type="free_entry",
                min_tier="good",
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=30),
                status="published",
                published_at=now,
            )
            for pk in with_offers
        ]
    )
    return codes


def bench_enterprise_sync(count: int) -> list[str]:
    from django.conf import settings
    from django.db import connection

    from merchants.credit import services
    from merchants.credit.registry import enterprise_provider
    from merchants.models import Merchant, MerchantCreditCheck, Offer

    t0 = time.perf_counter()
    codes = make_merchants(count)
    made = time.perf_counter() - t0
    folder = Path(tempfile.mkdtemp())
    list_file = folder / "grades.ndjson"
    with list_file.open("w") as out:
        for i, code in enumerate(codes):
            if i % 100 == 50:  # malformed: a grade outside A–D
                item = {"credit_code": code, "grade": "E", "seriously_dishonest": False}
            elif i <= 100:  # 100 merchants with offers downgraded
                item = {"credit_code": code, "grade": "D", "seriously_dishonest": False}
            else:
                grade = "A" if i % 3 else "B"
                item = {"credit_code": code, "grade": grade, "seriously_dishonest": False}
            out.write(json.dumps(item) + "\n")
    settings.ENTERPRISE_CREDIT_PROVIDER = {"kind": "sandbox", "list_file": str(list_file)}
    size_mib = list_file.stat().st_size / 2**20
    lines = [
        f"Enterprise list: {count:,} merchants ({size_mib:.1f} MiB NDJSON, made in "
        f"{made:.0f} s), 1,000 with a published offer, 100 of those downgraded to D, 1% "
        f"malformed items; batch {settings.CREDIT_LIST_BATCH_SIZE}. The machine is shared "
        "with other helpers' test runs: compare with the floors of the same run.",
        "",
    ]

    reset_peak()
    base = rss_mib()
    t0 = time.perf_counter()
    n = sum(1 for _ in enterprise_provider().iter_grades())
    stream_s = time.perf_counter() - t0
    lines.append(
        f"- floor A, stream and check the list only: {n / stream_s:,.0f} items/s "
        f"({stream_s:.2f} s), peak +{peak_mib() - base:.0f} MiB"
    )
    with connection.cursor() as cur:
        cur.execute(
            "CREATE UNLOGGED TABLE bench_copy (credit_code varchar(18), grade varchar(1), "
            "listed integer)"
        )
        reset_peak()
        base = rss_mib()
        t0 = time.perf_counter()
        with (
            cur.copy("COPY bench_copy (credit_code, grade, listed) FROM STDIN") as copy,
            list_file.open() as f,
        ):
            for line in f:
                item = json.loads(line)
                copy.write_row((item["credit_code"], item["grade"], 0))
        copy_s = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_copy")
    lines.append(
        f"- floor B, parse + PostgreSQL COPY into an unlogged table: {count / copy_s:,.0f} "
        f"items/s ({copy_s:.2f} s), peak +{peak_mib() - base:.0f} MiB"
    )
    for label in ("first sync (every merchant graded)", "second sync (same list)"):
        reset_peak()
        base = rss_mib()
        t0 = time.perf_counter()
        report = services.sync_enterprise_credit()
        took = time.perf_counter() - t0
        lines.append(
            f"- {label}: {report.entries / took:,.0f} items/s ({took:.1f} s), peak "
            f"+{peak_mib() - base:.0f} MiB over {base:.0f} MiB RSS; merchants updated "
            f"{report.merchants_updated:,}, rejected {report.rejected:,}, offers paused "
            f"{report.offers_paused}; ratio to COPY floor "
            f"{(report.entries / took) / (count / copy_s):.2f}"
        )
    assert Merchant.objects.filter(credit_grade="D").count() == 100
    assert Offer.objects.filter(status="paused", credit_paused_at__isnull=False).count() == 100
    blank = Merchant.objects.filter(credit_grade="").count()
    assert blank == count // 100, blank
    audited = MerchantCreditCheck.objects.filter(outcome="rejected").count()
    assert audited == 2 * min(count // 100, services.AUDITED_REJECTS), audited
    list_file.unlink()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merchants", type=int, default=100_000)
    add_smoke(parser, merchants=500)
    args = parser.parse_args()
    setup_django()
    from accounts.reference import load_reference_data

    load_reference_data()
    record(
        "Merchant credit: enterprise credit sync (bench/enterprise_credit.py)",
        bench_enterprise_sync(args.merchants),
    )
    record(
        f"Credit: dishonest-list sync at {args.merchants:,} entries, same run "
        "(bench/enterprise_credit.py)",
        bench_list_sync(args.merchants),
    )


if __name__ == "__main__":
    main()
