"""Reading statements: who may see which (one function: statement_scope), a merchant's
months, one statement (closed: the frozen rows; open: computed from the raw rows), and a
city's roll-up. Each runs a fixed number of queries however many merchants and rows."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Alliance, City, User
from core import roles
from core.roles import is_city_staff, is_superuser
from merchants.models import Merchant, Offer
from merchants.scopes import staff_merchant_id

from .models import Statement, StatementAdjustment, StatementClose, StatementEntry, StatementLine
from .rows import AGGREGATES, COLUMNS, ROW_MONTH, TZ, add_months, corrections_sql, month_start
from .rows import rows_sql as _rows_sql
from .services import corrections_from

# how far back a merchant's list of months goes (closed ones are always listed)
LIST_MONTHS = 24
EARLIEST_MONTH = date(2020, 1, 1)


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class StatementScope:
    """The statements a user may see: those of one merchant (merchant staff), or of the
    merchants located in `cities` (city staff: their city; superusers: any, None = all)."""

    merchant_id: int | None = None
    cities: tuple[str, ...] | None = ()
    alliance: str | None = None  # alliance staff: their alliance (its roll-up by default)

    def allows_city(self, city: str) -> bool:
        return self.merchant_id is None and (self.cities is None or city in self.cities)

    def merchants(self):
        qs = Merchant.objects.select_related("city")
        if self.merchant_id is not None:
            return qs.filter(pk=self.merchant_id)
        if self.cities is None:
            return qs
        return qs.filter(city_id__in=self.cities)


def statement_scope(user: User) -> StatementScope | None:
    """The one place that says whose statements a user sees (None: nobody's). Alliance
    staff get their member cities here."""
    if is_superuser(user):
        return StatementScope(cities=None)
    if is_city_staff(user):
        return StatementScope(cities=(str(user.staff_city_id),))
    if roles.is_alliance_staff(user):  # the alliance's roll-up, or one member's
        return StatementScope(
            cities=tuple(sorted(roles.dashboard_cities(user) or ())),
            alliance=str(user.staff_alliance_id),
        )
    merchant_id = staff_merchant_id(user)
    if merchant_id is not None:
        return StatementScope(merchant_id=merchant_id, cities=())
    return None


def merchant_in_scope(scope: StatementScope, merchant_id: int | str | None = None) -> Merchant:
    """The scope's own merchant (merchant staff, no `merchant_id`), or the merchant
    `merchant_id` if the scope covers it; 404 for any other."""
    if merchant_id is None:
        merchant_id = scope.merchant_id
    text = str(merchant_id) if merchant_id is not None else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise Http404
    merchant = scope.merchants().filter(pk=int(text)).first()
    if merchant is None:
        raise Http404
    return merchant


def alliance_in_scope(scope: StatementScope, code: str | None) -> Alliance:
    """The alliance of a roll-up: alliance staff their own (another is 403, as on the
    dashboards), superusers any (an unknown one is 404); city staff none (403)."""
    code = code or scope.alliance
    if code is None:
        raise Http404
    if scope.cities is not None and code != scope.alliance:
        raise PermissionDenied(_("只能查看本联盟的数据。"))
    found = Alliance.objects.filter(code=code).first()
    if found is None:
        raise Http404
    return found


def city_in_scope(scope: StatementScope, city: str | None) -> City:
    """The city of a roll-up: the caller's own (city staff), or `city` (superusers: any);
    another is 404."""
    if city is None and scope.cities is not None and len(scope.cities) == 1:
        city = scope.cities[0]
    if city is None or not scope.allows_city(city):
        raise Http404
    found = City.objects.filter(code=city).first()
    if found is None:
        raise Http404
    return found


# --------------------------------------------------------------------------- months


def current_month() -> date:
    return timezone.now().astimezone(TZ).date().replace(day=1)


def parse_month(text: str | None) -> date | None:
    """`YYYY-MM` as the month's first day, or None when malformed or out of range (from
    2020-01 to the current month)."""
    if not text or len(text) != 7 or text[4] != "-" or not text.isascii():
        return None
    year, month = text[:4], text[5:]
    if not (year.isdigit() and month.isdigit()):
        return None
    try:
        value = date(int(year), int(month), 1)
    except ValueError:  # month 13, year 0000
        return None
    return value if EARLIEST_MONTH <= value <= current_month() else None


# --------------------------------------------------------------------------- statements


@dataclass
class Figures:
    redemptions: int = 0
    entitlement_uses: int = 0
    conflicts: int = 0
    face_value: Decimal | None = None

    def add(self, other: "Figures") -> None:
        self.redemptions += other.redemptions
        self.entitlement_uses += other.entitlement_uses
        self.conflicts += other.conflicts
        if other.face_value is not None:
            self.face_value = (self.face_value or Decimal(0)) + other.face_value


@dataclass
class Line:
    offer_id: int | None
    title: str
    title_en: str
    figures: Figures
    of_month: date | None = None  # adjustments: the month corrected


@dataclass
class StatementData:
    merchant: Merchant
    month: date
    statement: Statement | None  # closed: the stored row
    lines: list[Line] = field(default_factory=list)
    adjustments: list[Line] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.statement is not None

    @property
    def totals(self) -> Figures:
        total = Figures()
        for line in self.lines:
            total.add(line.figures)
        return total

    @property
    def adjustments_total(self) -> Figures:
        total = Figures()
        for line in self.adjustments:
            total.add(line.figures)
        return total

    def titles(self) -> dict[int | None, tuple[str, str]]:
        return {line.offer_id: (line.title, line.title_en) for line in self.lines}


def _figures(red: int, uses: int, conf: int, face: Decimal | None) -> Figures:
    return Figures(int(red), int(uses), int(conf), face)


def _bounds(month: date) -> dict[str, Any]:
    return {"start": month_start(month), "end": month_start(add_months(month, 1))}


def _offer_titles(ids: set[int | None]) -> dict[int | None, tuple[str, str]]:
    found = Offer.objects.filter(pk__in=[pk for pk in ids if pk is not None])
    return {
        pk: (title, title_en)
        for pk, title, title_en in found.values_list("pk", "title", "title_en")
    }


def statement(merchant: Merchant, month: date) -> StatementData:
    """A merchant's statement of `month`: the frozen one once closed, else the live
    figures of the raw rows and the corrections that its close would carry."""
    stored = Statement.objects.filter(merchant=merchant, month=month).first()
    data = StatementData(merchant=merchant, month=month, statement=stored)
    if stored is not None:
        data.lines = [
            Line(
                ln.offer_id,
                ln.offer_title,
                ln.offer_title_en,
                _figures(ln.redemptions, ln.entitlement_uses, ln.conflicts, ln.face_value),
            )
            for ln in StatementLine.objects.filter(statement=stored).order_by("offer_id")
        ]
        data.adjustments = [
            Line(
                a.offer_id,
                a.offer_title,
                a.offer_title_en,
                _figures(a.redemptions, a.entitlement_uses, a.conflicts, a.face_value),
                a.of_month,
            )
            for a in StatementAdjustment.objects.filter(statement=stored).order_by(
                "of_month", "offer_id"
            )
        ]
        return data
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.offer_id, {AGGREGATES} FROM ({_rows_sql()}) r GROUP BY r.offer_id "  # noqa: S608
            "ORDER BY r.offer_id NULLS FIRST",
            {"merchants": [merchant.pk], **_bounds(month)},
        )
        rows = cursor.fetchall()
    adjustments = pending_adjustments([merchant], month).get(merchant.pk, [])
    titles = _offer_titles({row[0] for row in rows} | {a[1] for a in adjustments})
    data.lines = [Line(pk, *titles.get(pk, ("", "")), _figures(*rest)) for pk, *rest in rows]
    data.adjustments = [
        Line(pk, *titles.get(pk, ("", "")), _figures(*rest), of_month)
        for of_month, pk, *rest in adjustments
    ]
    return data


def pending_adjustments(merchants: list[Merchant], month: date) -> dict[int, list[tuple]]:
    """The corrections the close of the open `month` would carry, per merchant: those of
    the earlier closed months, when `month` is the first open one after them (a merchant's
    city whose previous month is not closed has none yet)."""
    previous = add_months(month, -1)
    cities = {m.city_id for m in merchants}
    closed_before = set(
        StatementClose.objects.filter(city_id__in=cities, month=previous).values_list(
            "city_id", flat=True
        )
    )
    ids = [m.pk for m in merchants if m.city_id in closed_before]
    if not ids:
        return {}
    window_from = corrections_from(cities=closed_before, month=month)
    if window_from is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            corrections_sql() + " ORDER BY 1, 2, 3 NULLS FIRST",
            {
                "merchants": ids,
                "from_month": window_from,
                "to_month": month,
                "start": month_start(window_from),
                "end": month_start(month),
            },
        )
        found: dict[int, list[tuple]] = {}
        for merchant_id, *rest in cursor.fetchall():
            found.setdefault(merchant_id, []).append(tuple(rest))
    return found


@dataclass
class Entry:
    kind: int
    occurred_at: datetime
    synced_at: datetime | None
    offer_id: int | None
    code_last4: str
    clerk: str
    offline: bool
    face_value: Decimal | None


def entries(data: StatementData, chunk: int = 5000) -> Iterator[Entry]:
    """The statement's rows in time order, streamed from a server-side cursor."""
    if data.statement is not None:
        sql = (
            "SELECT kind, occurred_at, synced_at, offer_id, code_last4, clerk, offline, "  # noqa: S608
            f"face_value FROM {StatementEntry._meta.db_table} WHERE statement_id = %(id)s "
            "ORDER BY id"
        )
        params: dict[str, Any] = {"id": data.statement.pk}
    else:
        sql = (
            "SELECT r.kind, r.occurred_at, r.synced_at, r.offer_id, r.code_last4, r.clerk, "  # noqa: S608
            f"r.offline, r.face_value FROM ({_rows_sql()}) r "
            "ORDER BY r.occurred_at, r.kind, r.source_id"
        )
        params = {"merchants": [data.merchant.pk], **_bounds(data.month)}
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            for row in rows:
                yield Entry(*row)


assert COLUMNS[1] == "kind"  # rows_sql's column order, relied on above


@dataclass
class MonthSummary:
    month: date
    statement: Statement | None
    figures: Figures


def merchant_months(merchant: Merchant) -> list[MonthSummary]:
    """The merchant's months, newest first: every closed one, and the months since it
    joined (at most LIST_MONTHS back) that are not closed, with their live figures."""
    now_month = current_month()
    joined = merchant.created_at.astimezone(TZ).date().replace(day=1)
    first = max(joined, add_months(now_month, -LIST_MONTHS + 1), EARLIEST_MONTH)
    closed = {s.month: s for s in Statement.objects.filter(merchant=merchant)}
    open_months = []
    month = first
    while month <= now_month:
        if month not in closed:
            open_months.append(month)
        month = add_months(month, 1)
    live: dict[date, Figures] = {}
    if open_months:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {ROW_MONTH} AS month, {AGGREGATES} FROM ({_rows_sql()}) r GROUP BY 1",  # noqa: S608
                {
                    "merchants": [merchant.pk],
                    "start": month_start(open_months[0]),
                    "end": month_start(add_months(now_month, 1)),
                },
            )
            live = {row[0]: _figures(*row[1:]) for row in cursor.fetchall()}
    result = [MonthSummary(m, None, live.get(m, Figures())) for m in open_months] + [
        MonthSummary(
            m, s, _figures(s.redemptions, s.entitlement_uses, s.conflicts, s.face_value_total)
        )
        for m, s in closed.items()
    ]
    return sorted(result, key=lambda summary: summary.month, reverse=True)


@dataclass
class RollupRow:
    merchant: Merchant
    statement: Statement | None
    figures: Figures
    adjustments: Figures


@dataclass
class Rollup:
    city: City | Alliance  # a city's roll-up, or an alliance's (its member cities')
    month: date
    closed: bool
    rows: list[RollupRow]

    @property
    def totals(self) -> Figures:
        total = Figures()
        for row in self.rows:
            total.add(row.figures)
        return total

    @property
    def adjustments_total(self) -> Figures:
        total = Figures()
        for row in self.rows:
            total.add(row.adjustments)
        return total


def alliance_rollup(alliance: Alliance, month: date) -> Rollup:
    """The roll-up of an alliance: every member city's merchants and their statements of
    `month` (each city's roll-up, in city order), and the sums; closed when every member's
    month is."""
    members = list(alliance.members.order_by("code"))
    rollups = [city_rollup(city, month) for city in members]
    return Rollup(
        city=alliance,
        month=month,
        closed=bool(rollups) and all(r.closed for r in rollups),
        rows=[row for r in rollups for row in r.rows],
    )


def city_rollup(city: City, month: date) -> Rollup:
    """Every merchant of the city and its statement of `month` (frozen or live), and the
    sums: the city's roll-up."""
    merchants = list(Merchant.objects.filter(city=city).select_related("city").order_by("pk"))
    stored = {s.merchant_id: s for s in Statement.objects.filter(city=city, month=month)}
    open_ids = [m.pk for m in merchants if m.pk not in stored]
    live: dict[int, Figures] = {}
    if open_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.merchant_id, {AGGREGATES} FROM ({_rows_sql()}) r GROUP BY 1",  # noqa: S608
                {"merchants": open_ids, **_bounds(month)},
            )
            live = {row[0]: _figures(*row[1:]) for row in cursor.fetchall()}
    adjusted: dict[int, Figures] = {}
    if stored:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT s.merchant_id, sum(a.redemptions), sum(a.entitlement_uses),
                          sum(a.conflicts), sum(a.face_value)
                     FROM incentives_statementadjustment a
                     JOIN incentives_statement s ON s.id = a.statement_id
                    WHERE s.id = ANY(%s) GROUP BY 1""",
                [[s.pk for s in stored.values()]],
            )
            adjusted = {row[0]: _figures(*row[1:]) for row in cursor.fetchall()}
    pending = pending_adjustments([m for m in merchants if m.pk not in stored], month)
    for merchant_id, found in pending.items():
        total = Figures()
        for _of_month, _offer, *rest in found:
            total.add(_figures(*rest))
        adjusted[merchant_id] = total
    rows = []
    for merchant in merchants:
        s = stored.get(merchant.pk)
        figures = (
            _figures(s.redemptions, s.entitlement_uses, s.conflicts, s.face_value_total)
            if s is not None
            else live.get(merchant.pk, Figures())
        )
        rows.append(RollupRow(merchant, s, figures, adjusted.get(merchant.pk, Figures())))
    closed = StatementClose.objects.filter(city=city, month=month).exists()
    return Rollup(city=city, month=month, closed=closed, rows=rows)
