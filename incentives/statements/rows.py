"""The SQL that reads a month's statement rows from the raw tables, shared by the close
(services) and the live view of an open month (selectors). One place: the rules of what a
statement counts are written once.

A month is an Asia/Shanghai calendar month. A row belongs to the month in which the
server recorded it: a redemption by `redeemed_at` (for an offline one: when the scanner
synced), an entitlement use by `used_at`, an offline conflict by `synced_at`. So a late
sync never lands in a month that is already closed.

Face value: the discount the offer states, from the voucher's terms as claimed (an
entitlement use: the offer's current terms): `amount_off` its amount; `percent_off` that
percentage of a stated `list_price`; `fixed_price` the stated `list_price` less the price;
`free_entry` the stated `list_price`. Without a stated price it is NULL (empty, not 0), and
so is every other kind of benefit (deposit waivers, priority lanes, gifts…).
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

REDEMPTION, ENTITLEMENT_USE, CONFLICT = 1, 2, 3

# the columns of rows_sql(), in order
COLUMNS = (
    "merchant_id",
    "kind",
    "source_id",
    "offer_id",
    "occurred_at",
    "synced_at",
    "code_last4",
    "clerk",
    "offline",
    "face_value",
    "recorded_at",
)


def month_start(month: date) -> datetime:
    """The aware instant at which `month` (its first day) begins in Asia/Shanghai."""
    return datetime.combine(month.replace(day=1), time.min, tzinfo=TZ)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _face_sql(benefit: str, value: str, price: str) -> str:
    return f"""CASE {benefit}
        WHEN 'amount_off' THEN {value}
        WHEN 'percent_off' THEN round({price} * {value} / 100, 2)
        WHEN 'fixed_price' THEN GREATEST({price} - {value}, 0)
        WHEN 'free_entry' THEN {price}
    END"""


def _numeric(expr: str) -> str:
    # a terms value as a number, or NULL when it is missing or not a plain decimal
    return f"CASE WHEN ({expr}) ~ '^[0-9]{{1,10}}(\\.[0-9]{{1,2}})?$' THEN ({expr})::numeric END"


_VOUCHER_FACE = _face_sql(
    "v.terms->>'benefit_type'",
    _numeric("v.terms->>'benefit_value'"),
    _numeric("v.terms->>'list_price'"),
)
_OFFER_FACE = _face_sql("o.benefit_type", "o.benefit_value", "NULL::numeric")


def _clerk(alias: str, staff_column: str) -> str:
    return f"COALESCE(NULLIF({alias}.real_name, ''), '#' || {staff_column}::text, '')"


def rows_sql() -> str:
    """Every statement row of the merchants `%(merchants)s` (an array of ids) recorded in
    [`%(start)s`, `%(end)s`): redemptions, entitlement uses and offline conflicts."""
    return f"""
    SELECT r.merchant_id, {REDEMPTION} AS kind, r.id AS source_id, v.offer_id,
           COALESCE(r.scanned_at, r.redeemed_at) AS occurred_at,
           CASE WHEN r.scanned_at IS NOT NULL THEN r.redeemed_at END AS synced_at,
           right(v.code, 4) AS code_last4, {_clerk("u", "r.staff_id")} AS clerk,
           r.scanned_at IS NOT NULL AS offline, {_VOUCHER_FACE} AS face_value,
           r.redeemed_at AS recorded_at
      FROM incentives_redemption r
      JOIN incentives_voucher v ON v.id = r.voucher_id
      LEFT JOIN accounts_user u ON u.id = r.staff_id
     WHERE r.merchant_id = ANY(%(merchants)s)
       AND r.redeemed_at >= %(start)s AND r.redeemed_at < %(end)s
    UNION ALL
    SELECT e.merchant_id, {ENTITLEMENT_USE}, e.id, e.offer_id, e.used_at, NULL, '',
           {_clerk("u", "e.staff_id")}, false, {_OFFER_FACE}, e.used_at
      FROM incentives_entitlementuse e
      JOIN merchants_offer o ON o.id = e.offer_id
      LEFT JOIN accounts_user u ON u.id = e.staff_id
     WHERE e.merchant_id = ANY(%(merchants)s)
       AND e.used_at >= %(start)s AND e.used_at < %(end)s
    UNION ALL
    SELECT x.merchant_id, {CONFLICT}, x.id, v.offer_id, x.scanned_at, x.synced_at,
           COALESCE(right(v.code, 4), ''), {_clerk("u", "x.staff_id")}, true, NULL,
           x.synced_at
      FROM incentives_offlineredemption x
      LEFT JOIN incentives_voucher v ON v.id = x.voucher_id
      LEFT JOIN accounts_user u ON u.id = x.staff_id
     WHERE x.conflict AND x.merchant_id = ANY(%(merchants)s)
       AND x.synced_at >= %(start)s AND x.synced_at < %(end)s
    """  # noqa: S608


# totals per merchant and offer of a set of rows (an alias `r` of rows_sql's columns)
AGGREGATES = f"""
    count(*) FILTER (WHERE r.kind = {REDEMPTION}) AS redemptions,
    count(*) FILTER (WHERE r.kind = {ENTITLEMENT_USE}) AS entitlement_uses,
    count(*) FILTER (WHERE r.kind = {CONFLICT}) AS conflicts,
    sum(r.face_value) FILTER (WHERE r.kind IN ({REDEMPTION}, {ENTITLEMENT_USE})) AS face_value
"""

# the month of a row, as a date (first day), in Asia/Shanghai
ROW_MONTH = "date_trunc('month', r.recorded_at AT TIME ZONE 'Asia/Shanghai')::date"


def corrections_sql() -> str:
    """Per merchant of `%(merchants)s`, closed month in [`%(from_month)s`, `%(to_month)s`)
    and offer: what the raw rows now say less what the closed statement froze and the
    adjustments already made for it. Only non-zero differences. `%(start)s`/`%(end)s` are
    the instants of the two month bounds."""
    return f"""
    WITH closed AS (
        SELECT s.id, s.merchant_id, s.month FROM incentives_statement s
         WHERE s.merchant_id = ANY(%(merchants)s) AND s.checksum <> ''
           AND s.month >= %(from_month)s AND s.month < %(to_month)s
    ), raw AS (
        SELECT r.merchant_id, {ROW_MONTH} AS of_month, r.offer_id, {AGGREGATES}
          FROM ({rows_sql()}) r
         GROUP BY 1, 2, 3
    ), frozen AS (
        SELECT c.merchant_id, c.month AS of_month, l.offer_id, l.redemptions,
               l.entitlement_uses, l.conflicts, l.face_value
          FROM closed c JOIN incentives_statementline l ON l.statement_id = c.id
    ), adjusted AS (
        SELECT s.merchant_id, a.of_month, a.offer_id,
               sum(a.redemptions) AS redemptions, sum(a.entitlement_uses) AS entitlement_uses,
               sum(a.conflicts) AS conflicts, sum(a.face_value) AS face_value
          FROM incentives_statementadjustment a
          JOIN incentives_statement s ON s.id = a.statement_id
         WHERE s.merchant_id = ANY(%(merchants)s)
           AND a.of_month >= %(from_month)s AND a.of_month < %(to_month)s
         GROUP BY 1, 2, 3
    ), keys AS (
        SELECT merchant_id, of_month, offer_id FROM raw
        UNION SELECT merchant_id, of_month, offer_id FROM frozen
        UNION SELECT merchant_id, of_month, offer_id FROM adjusted
    ), diff AS (
        SELECT k.merchant_id, k.of_month, k.offer_id,
               COALESCE(w.redemptions, 0) - COALESCE(f.redemptions, 0)
                   - COALESCE(a.redemptions, 0) AS redemptions,
               COALESCE(w.entitlement_uses, 0) - COALESCE(f.entitlement_uses, 0)
                   - COALESCE(a.entitlement_uses, 0) AS entitlement_uses,
               COALESCE(w.conflicts, 0) - COALESCE(f.conflicts, 0)
                   - COALESCE(a.conflicts, 0) AS conflicts,
               CASE WHEN w.face_value IS NULL AND f.face_value IS NULL
                         AND a.face_value IS NULL THEN NULL
                    ELSE COALESCE(w.face_value, 0) - COALESCE(f.face_value, 0)
                         - COALESCE(a.face_value, 0) END AS face_value
          FROM keys k
          JOIN closed c ON c.merchant_id = k.merchant_id AND c.month = k.of_month
          LEFT JOIN raw w ON w.merchant_id = k.merchant_id AND w.of_month = k.of_month
               AND w.offer_id IS NOT DISTINCT FROM k.offer_id
          LEFT JOIN frozen f ON f.merchant_id = k.merchant_id AND f.of_month = k.of_month
               AND f.offer_id IS NOT DISTINCT FROM k.offer_id
          LEFT JOIN adjusted a ON a.merchant_id = k.merchant_id AND a.of_month = k.of_month
               AND a.offer_id IS NOT DISTINCT FROM k.offer_id
    )
    SELECT d.merchant_id, d.of_month, d.offer_id, d.redemptions, d.entitlement_uses,
           d.conflicts, d.face_value
      FROM diff d
     WHERE d.redemptions <> 0 OR d.entitlement_uses <> 0 OR d.conflicts <> 0
           OR COALESCE(d.face_value, 0) <> 0
    """  # noqa: S608
