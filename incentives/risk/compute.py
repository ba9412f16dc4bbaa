"""The six risk signals of one day, found in the rows (set-based SQL, one query or two a
kind). Each finder returns `Found` patterns: what the signal says (`facts`, rendered into
words by `explain`), the rows behind it and the resident or voucher concerned.

A redemption counts on the day it was scanned (offline rows by their scan time, online
ones when the server recorded them), in the city of its merchant. Thresholds are the
settings RISK_* (config/settings/base.py), read at each run.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from ipaddress import ip_network
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model

from accounts.identity import mask_name, mask_phone
from accounts.models import SignupEvent, User
from merchants.models import Merchant, Offer

from ..dashboard.rollup import TZ
from ..vouchers.models import OfflineRedemption, Redemption, Voucher
from .geo import distance_km

# How long after its scan an offline redemption may reach the server (scanners keep their
# queue for days): the day's scans are looked for among rows recorded up to this later.
SYNC_LAG = timedelta(days=3)


def setting(name: str) -> Any:
    return getattr(settings, name)


@dataclass
class Found:
    kind: str
    key: str  # what makes the pattern one (with kind, city and day): the fingerprint
    subject: str
    facts: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    city: str | None = None
    resident_id: int | None = None
    voucher_id: int | None = None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=TZ)
    return start, start + timedelta(days=1)


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _local(at: datetime) -> str:
    return at.astimezone(TZ).isoformat(timespec="seconds")


def _masked_code(code: str) -> str:
    return "…" + code[-4:]


def _t(model: type[Model]) -> str:
    return model._meta.db_table


# The day's redemptions in a city's merchants: id, staff, device, merchant, voucher,
# resident, offer, scan time (`at`), code. Parameters: city, lo, hi, lag.
_DAY = f"""
    SELECT r.id, r.staff_id, r.device_id, r.merchant_id, r.voucher_id, v.resident_id,
           v.offer_id, v.code, COALESCE(r.scanned_at, r.redeemed_at) AS at
      FROM {_t(Redemption)} r
      JOIN {_t(Merchant)} m ON m.id = r.merchant_id AND m.city_id = %(city)s
      JOIN {_t(Voucher)} v ON v.id = r.voucher_id
     WHERE r.redeemed_at >= %(lo)s AND r.redeemed_at < %(hi)s + %(lag)s
       AND COALESCE(r.scanned_at, r.redeemed_at) >= %(lo)s
       AND COALESCE(r.scanned_at, r.redeemed_at) < %(hi)s
"""  # noqa: S608  (table names from model metadata)


def _params(city: str, day: date, **more: Any) -> dict[str, Any]:
    lo, hi = day_bounds(day)
    return {"city": city, "lo": lo, "hi": hi, "lag": SYNC_LAG, **more}


def _people(ids: set[int]) -> dict[int, str]:
    """Clerks named as city staff know them: masked name and phone."""
    return {
        u.pk: f"{mask_name(u.real_name) or '-'} {mask_phone(u.phone)}"
        for u in User.objects.filter(pk__in=ids).only("pk", "real_name", "phone")
    }


def _merchant_names(ids: set[int]) -> dict[int, str]:
    return dict(Merchant.objects.filter(pk__in=ids).values_list("pk", "name"))


def _offer_titles(ids: set[int]) -> dict[int, str]:
    return dict(Offer.objects.filter(pk__in=ids).values_list("pk", "title"))


def _redemption_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The rows a signal points at, as a city official reads them (at most RISK_MAX_ROWS)."""
    ids = ids[: setting("RISK_MAX_ROWS")]
    found = _fetch(
        f"""SELECT r.id, COALESCE(r.scanned_at, r.redeemed_at) AS at, r.scanned_at IS NOT NULL
                   AS offline, r.device_id, v.code, o.title, m.name AS merchant,
                   v.dest_city_id AS city
              FROM {_t(Redemption)} r JOIN {_t(Voucher)} v ON v.id = r.voucher_id
              JOIN {_t(Offer)} o ON o.id = v.offer_id
              JOIN {_t(Merchant)} m ON m.id = r.merchant_id
             WHERE r.id = ANY(%(ids)s) ORDER BY 2, 1""",  # noqa: S608  (table names from model metadata)
        {"ids": ids},
    )
    return [
        {
            "type": "redemption",
            "id": row["id"],
            "at": _local(row["at"]),
            "voucher": _masked_code(row["code"]),
            "offer": row["title"],
            "merchant": row["merchant"],
            "city": row["city"],
            "offline": row["offline"],
            "device": row["device_id"],
        }
        for row in found
    ]


# ----------------------------------------------------------------------- clerk_rate


def clerk_rate(city: str, day: date) -> list[Found]:
    """A clerk whose busiest minute or hour of the day is far above their own usual: the
    95th percentile of their busy minutes and hours over the trailing 30 days, times
    RISK_CLERK_FACTOR, and never below RISK_CLERK_PER_MINUTE / RISK_CLERK_PER_HOUR."""
    peaks = _fetch(
        f"""
        WITH day AS ({_DAY}),
        minute AS (SELECT staff_id, merchant_id, date_trunc('minute', at) AS t, count(*) AS n
                     FROM day GROUP BY 1, 2, 3),
        hour AS (SELECT staff_id, merchant_id, date_trunc('hour', at) AS t, count(*) AS n
                   FROM day GROUP BY 1, 2, 3),
        peak AS (
            (SELECT DISTINCT ON (staff_id, merchant_id) 'minute' AS unit, staff_id,
                    merchant_id, t, n FROM minute ORDER BY staff_id, merchant_id, n DESC, t)
            UNION ALL
            (SELECT DISTINCT ON (staff_id, merchant_id) 'hour', staff_id, merchant_id, t, n
               FROM hour ORDER BY staff_id, merchant_id, n DESC, t)
        ),
        past AS (
            SELECT r.staff_id, COALESCE(r.scanned_at, r.redeemed_at) AS at
              FROM {_t(Redemption)} r
             WHERE r.staff_id IN (SELECT DISTINCT staff_id FROM day)
               AND r.redeemed_at >= %(lo)s - interval '30 days' AND r.redeemed_at < %(lo)s
               AND COALESCE(r.scanned_at, r.redeemed_at) < %(lo)s
        ),
        usual AS (
            SELECT 'minute' AS unit, staff_id, percentile_cont(0.95) WITHIN GROUP (ORDER BY n)
                   AS p95, max(n) AS top
              FROM (SELECT staff_id, count(*) AS n FROM past
                     GROUP BY staff_id, date_trunc('minute', at)) x GROUP BY staff_id
            UNION ALL
            SELECT 'hour', staff_id, percentile_cont(0.95) WITHIN GROUP (ORDER BY n), max(n)
              FROM (SELECT staff_id, count(*) AS n FROM past
                     GROUP BY staff_id, date_trunc('hour', at)) x GROUP BY staff_id
        )
        SELECT p.unit, p.staff_id, p.merchant_id, p.t, p.n, u.p95, u.top,
               (SELECT array_agg(d.id ORDER BY d.at) FROM day d
                 WHERE d.staff_id = p.staff_id AND d.merchant_id = p.merchant_id
                   AND date_trunc(p.unit, d.at) = p.t) AS ids
          FROM peak p LEFT JOIN usual u ON u.unit = p.unit AND u.staff_id = p.staff_id
        """,  # noqa: S608  (table names from model metadata)
        _params(city, day),
    )
    factor = setting("RISK_CLERK_FACTOR")
    floors = {"minute": setting("RISK_CLERK_PER_MINUTE"), "hour": setting("RISK_CLERK_PER_HOUR")}
    fired = [p for p in peaks if p["n"] > max(floors[p["unit"]], factor * float(p["p95"] or 0))]
    people = _people({p["staff_id"] for p in fired})
    merchants = _merchant_names({p["merchant_id"] for p in fired})
    found: dict[tuple[int, int], Found] = {}
    for p in sorted(fired, key=lambda p: p["unit"] != "minute"):
        key = (p["staff_id"], p["merchant_id"])
        facts = {
            "unit": p["unit"],
            "clerk": people.get(p["staff_id"], "-"),
            "merchant": merchants.get(p["merchant_id"], "-"),
            "at": _local(p["t"]),
            "count": p["n"],
            "usual": round(float(p["p95"] or 0), 1),
            "top": p["top"] or 0,
            "threshold": max(floors[p["unit"]], factor * float(p["p95"] or 0)),
        }
        if key in found:  # the minute and the hour both: one signal, the hour's facts beside
            found[key].facts["hour"] = facts
            continue
        found[key] = Found(
            kind="clerk_rate",
            key=f"{p['staff_id']}:{p['merchant_id']}",
            subject=f"{facts['clerk']} · {facts['merchant']}",
            facts=facts,
            rows=_redemption_rows(p["ids"]),
        )
    return list(found.values())


# ----------------------------------------------------------------------- outside_hours


def outside_hours(city: str, day: date) -> list[Found]:
    """Redemptions scanned outside the offer's validity window or the merchant's stated
    opening hours (closing before opening: open past midnight), one signal per offer."""
    rows = _fetch(
        f"""
        WITH day AS ({_DAY}),
        judged AS (
            SELECT d.id, d.offer_id, d.merchant_id, d.at,
                   (d.at AT TIME ZONE 'Asia/Shanghai')::time AS clock,
                   d.at < o.valid_from OR d.at > o.valid_until AS outside_validity,
                   m.opens_at, m.closes_at
              FROM day d JOIN {_t(Offer)} o ON o.id = d.offer_id
              JOIN {_t(Merchant)} m ON m.id = d.merchant_id
        )
        SELECT offer_id, merchant_id, opens_at, closes_at,
               count(*) FILTER (WHERE outside_validity) AS outside_validity,
               count(*) FILTER (WHERE NOT outside_validity) AS outside_hours,
               array_agg(id ORDER BY at) AS ids
          FROM judged
         WHERE outside_validity
            OR (opens_at IS NOT NULL AND CASE WHEN opens_at < closes_at
                    THEN NOT (clock >= opens_at AND clock < closes_at)
                    ELSE NOT (clock >= opens_at OR clock < closes_at) END)
         GROUP BY offer_id, merchant_id, opens_at, closes_at
        """,  # noqa: S608  (table names from model metadata)
        _params(city, day),
    )
    titles = _offer_titles({r["offer_id"] for r in rows})
    merchants = _merchant_names({r["merchant_id"] for r in rows})
    return [
        Found(
            kind="outside_hours",
            key=str(r["offer_id"]),
            subject=f"{titles.get(r['offer_id'], '-')} · {merchants.get(r['merchant_id'], '-')}",
            facts={
                "offer": titles.get(r["offer_id"], "-"),
                "merchant": merchants.get(r["merchant_id"], "-"),
                "outside_validity": r["outside_validity"],
                "outside_hours": r["outside_hours"],
                "hours": (f"{r['opens_at']:%H:%M}–{r['closes_at']:%H:%M}" if r["opens_at"] else ""),
            },
            rows=_redemption_rows(r["ids"]),
        )
        for r in rows
    ]


# ----------------------------------------------------------------------- device_many_residents

# A device: the scanner's own id (offline-capable scanners send one), else the clerk's login.
_DEVICE = "COALESCE(NULLIF(device_id, ''), 'staff:' || staff_id)"
# Ten-minute windows, twice (shifted by five minutes), so that no burst falls between two.
_WINDOWS = """to_timestamp(floor((extract(epoch FROM at) + s.shift) / 600) * 600 - s.shift)"""


def device_many_residents(city: str, day: date) -> list[Found]:
    """One device redeeming the vouchers of more distinct residents within ten minutes than
    the merchant's queue allows: above RISK_DEVICE_RESIDENTS and above RISK_DEVICE_FACTOR
    times the merchant's busiest usual ten minutes (its 99th percentile over 30 days)."""
    rows = _fetch(
        f"""
        WITH day AS ({_DAY}),
        win AS (
            SELECT merchant_id, {_DEVICE} AS device, {_WINDOWS} AS t,
                   count(DISTINCT resident_id) AS residents, array_agg(id ORDER BY at) AS ids
              FROM day, (VALUES (0), (300)) s(shift)
             GROUP BY 1, 2, 3
        ),
        peak AS (SELECT DISTINCT ON (merchant_id, device) * FROM win
                  ORDER BY merchant_id, device, residents DESC, t),
        past AS (
            SELECT r.merchant_id, COALESCE(NULLIF(r.device_id, ''), 'staff:' || r.staff_id)
                   AS device, COALESCE(r.scanned_at, r.redeemed_at) AS at, v.resident_id
              FROM {_t(Redemption)} r JOIN {_t(Voucher)} v ON v.id = r.voucher_id
             WHERE r.merchant_id IN (SELECT merchant_id FROM peak)
               AND r.redeemed_at >= %(lo)s - interval '30 days' AND r.redeemed_at < %(lo)s
        ),
        usual AS (
            SELECT merchant_id, percentile_cont(0.99) WITHIN GROUP (ORDER BY n) AS p99
              FROM (SELECT merchant_id, count(DISTINCT resident_id) AS n FROM past
                     GROUP BY merchant_id, device,
                              to_timestamp(floor(extract(epoch FROM at) / 600) * 600)) x
             GROUP BY merchant_id
        )
        SELECT p.*, u.p99 FROM peak p LEFT JOIN usual u USING (merchant_id)
        """,  # noqa: S608  (table names from model metadata)
        _params(city, day),
    )
    floor_, factor = setting("RISK_DEVICE_RESIDENTS"), setting("RISK_DEVICE_FACTOR")
    fired = [r for r in rows if r["residents"] > max(floor_, factor * float(r["p99"] or 0))]
    merchants = _merchant_names({r["merchant_id"] for r in fired})
    people = _people({int(r["device"][6:]) for r in fired if r["device"].startswith("staff:")})

    def device_name(device: str) -> str:
        return people.get(int(device[6:]), "-") if device.startswith("staff:") else device

    return [
        Found(
            kind="device_many_residents",
            key=f"{r['merchant_id']}:{r['device']}",
            subject=f"{device_name(r['device'])} · {merchants.get(r['merchant_id'], '-')}",
            facts={
                "device": device_name(r["device"]),
                "merchant": merchants.get(r["merchant_id"], "-"),
                "at": _local(r["t"]),
                "residents": r["residents"],
                "usual": round(float(r["p99"] or 0), 1),
            },
            rows=_redemption_rows(r["ids"]),
        )
        for r in fired
    ]


# ----------------------------------------------------------------------- merchant_conflict_rate


def merchant_conflict_rate(city: str, day: date) -> list[Found]:
    """Over the seven days ending `day` (offline rows by scan time): a merchant whose
    offline-conflict rate or refused-scan rate is at least RISK_MERCHANT_FACTOR times the
    rest of its city's and RISK_MERCHANT_MARGIN above it, with RISK_MERCHANT_MIN_ROWS rows
    and RISK_MERCHANT_MIN_EVENTS such events at least. Refused: a row the server turned
    away (not this merchant's voucher, unknown, invalid, expired, revoked, cancelled)."""
    lo, hi = day_bounds(day)
    rows = _fetch(
        f"""
        SELECT merchant_id, count(*) AS total,
               count(*) FILTER (WHERE conflict) AS conflicts,
               count(*) FILTER (WHERE outcome NOT IN ('redeemed', 'already_redeemed'))
                   AS refused,
               bool_or(scanned_at >= %(lo)s) AS today
          FROM {_t(OfflineRedemption)}
         WHERE city_id = %(city)s AND scanned_at >= %(lo)s - interval '6 days'
           AND scanned_at < %(hi)s
         GROUP BY merchant_id
        """,  # noqa: S608  (table names from model metadata)
        {"city": city, "lo": lo, "hi": hi},
    )
    total = sum(r["total"] for r in rows)
    sums = {m: sum(r[m] for r in rows) for m in ("conflicts", "refused")}
    factor, margin = setting("RISK_MERCHANT_FACTOR"), setting("RISK_MERCHANT_MARGIN")
    min_rows, min_events = setting("RISK_MERCHANT_MIN_ROWS"), setting("RISK_MERCHANT_MIN_EVENTS")
    fired: list[tuple[dict[str, Any], str, float, float]] = []
    for r in rows:
        if not r["today"] or r["total"] < min_rows or total - r["total"] < min_rows:
            continue  # (nothing to compare with: the rest of the city has too few rows)
        others_total = total - r["total"]
        for measure in ("conflicts", "refused"):
            rate = r[measure] / r["total"]
            others = (sums[measure] - r[measure]) / others_total if others_total else 0.0
            if r[measure] >= min_events and rate >= factor * others and rate >= others + margin:
                fired.append((r, measure, rate, others))
    merchants = _merchant_names({r["merchant_id"] for r, *_ in fired})
    found = []
    for r, measure, rate, others in fired:
        ids = list(
            OfflineRedemption.objects.filter(
                merchant_id=r["merchant_id"],
                scanned_at__gte=lo - timedelta(days=6),
                scanned_at__lt=hi,
                **({"conflict": True} if measure == "conflicts" else {}),
            )
            .exclude(**({} if measure == "conflicts" else {"outcome__in": _NOT_REFUSED}))
            .order_by("scanned_at")
            .values("pk", "scanned_at", "outcome", "device_id")[: setting("RISK_MAX_ROWS")]
        )
        found.append(
            Found(
                kind="merchant_conflict_rate",
                key=f"{r['merchant_id']}:{measure}",
                subject=merchants.get(r["merchant_id"], "-"),
                facts={
                    "merchant": merchants.get(r["merchant_id"], "-"),
                    "measure": measure,
                    "events": r[measure],
                    "total": r["total"],
                    "rate": round(rate, 4),
                    "city_rate": round(others, 4),
                    "days": 7,
                },
                rows=[
                    {
                        "type": "offline_redemption",
                        "id": row["pk"],
                        "at": _local(row["scanned_at"]),
                        "outcome": row["outcome"],
                        "device": row["device_id"],
                    }
                    for row in ids
                ],
            )
        )
    return found


_NOT_REFUSED = ("redeemed", "already_redeemed")


# ----------------------------------------------------------------------- impossible_travel


def impossible_travel(city: str, day: date) -> list[Found]:
    """A resident's voucher redeemed here on `day` and another in a different city shortly
    before, too far apart for the time between: at RISK_TRAVEL_KMH (high-speed rail or a
    flight door to door) plus RISK_TRAVEL_SLACK_HOURS to get to and from stations."""
    here = _fetch(
        f"""
        WITH day AS ({_DAY})
        SELECT d.resident_id FROM day d GROUP BY d.resident_id
        """,  # noqa: S608  (table names from model metadata)
        _params(city, day),
    )
    residents = [r["resident_id"] for r in here]
    if not residents:
        return []
    lo, hi = day_bounds(day)
    window = timedelta(days=2)
    rows = _fetch(
        f"""
        SELECT r.id, v.resident_id, v.id AS voucher_id, v.dest_city_id AS city,
               COALESCE(r.scanned_at, r.redeemed_at) AS at
          FROM {_t(Redemption)} r JOIN {_t(Voucher)} v ON v.id = r.voucher_id
         WHERE v.resident_id = ANY(%(residents)s)
           AND r.redeemed_at >= %(from)s AND r.redeemed_at < %(hi)s + %(lag)s
           AND COALESCE(r.scanned_at, r.redeemed_at) >= %(from)s
           AND COALESCE(r.scanned_at, r.redeemed_at) < %(hi)s
         ORDER BY v.resident_id, at, r.id
        """,  # noqa: S608  (table names from model metadata)
        {"residents": residents, "from": lo - window, "hi": hi, "lag": SYNC_LAG},
    )
    speed, slack = setting("RISK_TRAVEL_KMH"), setting("RISK_TRAVEL_SLACK_HOURS")
    by_resident: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_resident[row["resident_id"]].append(row)
    fired: list[tuple[dict[str, Any], dict[str, Any], float]] = []
    for seq in by_resident.values():
        for before, after in pairwise(seq):
            if after["city"] != city or not (lo <= after["at"] < hi):
                continue
            km = distance_km(before["city"], after["city"])
            if not km:
                continue
            hours = (after["at"] - before["at"]).total_seconds() / 3600
            if hours < km / speed + slack:
                fired.append((before, after, km))
    if not fired:
        return []
    people = {
        u.pk: u
        for u in User.objects.filter(pk__in={a["resident_id"] for _b, a, _k in fired}).only(
            "pk", "real_name", "phone"
        )
    }
    from accounts.models import City

    names = dict(City.objects.values_list("code", "name"))
    found = []
    for before, after, km in fired:
        person = people.get(after["resident_id"])
        who = f"{mask_name(person.real_name) or '-'} {mask_phone(person.phone)}" if person else "-"
        minutes = round((after["at"] - before["at"]).total_seconds() / 60)
        found.append(
            Found(
                kind="impossible_travel",
                key=f"{after['resident_id']}:{after['id']}",
                subject=who,
                facts={
                    "resident": who,
                    "from_city": names.get(before["city"], before["city"]),
                    "to_city": names.get(after["city"], after["city"]),
                    "km": round(km),
                    "minutes": minutes,
                    "needed_minutes": round((km / speed + slack) * 60),
                },
                rows=_redemption_rows([before["id"], after["id"]]),
                resident_id=after["resident_id"],
                voucher_id=after["voucher_id"],
            )
        )
    return found


# ----------------------------------------------------------------------- signup_burst


def _prefix(address: str) -> str:
    net = ip_network(f"{address}/{24 if ':' not in address else 48}", strict=False)
    return str(net)


def signup_burst(day: date) -> list[Found]:
    """SMS-code requests and registrations of the day from one address above
    RISK_SIGNUP_PER_ADDRESS, or from one network prefix (/24, IPv6 /48) above
    RISK_SIGNUP_PER_PREFIX, within ten minutes. The city is the home city most of the
    burst's registrations asked for (none: a national signal, for superusers)."""
    lo, hi = day_bounds(day)
    events: list[dict[str, Any]] = [
        dict(e)
        for e in SignupEvent.objects.filter(at__gte=lo, at__lt=hi, client_ip__isnull=False)
        .order_by("at", "pk")
        .values("pk", "kind", "at", "client_ip", "city_code")
    ]
    limits = {
        "address": setting("RISK_SIGNUP_PER_ADDRESS"),
        "prefix": setting("RISK_SIGNUP_PER_PREFIX"),
    }
    windows: dict[tuple[str, str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        epoch = int(e["at"].timestamp())
        for shift in (0, 300):
            bucket = (epoch + shift) // 600
            windows[("address", e["client_ip"], shift, bucket)].append(e)
            windows[("prefix", _prefix(e["client_ip"]), shift, bucket)].append(e)
    best: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (scope, source, _shift, _bucket), rows in windows.items():
        if len(rows) > limits[scope] and len(rows) > len(best.get((scope, source), [])):
            best[(scope, source)] = rows
    # a prefix whose burst is one address's burst says nothing more
    addresses = {source for scope, source in best if scope == "address"}
    found = []
    for (scope, source), rows in best.items():
        if scope == "prefix" and {r["client_ip"] for r in rows} <= addresses:
            continue
        cities = Counter(r["city_code"] for r in rows if r["city_code"])
        kinds = Counter(r["kind"] for r in rows)
        found.append(
            Found(
                kind="signup_burst",
                key=f"{scope}:{source}",
                subject=source,
                city=cities.most_common(1)[0][0] if cities else None,
                facts={
                    "scope": scope,
                    "source": source,
                    "count": len(rows),
                    "sms_codes": kinds.get("sms_code", 0),
                    "registrations": kinds.get("register", 0),
                    "addresses": len({r["client_ip"] for r in rows}),
                    "at": _local(rows[0]["at"]),
                    "threshold": limits[scope],
                },
                rows=[
                    {"type": "signup", "id": r["pk"], "at": _local(r["at"]), "kind": r["kind"]}
                    for r in rows[: setting("RISK_MAX_ROWS")]
                ],
            )
        )
    return found


CITY_FINDERS = (
    clerk_rate,
    outside_hours,
    device_many_residents,
    merchant_conflict_rate,
    impossible_travel,
)
