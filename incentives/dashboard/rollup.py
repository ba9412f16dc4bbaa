"""Daily roll-ups of voucher events, kept current by Celery, rebuildable for any range.

What is counted, and on which day (all days are Asia/Shanghai calendar days):

- a **claim** on the day of `issued_at`: every voucher ever issued, whatever became of it
  later (a cancelled voucher stays a claim; `cancelled` shows how many were given back);
- a **redemption** on the day of `redeemed_at`;
- a **cancellation**, **expiry** or **revocation** on the day of `closed_at`, by the
  voucher's final status (`cancelled`, `expired`, `revoked`);
- an entitlement **use** (a credit pass checked at the counter) on the day of `used_at`
  (EntitlementUse rows carry the same facts as vouchers).

Each event is stamped once and never moves, so a late event (a voucher claimed last
month and redeemed today) changes only today's rows: the claim stays on last month's day,
the redemption lands on today. Vouchers carry the facts the dashboards group by
(destination city, merchant, offer, category, residents' home city), copied at issue.

The tables (incentives.dashboard.models):

- `CityDay` (dest city, day, home city, category) → six counts: the category
  breakdown, and the source of the narrower city tables below;
- `OfferDay` (dest city, day, offer, merchant) → six counts: merchant and offer
  breakdowns;
- `CityMonth`, `OfferMonth` (and `CityPairMonth`, below): the same rows summed over a
  calendar month (`day` is the month's first day), recomputed from the month's day rows
  whenever one of its days is: breakdowns and flows read a range's whole months there
  and its other days from the day tables, so a year reads ~12 months of combinations
  instead of 365 days of them;
- `CityTotalDay` (dest city, day) → the same six counts summed over home cities and
  categories (from the chunk's CityDay rows): the summary's totals and the series, which
  then read one row per city and day whatever the data;
- `CityPairDay` (dest city, day, home city) → the same six counts summed over categories
  (from the chunk's CityDay rows), and `CityPairMonth` its months: the flows and the
  home-city breakdown, which then read at most one row per pair of cities and day or
  month, however many categories the data fills;
- `ClaimantSet` (scope, period, start): the ids of the residents who claimed in a city
  (or in any city, scope `*`) on a day, or over a calendar month, as a serialized
  roaring bitmap (pyroaring). Distinct residents over a range cannot be summed from
  daily counts; they are the size of the union of the sets of the range's whole months
  and of the days at its ends (exact). The day sets come from one `GROUP BY` of the
  chunk's claims (the resident ids of each city and day); a month's sets are recomputed
  from its stored day sets whenever one of its days is, in the same transaction.
- `DirtyDay`: days to recompute on the next refresh.

How rows are made: `rebuild_rollups(date_from, date_to)` recomputes whole days. In one
transaction per chunk of days it deletes the chunk's rows and inserts them again with
set-based `INSERT … SELECT … GROUP BY` over the vouchers whose `issued_at`,
`redeemed_at` or `closed_at` fall in the chunk (three index range scans, UNION ALL); the
sets are built in Python from the chunk's (city, day, resident ids) groups.
The day of a timestamp comes from Django's own backend operation (`AT TIME ZONE`). A
transaction-level advisory lock serialises concurrent refreshes, so two runs at once
cannot both insert; readers see the old rows or the new, never a mix.

Keeping current: the beat task `incentives.refresh_dashboard_rollups` (every few
minutes; under the embedded default the web process runs it, config/scheduler.py)
recomputes today and yesterday (Shanghai) and every day in `DirtyDay`, newest first,
clearing each chunk's marks as it is done. The
voucher services stamp events with the current time, so the touched days are today (or
yesterday, just after midnight); a writer that stamps an earlier time (a back-fill, a
repaired import) calls `mark_days_dirty`. Recomputing a day is idempotent: running the
task twice gives the same rows. `manage.py rebuild_rollups --from … --to …` rebuilds any
range (after a bulk load, or to repair). A rebuild that reaches today records the time
it started in `RollupRefresh`: the dashboards show it as the time of their figures.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from pyroaring import BitMap64

from ..models import EntitlementUse, Voucher
from .models import (
    CityDay,
    CityMonth,
    CityPairDay,
    CityPairMonth,
    CityTotalDay,
    ClaimantSet,
    DirtyDay,
    OfferDay,
    OfferMonth,
    RollupRefresh,
)

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
# Days rebuilt per transaction: bounds the rows one transaction deletes and inserts.
CHUNK_DAYS = 31
# Any 64-bit constant: the key of the advisory lock that serialises refreshes.
_LOCK_KEY = 0x58594E_5255_4C4C  # "XYN" "RU" "LL"

CLOSED = ("cancelled", "expired", "revoked")
CITY_DIMS = ["dest_city_id", "home_city_id", "category"]
PAIR_DIMS = ["dest_city_id", "home_city_id"]
OFFER_DIMS = ["dest_city_id", "offer_id", "merchant_id"]
VOUCHERS = Voucher._meta.db_table
USES = EntitlementUse._meta.db_table


def local_today() -> date:
    """Today in Asia/Shanghai."""
    return timezone.now().astimezone(TZ).date()


def day_start(day: date) -> datetime:
    """The aware instant at which `day` begins in Asia/Shanghai."""
    return datetime.combine(day, time.min, tzinfo=TZ)


@dataclass(frozen=True)
class RebuildReport:
    date_from: date
    date_to: date
    city_rows: int
    offer_rows: int
    claimant_sets: int


def _day_of(column: str) -> tuple[str, list]:
    """SQL (and params) for the Asia/Shanghai date of a timestamp column."""
    return connection.ops.datetime_cast_date_sql(column, (), TZ_NAME)


def _insert_counts(table: str, dims: list[str], lo: datetime, hi: datetime) -> int:
    """Insert the six event counts of [lo, hi) grouped by day and `dims` into `table`.

    A UNION ALL of four branches, each reading the rows of one time column inside
    [lo, hi) through its index: claims by `issued_at`, redemptions by `redeemed_at`,
    closures by `closed_at` (counted by final status), entitlement uses by `used_at`.
    """
    closed = tuple(f"CASE WHEN v.status = '{s}' THEN 1 ELSE 0 END" for s in CLOSED)
    in_closed = " AND v.status IN ('cancelled', 'expired', 'revoked')"
    branches = (
        (VOUCHERS, "issued_at", ("1", "0", "0", "0", "0", "0"), ""),
        (VOUCHERS, "redeemed_at", ("0", "1", "0", "0", "0", "0"), ""),
        (VOUCHERS, "closed_at", ("0", "0", *closed, "0"), in_closed),
        (USES, "used_at", ("0", "0", "0", "0", "0", "1"), ""),
    )
    lo_v = connection.ops.adapt_datetimefield_value(lo)
    hi_v = connection.ops.adapt_datetimefield_value(hi)
    # Columns are named in every branch (UNION takes the first branch's names).
    dims_sql = ", ".join(f"v.{d} AS {d}" for d in dims)
    parts, params = [], []
    for source, column, counts, extra in branches:
        day_sql, day_params = _day_of(f"v.{column}")
        counts_sql = ", ".join(
            f"{v} AS {n}" for v, n in zip(counts, ("c", "r", "x", "e", "k", "u"), strict=True)
        )
        parts.append(
            f"SELECT {day_sql} AS day, {dims_sql}, {counts_sql} "  # noqa: S608 (our identifiers)
            f"FROM {source} v WHERE v.{column} >= %s AND v.{column} < %s{extra}"
        )
        params += [*day_params, lo_v, hi_v]
    cols = ", ".join(dims)
    sql = (
        f"INSERT INTO {table} (day, {cols}, claims, redemptions, cancelled, expired, revoked, "  # noqa: S608
        "uses) "
        f"SELECT day, {cols}, SUM(c), SUM(r), SUM(x), SUM(e), SUM(k), SUM(u) "
        f"FROM ({' UNION ALL '.join(parts)}) ev GROUP BY day, {cols}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_city_sums(model, dims: list[str], first: date, last: date) -> int:
    """`model`'s rows of the days first..last: their CityDay rows summed per day and
    `dims` (CityTotalDay: per city; CityPairDay: per city and home city)."""
    counts = ("claims", "redemptions", "cancelled", "expired", "revoked", "uses")
    cols, keys = ", ".join(counts), ", ".join(dims)
    sums = ", ".join(f"SUM({c})" for c in counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({keys}, day, {cols}) "  # noqa: S608
            f"SELECT {keys}, day, {sums} FROM {CityDay._meta.db_table} "
            f"WHERE day >= %s AND day <= %s GROUP BY {keys}, day",
            [connection.ops.adapt_datefield_value(d) for d in (first, last)],
        )
        return cursor.rowcount


def _rebuild_months(day_model, month_model, dims: list[str], first: date, last: date) -> None:
    """Recompute the month rows of every month that first..last touches as the sums of
    that month's day rows (run after those days are rebuilt)."""
    counts = ("claims", "redemptions", "cancelled", "expired", "revoked", "uses")
    cols, sums = ", ".join(dims), ", ".join(f"SUM({c})" for c in counts)
    for month in _months(first, last):
        month_model.objects.filter(day=month).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {month_model._meta.db_table} (day, {cols}, {', '.join(counts)}) "  # noqa: S608
                f"SELECT %s, {cols}, {sums} FROM {day_model._meta.db_table} "
                f"WHERE day >= %s AND day <= %s GROUP BY {cols}",
                [
                    connection.ops.adapt_datefield_value(d)
                    for d in (month, month, _month_end(month))
                ],
            )


def _set_row(scope: str, period: str, start: date, residents: BitMap64) -> ClaimantSet:
    residents.run_optimize()
    return ClaimantSet(
        scope=scope,
        period=period,
        start=start,
        residents=residents.serialize(),
        count=len(residents),
    )


def _insert_day_sets(lo: datetime, hi: datetime) -> int:
    """ClaimantSet rows of the days in [lo, hi): per city and for all cities, the ids of
    the residents who claimed there that day (one GROUP BY over the claims' index)."""
    day_sql, day_params = _day_of("v.issued_at")
    sql = (
        f"SELECT v.dest_city_id, {day_sql} AS day, array_agg(v.resident_id) "  # noqa: S608
        f"FROM {VOUCHERS} v WHERE v.issued_at >= %s AND v.issued_at < %s GROUP BY 1, 2"
    )
    params = [
        *day_params,
        connection.ops.adapt_datetimefield_value(lo),
        connection.ops.adapt_datetimefield_value(hi),
    ]
    by_day: dict[date, BitMap64] = {}
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for city, day, ids in cursor:
            residents = BitMap64(ids)
            by_day.setdefault(day, BitMap64()).update(residents)
            rows.append(_set_row(city, ClaimantSet.Period.DAY, day, residents))
    rows += [_set_row(ClaimantSet.ALL, ClaimantSet.Period.DAY, d, r) for d, r in by_day.items()]
    ClaimantSet.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _months(first: date, last: date) -> list[date]:
    """The first days of the calendar months that first..last touches."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _rebuild_month_sets(first: date, last: date) -> int:
    """Recompute the month sets of every month that first..last touches, from the day
    sets stored for that month (run after those days' sets are rebuilt)."""
    made = 0
    for month in _months(first, last):
        ClaimantSet.objects.filter(period=ClaimantSet.Period.MONTH, start=month).delete()
        unions: dict[str, BitMap64] = {}
        days = ClaimantSet.objects.filter(
            period=ClaimantSet.Period.DAY, start__gte=month, start__lte=_month_end(month)
        ).values_list("scope", "residents")
        for scope, blob in days.iterator(chunk_size=500):
            unions.setdefault(scope, BitMap64()).update(BitMap64.deserialize(bytes(blob)))
        rows = [_set_row(s, ClaimantSet.Period.MONTH, month, r) for s, r in unions.items()]
        ClaimantSet.objects.bulk_create(rows, batch_size=100)
        made += len(rows)
    return made


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _chunks(date_from: date, date_to: date, size: int) -> Iterator[tuple[date, date]]:
    start = date_from
    while start <= date_to:
        end = min(start + timedelta(days=size - 1), date_to)
        yield start, end
        start = end + timedelta(days=1)


def _rebuild_chunk(first: date, last: date) -> tuple[int, int, int]:
    lo, hi = day_start(first), day_start(last + timedelta(days=1))
    with transaction.atomic():
        _lock()
        for model in (CityDay, CityTotalDay, CityPairDay, OfferDay):
            model.objects.filter(day__gte=first, day__lte=last).delete()
        ClaimantSet.objects.filter(
            period=ClaimantSet.Period.DAY, start__gte=first, start__lte=last
        ).delete()
        city = _insert_counts(CityDay._meta.db_table, CITY_DIMS, lo, hi)
        _insert_city_sums(CityTotalDay, ["dest_city_id"], first, last)
        _insert_city_sums(CityPairDay, PAIR_DIMS, first, last)
        offer = _insert_counts(OfferDay._meta.db_table, OFFER_DIMS, lo, hi)
        _rebuild_months(CityDay, CityMonth, CITY_DIMS, first, last)
        _rebuild_months(CityPairDay, CityPairMonth, PAIR_DIMS, first, last)
        _rebuild_months(OfferDay, OfferMonth, OFFER_DIMS, first, last)
        sets = _insert_day_sets(lo, hi)
        sets += _rebuild_month_sets(first, last)
    return city, offer, sets


def rebuild_rollups(
    *, date_from: date, date_to: date, chunk_days: int = CHUNK_DAYS, progress=None
) -> RebuildReport:
    """Recompute every roll-up row of the days `date_from`..`date_to` (inclusive) from the
    vouchers; idempotent, one transaction per chunk of days."""
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    started = timezone.now()  # every event stamped before this is counted below
    totals = [0, 0, 0]
    for first, last in _chunks(date_from, date_to, chunk_days):
        counts = _rebuild_chunk(first, last)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if progress is not None:
            progress(first, last, counts)
    if date_to >= started.astimezone(TZ).date():
        RollupRefresh.mark(started)
    return RebuildReport(date_from, date_to, *totals)


def mark_days_dirty(*, days: Iterable[date]) -> None:
    """Ask the next refresh to recompute these days (for events stamped in the past)."""
    now = timezone.now()
    DirtyDay.objects.bulk_create(
        [DirtyDay(day=d, marked_at=now) for d in sorted(set(days))],
        update_conflicts=True,
        update_fields=["marked_at"],
        unique_fields=["day"],
    )


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Contiguous runs of sorted days, as (first, last)."""
    if not days:
        return
    start = prev = days[0]
    for d in days[1:]:
        if d == prev + timedelta(days=1):
            prev = d
        else:
            yield start, prev
            start = prev = d
    yield start, prev


def refresh_recent_rollups(*, lookback_days: int = 1, today: date | None = None) -> list[date]:
    """Recompute today, the `lookback_days` before it and every dirty day; returns the days.

    Newest days first, a chunk of days at a time; each chunk's dirty marks are cleared
    once it is rebuilt, so a long catch-up (every day after an upgrade) cut short by the
    task's time limit resumes where it stopped. A mark is cleared only if it is unchanged
    since it was read, so a mark made while this runs survives for the next run."""
    today = today or local_today()
    marks = dict(DirtyDay.objects.values_list("day", "marked_at"))
    days = sorted({today - timedelta(days=i) for i in range(lookback_days + 1)} | set(marks))
    for first, last in reversed(list(_runs(days))):
        for lo, hi in reversed(list(_chunks(first, last, CHUNK_DAYS))):
            rebuild_rollups(date_from=lo, date_to=hi)
            for day, marked_at in marks.items():
                if lo <= day <= hi:
                    DirtyDay.objects.filter(day=day, marked_at=marked_at).delete()
    return days
