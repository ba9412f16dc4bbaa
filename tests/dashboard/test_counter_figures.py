"""Entitlement uses, refusals and incidents on the dashboards equal a direct count over
the raw rows (uses, refusal counts, incidents, vouchers), for every city's staff and the
superuser, over ranges with events on both sides of a midnight; the page and the CSV
carry them."""

import random
from collections import Counter, defaultdict
from datetime import date, time, timedelta

import pytest

from incentives.dashboard.rollup import TZ, rebuild_rollups
from incentives.models import EntitlementUse, Incident, RefusalCount, Voucher
from merchants.models import Offer, Station
from tests.conftest import bearer

from . import factories as f
from .conftest import local

pytestmark = pytest.mark.django_db

CITIES = ("330100", "460100", "310100", "320500")
CLOSED = ("cancelled", "expired", "revoked")
REASONS = ("tier_too_low", "seriously_dishonest", "suspended", "usage_limit_reached")


@pytest.fixture
def counter(history):
    """Entitlement offers beside the history's vouchers, with uses, refusals and incidents
    spread over the window (made directly: these tests count, they do not check passes)."""
    rng = random.Random(1414)
    station = Station.objects.create(name="西湖站", city_id="330100")
    station.merchants.add(history.merchants["hz-boat"], history.merchants["hz-hotel"])
    both = Station.objects.create(name="湖滨站", city_id="330100")
    both.merchants.add(history.merchants["hz-hotel"])
    lanes = []
    for key, scenario in (("hz-hotel", "stay"), ("hk-hotel", "stay"), ("sh-museum", "culture")):
        lanes.append(
            f.offer(
                history.merchants[key],
                kind=Offer.Kind.ENTITLEMENT,
                scenario=scenario,
                benefit_type="deposit_waiver",
                benefit_value=None,
                limit_per_period=9,
                period="day",
            )
        )
    uses = []
    for i in range(150):
        lane = lanes[i % 3]
        holder = rng.choice(history.residents)
        if i < 12:
            day = history.midnight_day
            at = local(day, time(23, 59, 59)) if i % 2 else local(day, time(0, 0))
        else:
            at = local(history.today - timedelta(days=rng.randint(0, 40)), time(rng.randint(0, 23)))
        uses.append(
            EntitlementUse(
                offer=lane,
                resident=holder,
                merchant_id=lane.merchant_id,
                pass_id=i,
                period_start=at.astimezone(TZ).date(),
                used_at=at,
                scenario=lane.scenario,
                category=lane.category,
                dest_city_id=lane.merchant.city_id,
                home_city_id=holder.home_city_id,
            )
        )
    EntitlementUse.objects.bulk_create(uses)
    refusals = Counter()
    for _ in range(120):
        lane = rng.choice(lanes)
        day = history.today - timedelta(days=rng.randint(0, 40))
        key = (lane.merchant.city_id, day, rng.choice(["claim", "pass_check"]))
        refusals[(*key, rng.choice(REASONS), lane.scenario)] += 1
    RefusalCount.objects.bulk_create(
        [
            RefusalCount(dest_city_id=c, day=d, source=s, reason=r, scenario=sc, count=n)
            for (c, d, s, r, sc), n in refusals.items()
        ]
    )
    saved = list(EntitlementUse.objects.order_by("pk"))
    for use in saved[:20]:
        Incident.objects.create(
            merchant_id=use.merchant_id,
            dest_city_id=use.dest_city_id,
            resident_id=use.resident_id,
            offer_id=use.offer_id,
            scenario=use.scenario,
            use=use,
            kind="deposit_default",
            reported_by=f.resident("330100"),
            reported_at=use.used_at + timedelta(hours=1),
        )
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    return history


def _day(at) -> date:
    return at.astimezone(TZ).date()


class Raw:
    """The oracle: direct counts over the raw rows, sharing no code with the selectors."""

    def __init__(self) -> None:
        self.uses = list(EntitlementUse.objects.select_related("offer"))
        self.vouchers = list(Voucher.objects.select_related("offer"))
        self.refusals = list(RefusalCount.objects.all())
        self.incidents = list(Incident.objects.all())
        self.stations = defaultdict(set)
        for station in Station.objects.prefetch_related("merchants"):
            for m in station.merchants.all():
                self.stations[m.pk].add(str(station.pk))

    def summary(self, city, d0, d1) -> dict:
        def mine(c):
            return city is None or c == city

        return {
            "entitlement_uses": sum(
                1 for u in self.uses if mine(u.dest_city_id) and d0 <= _day(u.used_at) <= d1
            ),
            "refusals": sum(
                r.count for r in self.refusals if mine(r.dest_city_id) and d0 <= r.day <= d1
            ),
            "incidents": sum(
                1
                for i in self.incidents
                if mine(i.dest_city_id) and d0 <= _day(i.reported_at) <= d1
            ),
        }

    def by_scenario(self, city, d0, d1) -> dict:
        rows = defaultdict(Counter)
        for u in self.uses:
            if (city is None or u.dest_city_id == city) and d0 <= _day(u.used_at) <= d1:
                rows[u.offer.scenario]["uses"] += 1
        for v in self.vouchers:
            if city is not None and v.dest_city_id != city:
                continue
            if d0 <= _day(v.issued_at) <= d1:
                rows[v.offer.scenario]["claims"] += 1
            if v.redeemed_at and d0 <= _day(v.redeemed_at) <= d1:
                rows[v.offer.scenario]["redemptions"] += 1
            if v.closed_at and v.status in CLOSED and d0 <= _day(v.closed_at) <= d1:
                rows[v.offer.scenario]["closed"] += 1  # a row of its own, counts zero
        return {k: {n: c[n] for n in ("claims", "redemptions", "uses")} for k, c in rows.items()}

    def by_station(self, city, d0, d1) -> dict:
        rows = defaultdict(Counter)
        for u in self.uses:
            if (city is None or u.dest_city_id == city) and d0 <= _day(u.used_at) <= d1:
                for s in self.stations[u.merchant_id]:
                    rows[s]["uses"] += 1
        for v in self.vouchers:
            if city is not None and v.dest_city_id != city:
                continue
            for s in self.stations[v.merchant_id]:
                if d0 <= _day(v.issued_at) <= d1:
                    rows[s]["claims"] += 1
                if v.redeemed_at and d0 <= _day(v.redeemed_at) <= d1:
                    rows[s]["redemptions"] += 1
                if v.closed_at and v.status in CLOSED and d0 <= _day(v.closed_at) <= d1:
                    rows[s]["closed"] += 1
        return {k: {n: c[n] for n in ("claims", "redemptions", "uses")} for k, c in rows.items()}

    def by_reason(self, city, d0, d1) -> dict:
        rows = Counter()
        for r in self.refusals:
            if (city is None or r.dest_city_id == city) and d0 <= r.day <= d1:
                rows[r.reason] += r.count
        return dict(rows)


def _get(client, user, path, **params):
    res = client.get(f"/api/v1/dashboard/{path}", params, **bearer(user))
    assert res.status_code == 200, res.content
    return res.json()


def test_counter_figures_equal_the_raw_rows(counter, staff, admin_user, api_client):
    h = counter
    raw = Raw()
    assert raw.summary(None, h.first_day, h.today)["incidents"] == 20
    ranges = [
        (h.first_day, h.today),
        (h.midnight_day, h.midnight_day),
        (h.midnight_day + timedelta(days=1), h.today),
        (h.today - timedelta(days=6), h.today),
    ]
    scopes = [(staff[c], c) for c in CITIES] + [(admin_user, None), (admin_user, "460100")]
    for d0, d1 in ranges:
        for user, city in scopes:
            params = {"date_from": d0.isoformat(), "date_to": d1.isoformat()}
            if user.is_superuser and city:
                params["city"] = city
            summary = _get(api_client, user, "summary", **params)
            expected = raw.summary(city, d0, d1)
            assert {k: summary[k] for k in expected} == expected, (city, d0, d1)
            assert summary["uses"] == summary["entitlement_uses"]
            rows = _get(api_client, user, "breakdown", by="scenario", **params)
            got = {r["key"]: {n: r[n] for n in ("claims", "redemptions", "uses")} for r in rows}
            assert got == raw.by_scenario(city, d0, d1), (city, d0, d1)
            rows = _get(api_client, user, "breakdown", by="station", **params)
            got = {r["key"]: {n: r[n] for n in ("claims", "redemptions", "uses")} for r in rows}
            assert got == raw.by_station(city, d0, d1), (city, d0, d1)
            rows = _get(api_client, user, "breakdown", by="refusal_reason", **params)
            assert {r["key"]: r["refusals"] for r in rows} == raw.by_reason(city, d0, d1)
            assert all(r["label"] and r["label"] != r["key"] for r in rows)
            rows = _get(api_client, user, "breakdown", by="category", **params)
            assert sum(r["uses"] for r in rows) == summary["entitlement_uses"]


def test_the_page_and_the_csv_show_uses_refusals_and_scenarios(counter, staff, client):
    from tests.factories import PASSWORD

    user = staff["330100"]
    assert client.login(phone=user.phone, password=PASSWORD)
    d0 = counter.first_day.isoformat()
    page = client.get("/dashboard/", {"date_from": d0})
    assert page.status_code == 200
    html = page.content.decode()
    for chart in ('data-chart="scenario"', 'data-chart="refusal_reason"', 'id="stat-uses"'):
        assert chart in html
    summary = page.context["figures"]["summary"]
    assert f'id="stat-refusals">{summary["refusals"]}<' in html
    csv_text = client.get("/dashboard/export.csv", {"date_from": d0}).content.decode("utf-8-sig")
    assert "权益使用" in csv_text and "按场景" in csv_text and "按拒绝原因" in csv_text
    assert f"被拒次数,{summary['refusals']}" in csv_text
    assert f"失信事件,{summary['incidents']}" in csv_text
