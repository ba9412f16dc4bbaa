"""The dashboards' figures counted directly over the raw vouchers, in Python: the
oracle the roll-ups are compared with. Written from the rules in docs/api.md and
incentives/dashboard/rollup.py, sharing no code with them."""

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from incentives.models import Voucher

SH = ZoneInfo("Asia/Shanghai")
KINDS = ("claims", "redemptions", "cancelled", "expired", "revoked")


def _events(v: Voucher):
    yield v.issued_at.astimezone(SH).date(), "claims"
    if v.redeemed_at is not None:
        yield v.redeemed_at.astimezone(SH).date(), "redemptions"
    if v.closed_at is not None and v.status in ("cancelled", "expired", "revoked"):
        yield v.closed_at.astimezone(SH).date(), v.status


class Raw:
    """`members` (an alliance's member cities): the vouchers of offers in those cities
    (narrowed to `city` when given) and, in flows, only the pairs of two members."""

    def __init__(self) -> None:
        self.vouchers = list(
            Voucher.objects.select_related("offer", "merchant").prefetch_related(
                "merchant__stations"
            )
        )

    def _in(self, city, d0, d1, *, flows=False, members=None):
        for v in self.vouchers:
            if city is not None:
                mine = v.dest_city_id == city or (flows and v.home_city_id == city)
                if not mine:
                    continue
            if members is not None:
                if v.dest_city_id not in members:
                    continue
                if flows and v.home_city_id not in members:
                    continue
            for day, kind in _events(v):
                if d0 <= day <= d1:
                    yield v, day, kind

    def summary(self, city, d0, d1, members=None) -> dict:
        events = list(self._in(city, d0, d1, members=members))
        counts = Counter(kind for _v, _d, kind in events)
        residents = {v.resident_id for v, _d, kind in events if kind == "claims"}
        out: dict[str, Any] = {k: counts[k] for k in KINDS}
        out["unique_residents"] = len(residents)
        out["redemption_rate"] = (
            round(out["redemptions"] / out["claims"], 4) if out["claims"] else None
        )
        return out

    def series(self, city, d0, d1, interval, members=None) -> list[dict]:
        def start(day: date) -> date:
            if interval == "week":
                return day - timedelta(days=day.weekday())
            if interval == "month":
                return day.replace(day=1)
            return day

        buckets: dict[date, Counter] = {}
        day = d0
        while day <= d1:
            buckets.setdefault(start(day), Counter())
            day += timedelta(days=1)
        for _v, day, kind in self._in(city, d0, d1, members=members):
            buckets[start(day)][kind] += 1
        return [
            {"period": p.isoformat(), **{k: c[k] for k in KINDS}}
            for p, c in sorted(buckets.items())
        ]

    def breakdown(self, city, d0, d1, by, members=None) -> dict[str, dict]:
        keys = {
            "category": lambda v: [v.category],
            "merchant": lambda v: [str(v.merchant_id)],
            "offer": lambda v: [str(v.offer_id)],
            "home_city": lambda v: [v.home_city_id],
            "scenario": lambda v: [v.offer.scenario],  # the offer's scenario now
            # a merchant in two stations counts in both, one in none in neither
            "station": lambda v: [str(s.pk) for s in v.merchant.stations.all()],
        }[by]
        rows: dict[str, Counter] = defaultdict(Counter)
        for v, _d, kind in self._in(city, d0, d1, members=members):
            for key in keys(v):
                rows[key][kind] += 1
        return {k: {kind: c[kind] for kind in KINDS} for k, c in rows.items()}

    def flows(self, city, d0, d1, members=None) -> dict[tuple[str, str], dict]:
        rows: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for v, _d, kind in self._in(city, d0, d1, flows=True, members=members):
            rows[(v.home_city_id, v.dest_city_id)][kind] += 1
        return {k: {kind: c[kind] for kind in KINDS} for k, c in rows.items()}
