"""Closing a month's statements, and their checksums (docs/api.md "Statements").

A city's month closes on the 3rd of the next month (Asia/Shanghai), by the beat task
`incentives.close_due_statements`. Closing is set-based: the month's rows go from the raw
tables into the frozen tables by INSERT … SELECT; only the checksum is computed in Python,
streaming the rows from a server-side cursor. Closing a month twice, or from two workers
at once, is a no-op: an advisory lock per city and month, then the StatementClose record.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import City

from .models import Statement, StatementClose
from .rows import TZ, add_months, corrections_sql, month_start, rows_sql

# pg_advisory_xact_lock(key1, key2) namespace of statement closes
_LOCK_NAMESPACE = 25_0301


def correction_window() -> int:
    """How many closed months back a close looks for corrections."""
    return int(getattr(settings, "STATEMENT_CORRECTION_MONTHS", 12))


def corrections_from(*, cities: Iterable[str], month: date) -> date | None:
    """The earliest closed month of `cities` that a statement of `month` looks at for
    corrections (within STATEMENT_CORRECTION_MONTHS back), or None when none is closed:
    then there is nothing to correct and the raw rows of earlier months are not read."""
    return (
        StatementClose.objects.filter(
            city_id__in=list(cities),
            month__gte=add_months(month, -correction_window()),
            month__lt=month,
        )
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )


def close_due_at(month: date) -> datetime:
    """When `month` closes: 00:00 on the 3rd of the next month, Asia/Shanghai."""
    return month_start(add_months(month, 1)).replace(day=3)


def latest_due_month(now: datetime) -> date:
    """The latest month whose close time has come at `now`."""
    local = now.astimezone(TZ)
    this_month = local.date().replace(day=1)
    previous = add_months(this_month, -1)
    return previous if now >= close_due_at(previous) else add_months(this_month, -2)


def statement_number(city: str, month: date, seq: int) -> str:
    return f"{city}-{month:%Y%m}-{seq:05d}"


# --------------------------------------------------------------------------- checksums


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line(*values: Any) -> bytes:
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True)
class Header:
    """What a statement's checksum covers of its own row."""

    number: str
    merchant_id: int
    city: str
    month: date
    closed_at: datetime
    redemptions: int
    entitlement_uses: int
    conflicts: int
    face_value_total: Decimal | None

    def canonical(self) -> bytes:
        return _line(
            "statement",
            self.number,
            self.merchant_id,
            self.city,
            f"{self.month:%Y-%m}",
            _instant(self.closed_at),
            self.redemptions,
            self.entitlement_uses,
            self.conflicts,
            _money(self.face_value_total),
        )


def checksums(headers: dict[int, Header]) -> dict[int, str]:
    """The SHA-256 (hex) of each statement's canonical serialisation: one JSON array per
    line, UTF-8, each ending in a newline: the header, then its lines by offer, its
    adjustments by month and offer, its entries by id (docs/api.md, "Statements"). The
    entries are streamed from a server-side cursor: memory does not grow with them."""
    hashers = {pk: hashlib.sha256(header.canonical()) for pk, header in headers.items()}
    ids = list(headers)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT statement_id, offer_id, offer_title, offer_title_en, redemptions,
                      entitlement_uses, conflicts, face_value
                 FROM incentives_statementline WHERE statement_id = ANY(%s)
                ORDER BY statement_id, offer_id NULLS FIRST""",
            [ids],
        )
        for pk, offer, title, title_en, red, uses, conf, face in cursor.fetchall():
            hashers[pk].update(_line("line", offer, title, title_en, red, uses, conf, _money(face)))
        cursor.execute(
            """SELECT statement_id, of_month, offer_id, offer_title, offer_title_en,
                      redemptions, entitlement_uses, conflicts, face_value
                 FROM incentives_statementadjustment WHERE statement_id = ANY(%s)
                ORDER BY statement_id, of_month, offer_id NULLS FIRST""",
            [ids],
        )
        for pk, of_month, offer, title, title_en, red, uses, conf, face in cursor.fetchall():
            hashers[pk].update(
                _line(
                    "adjustment",
                    f"{of_month:%Y-%m}",
                    offer,
                    title,
                    title_en,
                    red,
                    uses,
                    conf,
                    _money(face),
                )
            )
    for row in _entries(sorted(ids)):
        pk, kind, source, offer, occurred, synced, last4, clerk, offline, face = row
        hashers[pk].update(
            _line(
                "entry",
                kind,
                source,
                offer,
                _instant(occurred),
                _instant(synced),
                last4,
                clerk,
                offline,
                _money(face),
            )
        )
    return {pk: hasher.hexdigest() for pk, hasher in hashers.items()}


def _entries(statements: list[int], size: int = 10_000) -> Iterator[tuple]:
    """The entries of each statement in id order, `size` rows a query: keyset pages on the
    (statement, id) index, so each page is a short range scan whatever the table holds
    (one query over all of a close's statements sorted every entry at once)."""
    with connection.cursor() as cursor:
        for statement_id in statements:
            last = 0
            while True:
                cursor.execute(
                    """SELECT statement_id, kind, source_id, offer_id, occurred_at, synced_at,
                              code_last4, clerk, offline, face_value, id
                         FROM incentives_statemententry
                        WHERE statement_id = %s AND id > %s
                        ORDER BY statement_id, id LIMIT %s""",
                    [statement_id, last, size],
                )
                rows = cursor.fetchall()
                for row in rows:
                    yield row[:10]
                if len(rows) < size:
                    break
                last = rows[-1][10]


def header_of(statement: Statement) -> Header:
    return Header(
        number=statement.number,
        merchant_id=statement.merchant_id,
        city=statement.city_id,
        month=statement.month,
        closed_at=statement.closed_at,
        redemptions=statement.redemptions,
        entitlement_uses=statement.entitlement_uses,
        conflicts=statement.conflicts,
        face_value_total=statement.face_value_total,
    )


def verify_statement(statement: Statement) -> bool:
    """Whether a closed statement's stored rows still give its checksum."""
    return checksums({statement.pk: header_of(statement)})[statement.pk] == statement.checksum


# --------------------------------------------------------------------------- closing


def close_month(*, city: str, month: date, now: datetime | None = None) -> StatementClose | None:
    """Close `city`'s `month` (its first day): freeze, number and checksum the statement of
    every merchant of the city, each carrying the corrections of earlier closed months
    found now as adjustments. None when the month is not due yet; the existing record
    when it was closed already (a no-op, also when two workers race)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    if now < close_due_at(month):
        return None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                [_LOCK_NAMESPACE, f"{city}:{month:%Y-%m}"],
            )
        done = StatementClose.objects.filter(city_id=city, month=month).first()
        if done is not None:
            return done
        count = _freeze(city=city, month=month, now=now)
        return StatementClose.objects.create(
            city_id=city, month=month, closed_at=now, statements=count
        )


def _freeze(*, city: str, month: date, now: datetime) -> int:
    params: dict[str, Any] = {
        "city": city,
        "month": month,
        "now": now,
        "prefix": f"{city}-{month:%Y%m}-",
        "start": month_start(month),
        "end": month_start(add_months(month, 1)),
    }
    with connection.cursor() as cursor:
        # one statement per merchant of the city, numbered in the order of the merchants' ids
        cursor.execute(
            """INSERT INTO incentives_statement
                   (merchant_id, city_id, month, seq, number, closed_at, redemptions,
                    entitlement_uses, conflicts, face_value_total, checksum)
               SELECT n.id, n.city_id, %(month)s, n.seq,
                      %(prefix)s || lpad(n.seq::text, 5, '0'), %(now)s, 0, 0, 0, NULL, ''
                 FROM (SELECT id, city_id, row_number() OVER (ORDER BY id) AS seq
                         FROM merchants_merchant WHERE city_id = %(city)s) n
               RETURNING id, merchant_id""",
            params,
        )
        statement_of = {merchant: pk for pk, merchant in cursor.fetchall()}
        if not statement_of:
            return 0
        params["merchants"] = list(statement_of)
        cursor.execute(
            f"""INSERT INTO incentives_statemententry
                    (statement_id, kind, source_id, offer_id, occurred_at, synced_at,
                     code_last4, clerk, offline, face_value)
                SELECT s.id, r.kind, r.source_id, r.offer_id, r.occurred_at, r.synced_at,
                       r.code_last4, left(r.clerk, 50), r.offline, r.face_value
                  FROM ({rows_sql()}) r
                  JOIN incentives_statement s ON s.merchant_id = r.merchant_id
                       AND s.month = %(month)s
                 ORDER BY s.id, r.occurred_at, r.kind, r.source_id""",  # noqa: S608
            params,
        )
        cursor.execute(
            """INSERT INTO incentives_statementline
                   (statement_id, offer_id, offer_title, offer_title_en, redemptions,
                    entitlement_uses, conflicts, face_value)
               SELECT e.statement_id, e.offer_id, COALESCE(o.title, ''),
                      COALESCE(o.title_en, ''),
                      count(*) FILTER (WHERE e.kind = 1), count(*) FILTER (WHERE e.kind = 2),
                      count(*) FILTER (WHERE e.kind = 3),
                      sum(e.face_value) FILTER (WHERE e.kind IN (1, 2))
                 FROM incentives_statemententry e
                 LEFT JOIN merchants_offer o ON o.id = e.offer_id
                WHERE e.statement_id = ANY(%(statements)s)
                GROUP BY e.statement_id, e.offer_id, o.title, o.title_en""",
            {"statements": list(statement_of.values())},
        )
        window_from = corrections_from(cities=[city], month=month)
        if window_from is not None:
            cursor.execute(
                f"""INSERT INTO incentives_statementadjustment
                        (statement_id, of_month, offer_id, offer_title, offer_title_en,
                         redemptions, entitlement_uses, conflicts, face_value)
                    SELECT s.id, d.of_month, d.offer_id, COALESCE(o.title, ''),
                           COALESCE(o.title_en, ''), d.redemptions, d.entitlement_uses,
                           d.conflicts, d.face_value
                      FROM ({corrections_sql()}) d
                      JOIN incentives_statement s ON s.merchant_id = d.merchant_id
                           AND s.month = %(month)s
                      LEFT JOIN merchants_offer o ON o.id = d.offer_id""",  # noqa: S608
                {
                    **params,
                    "from_month": window_from,
                    "to_month": month,
                    "start": month_start(window_from),
                    "end": month_start(month),
                },
            )
        cursor.execute(
            """SELECT statement_id, sum(redemptions), sum(entitlement_uses), sum(conflicts),
                      sum(face_value)
                 FROM incentives_statementline WHERE statement_id = ANY(%s)
                GROUP BY statement_id""",
            [list(statement_of.values())],
        )
        totals = {row[0]: row[1:] for row in cursor.fetchall()}
    headers = _headers(city=city, month=month, now=now, statement_of=statement_of, totals=totals)
    sums = checksums(headers)
    _seal(headers, sums)
    return len(headers)


def _headers(
    *,
    city: str,
    month: date,
    now: datetime,
    statement_of: dict[int, int],
    totals: dict[int, tuple],
) -> dict[int, Header]:
    numbers = dict(
        Statement.objects.filter(pk__in=statement_of.values()).values_list("pk", "number")
    )
    headers = {}
    for merchant, pk in statement_of.items():
        red, uses, conf, face = totals.get(pk, (0, 0, 0, None))
        headers[pk] = Header(
            number=numbers[pk],
            merchant_id=merchant,
            city=city,
            month=month,
            closed_at=now,
            redemptions=int(red),
            entitlement_uses=int(uses),
            conflicts=int(conf),
            face_value_total=face,
        )
    return headers


def _seal(headers: dict[int, Header], sums: dict[int, str]) -> None:
    """Write the totals and the checksum: from here on the statement is closed (the
    database refuses any further change)."""
    ids = list(headers)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE incentives_statement s
                  SET redemptions = v.redemptions, entitlement_uses = v.uses,
                      conflicts = v.conflicts, face_value_total = v.face, checksum = v.checksum
                 FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::numeric[],
                             %s::text[]) AS v(id, redemptions, uses, conflicts, face, checksum)
                WHERE s.id = v.id""",
            [
                ids,
                [headers[pk].redemptions for pk in ids],
                [headers[pk].entitlement_uses for pk in ids],
                [headers[pk].conflicts for pk in ids],
                [headers[pk].face_value_total for pk in ids],
                [sums[pk] for pk in ids],
            ],
        )


def months_to_close(city: str, now: datetime) -> list[date]:
    """The months of `city` that are due and not closed, oldest first: every month after
    the last closed one up to the latest due (only the latest due when none was closed)."""
    due = latest_due_month(now)
    last = (
        StatementClose.objects.filter(city_id=city)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if last is None:
        return [due]
    months = []
    month = add_months(last, 1)
    while month <= due:
        months.append(month)
        month = add_months(month, 1)
    return months


def close_due_statements(
    *, now: datetime | None = None, cities: Iterable[str] | None = None
) -> int:
    """Close every due month of every partner city (the beat task); returns how many
    city-months were closed now."""
    now = now or timezone.now()
    closed = 0
    for city in cities if cities is not None else City.objects.values_list("code", flat=True):
        for month in months_to_close(city, now):
            record = close_month(city=city, month=month, now=now)
            if record is not None and record.closed_at == now:
                closed += 1
    return closed
