"""Every endpoint's answer from the roll-ups equals a direct count over the vouchers:
every status, claims cancelled later, events on both sides of midnight, late events."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from incentives.dashboard.models import (
    CityDay,
    CityMonth,
    CityPairDay,
    CityPairMonth,
    CityTotalDay,
    ClaimantSet,
    DirtyDay,
    OfferDay,
    OfferMonth,
)
from incentives.dashboard.rollup import mark_days_dirty, rebuild_rollups, refresh_recent_rollups
from incentives.models import Voucher
from incentives.tasks import refresh_dashboard_rollups
from tests.conftest import bearer

from . import factories as f
from .reference import KINDS, SH, Raw

pytestmark = pytest.mark.django_db

CITIES = ("330100", "460100", "310100", "320500")


def _get(client, user, path, **params):
    response = client.get(f"/api/v1/dashboard/{path}", params, **bearer(user))
    assert response.status_code == 200, response.content
    return response.json()


def _counts(row):
    return {k: row[k] for k in KINDS}


def assert_all_endpoints_match(client, user, city, d0, d1):
    raw = Raw()
    params = {"date_from": d0.isoformat(), "date_to": d1.isoformat()}
    if user.is_superuser and city:
        params["city"] = city

    summary = _get(client, user, "summary", **params)
    expected = raw.summary(city, d0, d1)
    assert {k: summary[k] for k in expected} == expected, (city, d0, d1)

    for interval in ("day", "week", "month"):
        rows = _get(client, user, "series", interval=interval, **params)
        got = [{"period": r["period"], **_counts(r)} for r in rows]
        assert got == raw.series(city, d0, d1, interval), (city, interval, d0, d1)

    for by in ("category", "merchant", "offer", "home_city"):
        rows = _get(client, user, "breakdown", by=by, **params)
        assert {r["key"]: _counts(r) for r in rows} == raw.breakdown(city, d0, d1, by), by
        for r in rows:
            want = round(r["redemptions"] / r["claims"], 4) if r["claims"] else None
            assert r["redemption_rate"] == want

    rows = _get(client, user, "flows", **params)
    got = {(r["home_city"], r["dest_city"]): _counts(r) for r in rows}
    assert got == raw.flows(city, d0, d1), (city, d0, d1)
    return summary


def _ranges(h):
    return [
        (h.first_day, h.today),  # the whole history
        (h.midnight_day, h.midnight_day),  # one day with events at both of its midnights
        (h.midnight_day - timedelta(days=9), h.midnight_day + timedelta(days=1)),
        (h.first_day, h.first_day + timedelta(days=3)),
        (h.today - timedelta(days=6), h.today),
    ]


def test_every_endpoint_equals_the_raw_count_for_every_scope(
    history, staff, admin_user, api_client
):
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    raw_total = Raw().summary(None, history.first_day, history.today)
    assert raw_total["cancelled"] and raw_total["expired"] and raw_total["revoked"]
    for d0, d1 in _ranges(history):
        for code in CITIES:
            assert_all_endpoints_match(api_client, staff[code], code, d0, d1)
            assert_all_endpoints_match(api_client, admin_user, code, d0, d1)
        assert_all_endpoints_match(api_client, admin_user, None, d0, d1)


def test_midnight_events_land_on_their_own_day(history, staff, api_client):
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    day = history.midnight_day
    summary = assert_all_endpoints_match(api_client, staff["330100"], "330100", day, day)
    raw = Raw()
    # the fixture put claims at 23:59:59.999999 of this day and 00:00 of the next one
    at_day = sum(raw.summary(c, day, day)["claims"] for c in ("330100", "460100", "310100"))
    next_day = day + timedelta(days=1)
    at_next = sum(
        raw.summary(c, next_day, next_day)["claims"] for c in ("330100", "460100", "310100")
    )
    assert at_day > 0 and at_next > 0
    assert summary["claims"] == raw.summary("330100", day, day)["claims"]


def test_late_events_land_on_today_and_the_claim_stays_on_its_day(
    history, staff, admin_user, api_client
):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    now = timezone.now()
    month_ago = now - timedelta(days=30)
    hz_offer = history.offers["hz-boat-1"]
    old = f.voucher(hz_offer, history.residents[4], month_ago)
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    before = _get(api_client, staff["330100"], "summary")

    # today: the old voucher is redeemed, two are cancelled, two new claims
    Voucher.objects.filter(pk=old.pk).update(status="redeemed", redeemed_at=now)
    opened = list(Voucher.objects.filter(status="issued", dest_city_id="330100")[:2])
    Voucher.objects.filter(pk__in=[v.pk for v in opened]).update(status="cancelled", closed_at=now)
    f.voucher(hz_offer, history.residents[0], now)
    f.voucher(history.offers["hk-hotel-1"], history.residents[0], now)

    assert _get(api_client, staff["330100"], "summary") == before  # not live: roll-ups
    days = refresh_recent_rollups()
    assert history.today in days
    for code in CITIES:
        assert_all_endpoints_match(api_client, staff[code], code, history.first_day, history.today)
    assert_all_endpoints_match(api_client, admin_user, None, history.first_day, history.today)

    old_day = month_ago.astimezone(SH).date()
    day_row = _get(
        api_client,
        staff["330100"],
        "series",
        date_from=old_day.isoformat(),
        date_to=old_day.isoformat(),
    )[0]
    assert day_row["claims"] >= 1
    today = _get(api_client, staff["330100"], "summary", date_from=history.today.isoformat())
    raw_today = Raw().summary("330100", history.today, history.today)
    assert today["redemptions"] == raw_today["redemptions"] >= 1
    assert today["cancelled"] == raw_today["cancelled"] >= len(opened)


def test_backdated_events_need_a_dirty_mark_and_then_match(history, staff, admin_user, api_client):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    day = history.today - timedelta(days=20)
    backdated = timezone.now() - timedelta(days=20)
    moved = Voucher.objects.filter(status="issued", issued_at__lt=backdated).count()
    assert moved
    Voucher.objects.filter(status="issued", issued_at__lt=backdated).update(
        status="expired", closed_at=backdated
    )
    # and a claim back-filled on that day, by a resident who claims again later
    f.voucher(history.offers["hk-shop-1"], history.residents[2], backdated)
    f.voucher(history.offers["hk-shop-1"], history.residents[2], backdated + timedelta(days=3))
    rebuild_rollups(date_from=day + timedelta(days=3), date_to=day + timedelta(days=3))
    refresh_recent_rollups()
    raw = Raw().summary(None, day, day)
    got = _get(
        api_client, admin_user, "summary", date_from=day.isoformat(), date_to=day.isoformat()
    )
    assert got["expired"] != raw["expired"]  # today and yesterday only: not seen yet

    mark_days_dirty(days=[day])
    assert DirtyDay.objects.filter(day=day).exists()
    assert day in refresh_recent_rollups()
    assert not DirtyDay.objects.exists()
    for d0, d1 in ((history.first_day, history.today), (day, day + timedelta(days=3))):
        for code in CITIES:
            assert_all_endpoints_match(api_client, staff[code], code, d0, d1)
        assert_all_endpoints_match(api_client, admin_user, None, d0, d1)


def test_unique_residents_are_exact_for_any_range_after_partial_rebuilds(history):
    from incentives.dashboard.selectors import Scope, summary

    first, today = history.first_day, history.today
    # a resident who claims in two cities on the same day, and again later
    twice = history.residents[1]
    at = timezone.now() - timedelta(days=8)
    f.voucher(history.offers["hz-boat-1"], twice, at)
    f.voucher(history.offers["hk-hotel-1"], twice, at)
    f.voucher(history.offers["hk-hotel-1"], twice, at + timedelta(days=2))
    newcomer = f.resident("320500")
    f.voucher(history.offers["sh-museum-1"], newcomer, at + timedelta(days=1))
    rebuild_rollups(date_from=first - timedelta(days=1), date_to=today)
    # claims back-filled in the middle, by residents who also claimed later: rebuilding
    # the middle must fix the previous-day columns of their later rows
    middle = timezone.now() - timedelta(days=30)
    f.voucher(history.offers["sh-museum-1"], newcomer, middle)
    f.voucher(history.offers["hz-boat-1"], twice, middle)
    rebuild_rollups(date_from=first + timedelta(days=10), date_to=first + timedelta(days=20))
    rebuild_rollups(date_from=first, date_to=first + timedelta(days=4), chunk_days=2)
    raw = Raw()
    days = [first + timedelta(days=i) for i in range(0, (today - first).days + 1, 4)] + [today]
    for i, d0 in enumerate(days):
        for d1 in days[i:]:
            for city in (None, "330100", "460100", "310100"):
                got = summary(scope=Scope(city, d0, d1))["unique_residents"]
                assert got == raw.summary(city, d0, d1)["unique_residents"], (city, d0, d1)


def _snapshot():
    return (
        sorted(CityDay.objects.values_list()),
        sorted(OfferDay.objects.values_list()),
        sorted(CityTotalDay.objects.values_list()),
        sorted(CityMonth.objects.values_list()),
        sorted(CityPairDay.objects.values_list()),
        sorted(CityPairMonth.objects.values_list()),
        sorted(OfferMonth.objects.values_list()),
        sorted((*row[:3], bytes(row[3]), row[4]) for row in ClaimantSet.objects.values_list()),
    )


def test_refresh_and_rebuild_are_idempotent(history):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    first = _snapshot()
    assert all(first)
    rebuild_rollups(date_from=history.first_day, date_to=history.today, chunk_days=7)
    assert _snapshot() == first
    refresh_recent_rollups()
    refresh_recent_rollups()
    assert _snapshot() == first


def test_a_dirty_mark_made_during_a_refresh_survives_it(history, monkeypatch):
    from incentives.dashboard import rollup

    mark_days_dirty(days=[history.first_day, history.first_day])
    assert DirtyDay.objects.count() == 1
    real = rollup.rebuild_rollups

    def rebuild_while_a_writer_marks_again(**kwargs):
        real(**kwargs)
        later = timezone.now() + timedelta(seconds=1)
        DirtyDay.objects.filter(day=history.first_day).update(marked_at=later)

    monkeypatch.setattr(rollup, "rebuild_rollups", rebuild_while_a_writer_marks_again)
    refresh_recent_rollups()
    assert DirtyDay.objects.filter(day=history.first_day).exists()  # for the next run
    monkeypatch.setattr(rollup, "rebuild_rollups", real)
    refresh_recent_rollups()
    assert not DirtyDay.objects.exists()


def test_the_management_command_rebuilds_a_range(history, staff, api_client, capsys):
    call_command(
        "rebuild_rollups",
        "--from",
        history.first_day.isoformat(),
        "--to",
        history.today.isoformat(),
    )
    assert "rebuilt" in capsys.readouterr().out
    assert_all_endpoints_match(
        api_client, staff["460100"], "460100", history.first_day, history.today
    )
    CityDay.objects.all().delete()
    call_command("rebuild_rollups", "--all", verbosity=0)
    assert_all_endpoints_match(
        api_client, staff["330100"], "330100", history.first_day, history.today
    )


def test_the_command_refuses_bad_dates(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--from", "2026-13-01")
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--from", "2026-02-01", "--to", "2026-01-01")
    with pytest.raises(CommandError):
        call_command("rebuild_rollups")


def test_the_celery_task_refreshes_today(history, staff, api_client):
    result = refresh_dashboard_rollups.delay().get()
    assert history.today.isoformat() in result
    today = history.today
    assert_all_endpoints_match(api_client, staff["330100"], "330100", today, today)


def test_a_catch_up_cut_short_keeps_the_marks_of_the_days_it_did_not_reach(history, monkeypatch):
    """After an upgrade every day is dirty; a refresh stopped by the task's time limit
    has cleared the marks of the chunks it finished (newest first) and no others."""
    from incentives.dashboard import rollup

    days = [history.today - timedelta(days=i) for i in range(2, 70)]
    mark_days_dirty(days=days)
    real, calls = rollup.rebuild_rollups, []

    def stopped_after_two_chunks(**kwargs):
        if len(calls) == 2:
            raise TimeoutError("time limit")
        calls.append(kwargs)
        real(**kwargs)

    monkeypatch.setattr(rollup, "rebuild_rollups", stopped_after_two_chunks)
    with pytest.raises(TimeoutError):
        refresh_recent_rollups()
    done = {c["date_from"] + timedelta(days=i) for c in calls for i in range(31)}
    done = {d for d in done if any(c["date_from"] <= d <= c["date_to"] for c in calls)}
    assert calls[0]["date_to"] == history.today  # the newest days first
    left = set(DirtyDay.objects.values_list("day", flat=True))
    assert left == set(days) - done and left
    monkeypatch.setattr(rollup, "rebuild_rollups", real)
    refresh_recent_rollups()
    assert not DirtyDay.objects.exists()
