"""What the hot paths decide on, each in a fixed few statements (issue 18): the pass check at
the counter (incentives.passes.services) and the claim (incentives.vouchers.services).

`read_facts` reads, in ONE statement, the offer with its merchant and terms, the person
(while an active resident), their standing and consent, whether their home city is listed
for the offer, any suspension from the offer's scenario, whether they hold as many of its
vouchers as one person may, and whether they hold its honour; and over that row, the
one-row decision of every eligibility rule (incentives.eligibility.row_flags_sql), from
which `offer_reasons` tells the reasons. `facts_sql` gives that statement's rows to another
statement (the pass check's take, guarded by the flags). `run_take` runs a
take: one self-contained statement that may undo itself (`xinyou_abort`, migration 0008).
`record_refusal` counts a refusal.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.credit.models import Consent, Honour, Scheme, Standing
from accounts.models import Alliance, City, User
from core.db import prepared_cursor
from merchants.models import Merchant, MerchantStaff, Offer

from .eligibility import FACTS, ROW_RULES, One, Reason, period_starts, reasons_of, row_flags_sql
from .incidents.models import Incident
from .models import ClaimTally, IdempotencyRecord, Voucher
from .offers.selectors import view_of
from .passes.models import EntitlementTally, RefusalCount

if TYPE_CHECKING:  # incentives.idempotency imports this module (its repeatable work)
    from .idempotency import Keyed, Prior

TZ = ZoneInfo("Asia/Shanghai")


def present[T](value: T | None) -> T:
    """A column of the facts row that the caller has already found present: the offer's and
    the merchant's (NOT NULL) once `Facts.id` is set, the holder's once `holder_id` is, the
    standing's once `standing_id` is (None there only means the LEFT JOIN found no row)."""
    assert value is not None, "a column read before its row was found"
    return value


# The offer is LEFT JOINed to a one-row base, so that the person's row comes back even when
# there is no such offer (a claim tells a resident without consent so before anything else).
_READ_SQL = """
SELECT o.id, o.merchant_id, o.kind, o.status, m.status, m.city_id, m.name, o.scenario,
       o.category, o.title, o.title_en, o.benefit_type, o.benefit_value, o.benefit_note,
       o.list_price,
       o.min_tier, o.min_score, o.min_grade, o.required_honour,
       o.home_city_rule, o.eligible_alliance_id, o.valid_from, o.valid_until,
       o.limit_per_period, o.period,
       o.per_resident_limit, o.voucher_lifetime_hours, o.terms_version, o.usage_notes,
       (SELECT sc.name FROM {city} mc JOIN {scheme} sc ON sc.id = mc.scheme_id
        WHERE mc.code = m.city_id),
       (SELECT STRING_AGG(hc.city_id, ',') FROM {home} hc WHERE hc.offer_id = o.id),
       (SELECT ms.merchant_id FROM {staff} ms JOIN {user} su ON su.id = ms.user_id
        WHERE ms.user_id = %(staff)s AND su.is_active),
       u.id, u.real_name, u.id_masked, u.home_city_id,
       (SELECT au.role FROM {user} au WHERE au.id = %(resident)s AND au.is_active),
       s.id, s.tier, s.seriously_dishonest, s.valid_until,
       EXISTS (SELECT 1 FROM {consent} c
               WHERE c.resident_id = u.id AND c.withdrawn_at IS NULL),
       {rule_facts}{extra_columns}
FROM (SELECT 1 AS one) base
LEFT JOIN {offer} o ON o.id = %(offer)s
LEFT JOIN {merchant} m ON m.id = o.merchant_id
LEFT JOIN {user} u ON u.id = %(resident)s AND u.role = 'resident' AND u.is_active
LEFT JOIN {standing} s ON s.resident_id = u.id
{extra_joins}"""


@dataclass(frozen=True)
class Facts:
    """One row of _READ_SQL. `id` is None when there is no such offer, `holder_id` when the
    person is not an active resident, `standing_id` when they have no standing."""

    id: int | None
    merchant_id: int | None
    kind: str | None
    status: str | None
    merchant_status: str | None
    city_id: str | None
    merchant_name: str | None
    scenario: str | None
    category: str | None
    title: str | None
    title_en: str | None
    benefit_type: str | None
    benefit_value: Decimal | None
    benefit_note: str | None
    list_price: Decimal | None
    min_tier: str | None
    min_score: int | None
    min_grade: str | None
    required_honour: str | None
    home_city_rule: str | None
    eligible_alliance_id: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    limit_per_period: int | None
    period: str | None
    per_resident_limit: int | None
    voucher_lifetime_hours: int | None
    terms_version: int | None
    usage_notes: str | None
    scheme_name: str | None
    home_cities_csv: str | None
    staff_merchant: int | None
    holder_id: int | None
    real_name: str | None
    id_masked: str | None
    home_city_id: str | None
    active_role: str | None  # the person's role while their account is active
    standing_id: int | None
    tier: str | None
    seriously_dishonest: bool | None
    standing_valid_until: datetime | None
    consented: bool
    # the columns of the eligibility rules (eligibility.FACTS), last and in the rules' order
    listed_home: bool
    at_limit: bool
    has_honour: bool
    suspended_until: datetime | None
    sold_out: bool
    used_up: bool
    # every rule's one-row decision (eligibility.ROW_RULES): true where it lets the holder
    # use the offer, None where Python decides it (`OfferRule.ok`)
    ok: dict[Reason, bool | None] = field(default_factory=dict)

    @property
    def home_cities(self) -> list[str]:
        """The offer's listed home cities, sorted."""
        return sorted(filter(None, (self.home_cities_csv or "").split(",")))

    def terms(self) -> dict:
        """The offer's terms as a voucher keeps them (Offer.terms_snapshot)."""
        return Offer.terms_of(
            self,
            merchant=present(self.merchant_name),
            city=present(self.city_id),
            scheme=self.scheme_name,
            home_cities=self.home_cities,
        )


def db_tables(**models: type[Model]) -> dict[str, str]:
    """The table names of a hand-written statement's `{placeholders}`, from model metadata."""
    return {name: model._meta.db_table for name, model in models.items()}


def read_facts(
    *, resident_id: int, offer_id: int, now: datetime, staff_id: int | None = None
) -> Facts:
    """The row of `_READ_SQL` for this person and offer (and staff member, for a check)."""
    params = facts_params(resident_id=resident_id, offer_id=offer_id, now=now, staff_id=staff_id)
    with prepared_cursor() as cur:
        cur.execute(_read_sql(), params)
        row = cur.fetchone()
    return facts_of(row)


# The facts row's columns, named as Facts' fields (the rules' `row` SQL reads them so).
FACT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Facts) if f.name != "ok")


def facts_of(row: tuple, extra: int = 0) -> Facts:
    """A Facts from a row of `facts_sql`: the facts' columns, `extra` more (left out), then
    the flags (any columns after them are the caller's)."""
    columns = len(FACT_COLUMNS)
    values: dict = dict(zip(FACT_COLUMNS, row[:columns], strict=True))
    flags = row[columns + extra : columns + extra + len(ROW_RULES)]
    values["ok"] = {rule.reason: flag for rule, flag in zip(ROW_RULES, flags, strict=True)}
    return Facts(**values)


# A row of `facts_sql`: its facts and flags (`FACTS_WIDTH` columns without extra ones).
FACTS_WIDTH = len(FACT_COLUMNS) + len(ROW_RULES)


@dataclass(frozen=True)
class ClaimFacts:
    """The claim's read: the facts, the Idempotency-Key's row (when the claim has a key and
    it has a row) and the id the voucher will have (drawn from its sequence: the answer,
    its signed token included, is made before the statement that stores it)."""

    facts: Facts
    prior: "Prior | None"
    voucher_id: int


def read_claim_facts(
    *, resident_id: int, offer_id: int, now: datetime, keyed: "Keyed | None"
) -> ClaimFacts:
    """`read_facts` for a claim, with the key's row and the voucher's id in the same
    statement."""
    with prepared_cursor() as cur:
        cur.execute(
            _claim_read_sql(),
            {
                **facts_params(resident_id=resident_id, offer_id=offer_id, now=now, staff_id=None),
                "scope": keyed.scope if keyed else None,
                "key": keyed.key if keyed else None,
            },
        )
        row = cur.fetchone()
    from .idempotency import Prior

    extra = _CLAIM_EXTRA  # the key's row (five columns), then the voucher's id
    extras = row[len(FACT_COLUMNS) : len(FACT_COLUMNS) + extra]
    return ClaimFacts(facts_of(row, extra), Prior.of(extras[:-1]), extras[-1])


def facts_params(*, resident_id: int, offer_id: int, now: datetime, staff_id: int | None) -> dict:
    """The parameters of `facts_sql`."""
    return {
        "staff": staff_id,
        "resident": resident_id,
        "offer": offer_id,
        "now": now,
        "today": timezone.localdate(now),
        **_period_params(now),
    }


def _period_params(now: datetime) -> dict[str, date]:
    """The current period's tally key of each kind of period (the `used_up` column)."""
    return _period_params_on(now.astimezone(TZ).date())


@lru_cache(maxsize=4)
def _period_params_on(day: date) -> dict[str, date]:
    # the periods hold whole local days: one day's keys are every moment's of that day
    starts = period_starts(datetime.combine(day, time.min, tzinfo=TZ))
    return {
        "day": starts[Offer.Period.DAY],
        "week": starts[Offer.Period.WEEK],
        "month": starts[Offer.Period.MONTH],
        "offer_period": starts[Offer.Period.OFFER],
    }


_CLAIM_EXTRA = 6


@cache
def _read_sql() -> str:
    return facts_sql()


@cache
def _claim_read_sql() -> str:
    """The claim's read: `_READ_SQL` plus the key's row (incentives.idempotency) and the
    voucher's id (`_CLAIM_EXTRA` columns, after the facts' and before the flags)."""
    from .idempotency import PRIOR_COLUMNS, PRIOR_JOIN

    columns = f"{PRIOR_COLUMNS}, nextval(pg_get_serial_sequence('{{voucher}}', 'id'))"
    return facts_sql(",\n       " + columns, PRIOR_JOIN + "\n", _CLAIM_EXTRA)


def facts_sql(extra_columns: str = "", extra_joins: str = "", extra: int = 0) -> str:
    """The one-row read: `_READ_SQL`'s row (`f`, its columns named as Facts' fields, then
    `extra` more) with the flags of the eligibility rules over it, last."""
    names = [*FACT_COLUMNS, *(f"extra_{i}" for i in range(extra))]
    # (OFFSET 0 keeps the row computed once: the flags read its columns by name)
    return (
        f"SELECT f.*,\n       {row_flags_sql()}\n"
        f"FROM ({_sql(extra_columns, extra_joins)} OFFSET 0) AS f({', '.join(names)})"
    )


def _sql(extra_columns: str, extra_joins: str) -> str:
    """`_READ_SQL` with the eligibility rules' columns, its table names (model metadata)
    and the suspending statuses."""
    rule_facts = ",\n       ".join(rule.fact_sql for rule in FACTS)
    sql = _READ_SQL.replace("{rule_facts}", rule_facts)
    sql = sql.replace("{extra_columns}", extra_columns).replace("{extra_joins}", extra_joins)
    return sql.format(
        **db_tables(
            staff=MerchantStaff,
            consent=Consent,
            home=Offer.eligible_home_cities.through,
            members=Alliance.members.through,
            incident=Incident,
            offer=Offer,
            merchant=Merchant,
            user=User,
            standing=Standing,
            tally=ClaimTally,
            entitlement_tally=EntitlementTally,
            honour=Honour,
            city=City,
            scheme=Scheme,
            record=IdempotencyRecord,
            voucher=Voucher,
        ),
        suspending=", ".join(f"'{status}'" for status in Incident.SUSPENDING),
    )


def _level_in(facts: Facts, city: str) -> tuple[int, list[str]]:
    """The holder's score in `city`'s scheme (-1 when it has none) and, in a grade city,
    the grades they meet: only asked for an offer with a minimum score or grade; the
    conversions come from the same one-minute cache as the offer lists (a miss costs the
    standing and the schemes, a few queries)."""
    holder = User(pk=facts.holder_id, home_city_id=facts.home_city_id)
    standing = Standing.objects.select_related("rule_version__scheme").get(
        pk=present(facts.standing_id)
    )
    who = view_of(holder, standing, consented=facts.consented, honour_kinds="")
    return who.scores.get(city, -1), who.grades.get(city, [])


def offer_reasons(facts: Facts, now: datetime) -> list[Reason]:
    """Why the holder may not use the offer now (incentives.eligibility's rules, in order)."""
    return reasons_of(One(facts, now, lambda: _level_in(facts, present(facts.city_id))))


# --------------------------------------------------------------------------- takes

ABORTED = "XY001"  # the SQLSTATE of xinyou_abort


class Aborted(Exception):
    """The take undid itself (xinyou_abort); `reason` is the message it gave."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RepeatWork(Exception):
    """A take undid itself inside work that `repeatable()` marks: the work's whole
    transaction is broken and must be rolled back and run again."""


# Set (by incentives.idempotency) around work whose transaction its caller rolls back and
# runs again on RepeatWork: a take there whose abort is only a race needs no savepoint.
_REPEATABLE: ContextVar[bool] = ContextVar("repeatable", default=False)


@contextmanager
def repeatable() -> Iterator[None]:
    token = _REPEATABLE.set(True)
    try:
        yield
    finally:
        _REPEATABLE.reset(token)


def run_take(sql: str, params: dict, *, race_only: bool = False) -> tuple:
    """Run one self-contained take statement (PostgreSQL) and return its row. Inside an outer
    transaction (an idempotent request, a test) a savepoint keeps an abort to this
    statement; in autocommit the statement is its own transaction. A take whose abort is
    only a race (`race_only`: nothing a caller answers with) skips the savepoint's two
    round trips in repeatable work, and an abort there is RepeatWork."""
    whole = race_only and connection.in_atomic_block and _REPEATABLE.get()
    guard = transaction.atomic() if connection.in_atomic_block and not whole else nullcontext()
    try:
        with guard, prepared_cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()
    except DatabaseError as exc:
        cause = exc.__cause__
        if isinstance(cause, psycopg.Error) and cause.sqlstate == ABORTED:
            if whole:
                raise RepeatWork(cause.diag.message_primary or "") from None
            raise Aborted(cause.diag.message_primary or "") from None
        raise


# --------------------------------------------------------------------------- refusals


def record_refusal(*, source: str, dest_city: str, reason: str, scenario: str) -> None:
    """Count one refusal (all that a refusal leaves behind: no person, no offer)."""
    table = RefusalCount._meta.db_table
    day = timezone.now().astimezone(TZ).date()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (dest_city_id, day, source, reason, scenario, count) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, 1) "
            "ON CONFLICT (dest_city_id, day, source, reason, scenario) "
            f"DO UPDATE SET count = {table}.count + 1",
            [dest_city, connection.ops.adapt_datefield_value(day), source, reason, scenario],
        )
