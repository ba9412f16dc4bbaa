"""Risk-signal benchmark: one city at the rate of 5M vouchers a year (13,700 a day), with
the 30 days of history the signals compare against, then one day's signals timed.

    scripts/with-services.sh .venv/bin/python bench/risk.py             # 5M a year, 31 days
    scripts/with-services.sh .venv/bin/python bench/risk.py --smoke     # tiny, no record

Rows are planted in PostgreSQL with INSERT … SELECT (vouchers, their redemption rows with
clerks and devices, 10 % offline with scan times and offline rows, some conflicts;
registrations and SMS-code requests), 31 days up to the day computed. Every query of the
signals is bounded by a time range through an index, so older rows of the year do not
enter them; planting the whole year would only make the run longer. `compute_day` for the
city (all five city signals) and the day's sign-up bursts are timed, `--reps` times each;
the figures are appended to bench/RESULTS.md (not in --smoke mode).
"""

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common
from bench._common import setup_django

CITY = "330100"
OTHER = "310100"  # where some residents were shortly before (travel)


def plant(per_day: int, days: int, merchants: int, residents: int) -> dict[str, int]:
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from accounts.reference import load_reference_data
    from incentives.dashboard.rollup import local_today
    from merchants.models import Merchant, MerchantStaff, Offer
    from merchants.validators import credit_code_check_char

    load_reference_data()
    now = timezone.now()
    shops = []
    for i in range(merchants):
        city = CITY if i % 10 else OTHER
        first17 = f"91{city}MA{800_000 + i:07d}"
        shops.append(
            Merchant(
                name=f"bench risk {i}",
                credit_code=first17 + credit_code_check_char(first17),
                city_id=city,
                district="区",
                address="路 1 号",
                category="scenic",
                contact_phone="0571-87654321",
            )
        )
    Merchant.objects.bulk_create(shops)
    shops = list(Merchant.objects.filter(name__startswith="bench risk "))
    Offer.objects.bulk_create(
        [
            Offer(
                merchant=m,
                title=f"bench risk {m.pk}",
                description="bench",
                category="scenic",
                scenario="travel",
                benefit_type="percent_off",
                benefit_value=20,
                min_tier="good",
                valid_from=now - timedelta(days=days + 30),
                valid_until=now + timedelta(days=30),
                total_quota=10_000_000,
                status="published",
            )
            for m in shops
        ]
    )
    clerks = []
    for m in shops:
        for j in range(2):
            user = User.objects.create_user(
                phone=f"166{m.pk % 10000:04d}{j:04d}", password=None, role="merchant_staff"
            )
            MerchantStaff.objects.create(user=user, merchant=m)
            clerks.append(user.pk)
    stamp = now.isoformat()
    first_day = local_today() - timedelta(days=days - 1)
    params = {
        "residents": residents,
        "per_day": per_day,
        "days": days,
        "first_day": first_day,
        "stamp": stamp,
    }
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, phone, real_name, role,
                   home_city_id, id_hash, id_masked, is_staff, is_active, date_joined)
            SELECT '!', false, '15' || lpad(g::text, 9, '0'), 'bench', 'resident',
                   (ARRAY['330100','310100','320500','460100'])[1 + g %% 4],
                   lpad(to_hex(g), 64, '0'), '3301**********' || lpad((g %% 10000)::text, 4, '0'),
                   false, true, %(stamp)s::timestamptz
              FROM generate_series(1, %(residents)s) g
            """,
            params,
        )
        # the vouchers: issued through each day (more by day than by night), 60 % redeemed
        # within a few hours; merchants and offers one to one (offer i ↔ merchant i)
        c.execute(
            """
            CREATE TEMP TABLE bench_pick AS
            SELECT row_number() OVER () AS n, o.id AS offer_id, o.merchant_id, m.city_id
              FROM merchants_offer o JOIN merchants_merchant m ON m.id = o.merchant_id
             WHERE o.title LIKE 'bench risk %%'
            """,
            {},
        )
        c.execute("SELECT count(*) FROM bench_pick")
        offers = c.fetchone()[0]
        c.execute("SELECT min(id) FROM accounts_user WHERE phone LIKE '15%%'", {})
        first_resident = c.fetchone()[0]
        c.execute(
            """
            INSERT INTO incentives_voucher (code, offer_id, resident_id, status, merchant_id,
                   dest_city_id, home_city_id, category, terms, terms_version, key_id,
                   issued_at, expires_at, redeemed_at, closed_at, idempotency_key)
            SELECT 'R' || lpad(g::text, 11, '0'), p.offer_id,
                   %(first_resident)s + g %% %(residents)s,
                   CASE WHEN g %% 10 < 6 THEN 'redeemed' ELSE 'expired' END,
                   p.merchant_id, p.city_id, '330100', 'scenic', '{}'::jsonb, 1, 'bench',
                   t, t + interval '72 hours',
                   CASE WHEN g %% 10 < 6 THEN t + (g %% 180) * interval '1 minute' END,
                   CASE WHEN g %% 10 >= 6 THEN t + interval '72 hours' END, ''
              FROM generate_series(0, %(per_day)s * %(days)s - 1) g
              JOIN bench_pick p ON p.n = 1 + g %% %(offers)s
             CROSS JOIN LATERAL (SELECT (%(first_day)s::date + (g / %(per_day)s))::timestamp
                   AT TIME ZONE 'Asia/Shanghai' + interval '8 hours'
                   + ((g %% %(per_day)s) * interval '12 hours' / %(per_day)s) AS t) tt
            """,
            {**params, "offers": offers, "first_resident": first_resident},
        )
        c.execute(
            """
            INSERT INTO incentives_redemption (voucher_id, merchant_id, staff_id, redeemed_at,
                   scanned_at, device_id)
            SELECT v.id, v.merchant_id,
                   (SELECT s.user_id FROM merchants_merchantstaff s
                     WHERE s.merchant_id = v.merchant_id ORDER BY s.user_id
                     OFFSET v.id %% 2 LIMIT 1),
                   CASE WHEN v.id %% 10 = 0 THEN v.redeemed_at + interval '2 hours'
                        ELSE v.redeemed_at END,
                   CASE WHEN v.id %% 10 = 0 THEN v.redeemed_at END,
                   CASE WHEN v.id %% 10 = 0 THEN 'pad-' || v.merchant_id ELSE '' END
              FROM incentives_voucher v WHERE v.key_id = 'bench' AND v.status = 'redeemed'
            """,
            {},
        )
        c.execute(
            """
            INSERT INTO incentives_offlineredemption (merchant_id, city_id, staff_id, nonce,
                   device_id, fingerprint, voucher_id, scanned_at, synced_at, outcome,
                   redeemed_at, conflict)
            SELECT r.merchant_id, m.city_id, r.staff_id, 'bench-' || r.id, r.device_id,
                   repeat('f', 64), r.voucher_id, r.scanned_at, r.redeemed_at,
                   CASE WHEN r.id %% 97 = 0 THEN 'already_redeemed' ELSE 'redeemed' END,
                   r.redeemed_at, r.id %% 97 = 0
              FROM incentives_redemption r JOIN merchants_merchant m ON m.id = r.merchant_id
             WHERE r.scanned_at IS NOT NULL
            """,
            {},
        )
        c.execute(
            """
            INSERT INTO accounts_signupevent (kind, at, client_ip, city_code)
            SELECT CASE WHEN g %% 3 = 0 THEN 'register' ELSE 'sms_code' END,
                   %(first_day)s::date + (g %% %(days)s) * interval '1 day'
                   + (g %% 86400) * interval '1 second',
                   ('10.' || (g %% 200) || '.' || (g / 200 %% 250) || '.' || (1 + g %% 250))::inet,
                   CASE WHEN g %% 3 = 0 THEN '330100' ELSE '' END
              FROM generate_series(1, %(per_day)s * %(days)s) g
            """,
            params,
        )
        c.execute("ANALYZE")
        counts = {}
        for table in (
            "incentives_voucher",
            "incentives_redemption",
            "incentives_offlineredemption",
            "accounts_signupevent",
        ):
            c.execute(f"SELECT count(*) FROM {table}")
            counts[table] = c.fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=13_700)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round, no record")
    args = parser.parse_args()
    if args.smoke:
        args.per_day, args.days, args.reps = 200, 3, 1
    setup_django()
    from incentives.dashboard.rollup import local_today
    from incentives.risk import compute
    from incentives.risk.services import compute_day

    started = time.monotonic()
    counts = plant(
        args.per_day,
        args.days,
        merchants=20 if args.smoke else 60,
        residents=500 if args.smoke else 40_000,
    )
    planted = time.monotonic() - started
    day = local_today()
    timings, bursts, found = [], [], 0
    for _ in range(args.reps):
        t0 = time.monotonic()
        found = compute_day(day, [CITY])
        timings.append(time.monotonic() - t0)
        t0 = time.monotonic()
        compute.signup_burst(day)
        bursts.append(time.monotonic() - t0)
    print(f"planted {counts} in {planted:.1f} s; signals found: {found}")
    print(f"compute_day(city) {min(timings):.2f} s best, {max(timings):.2f} s worst")
    if args.smoke:
        return
    _common.record(
        "Risk signals of one day, one city at 5M vouchers a year",
        [
            f"- Planted: {args.per_day:,} vouchers a day over {args.days} days up to today "
            f"({counts['incentives_voucher']:,} vouchers, "
            f"{counts['incentives_redemption']:,} redemptions, "
            f"{counts['incentives_offlineredemption']:,} offline rows, "
            f"{counts['accounts_signupevent']:,} sign-up events), in {planted:.0f} s",
            f"- The five city signals of today for {CITY}: best {min(timings):.2f} s, worst "
            f"{max(timings):.2f} s over {args.reps} runs (target ≤ 30 s); "
            f"the day's sign-up bursts: best {min(bursts):.2f} s",
            f"- Patterns found in the planted traffic: {found}",
        ],
    )


if __name__ == "__main__":
    main()
