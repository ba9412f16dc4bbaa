"""City staff read and handle risk signals through the API and admin; the beat task finds
them; a realistic month of the demo's traffic raises none; old rows are purged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SignupEvent
from incentives.models import Incident
from incentives.risk.models import RiskSignal
from incentives.risk.services import compute_day, purge_signals
from incentives.tasks import compute_risk_signals, purge_risk_rows
from tests.conftest import bearer

from .conftest import DAY, local, redeem

pytestmark = pytest.mark.django_db


def travel(world):
    traveller = world.residents[0]
    redeem(world.offer, traveller, local(DAY, 9), world.clerk)
    return redeem(world.haikou_offer, traveller, local(DAY, 10), world.haikou_clerk)


def outside(world):
    world.shop.opens_at, world.shop.closes_at = local(DAY, 9).time(), local(DAY, 17).time()
    world.shop.save()
    redeem(world.offer, world.residents[5], local(DAY, 21), world.clerk)


def listing(api_client, user, **params):
    params.setdefault("date_from", (DAY - timedelta(days=1)).isoformat())
    params.setdefault("date_to", DAY.isoformat())
    return api_client.get("/api/v1/dashboard/risk-signals", params, **bearer(user))


def test_city_staff_see_their_citys_signals_only(world, api_client):
    travel(world)
    outside(world)
    compute_day(DAY, ["330100", "460100"])

    hangzhou = listing(api_client, world.hangzhou_staff)
    haikou = listing(api_client, world.haikou_staff)
    everyone = listing(api_client, world.superuser)

    assert hangzhou.status_code == 200, hangzhou.content
    assert [r["kind"] for r in hangzhou.json()["results"]] == ["outside_hours"]
    [row] = haikou.json()["results"]
    assert row["kind"] == "impossible_travel" and row["city"] == "460100"
    assert set(row) == {
        "id",
        "kind",
        "city",
        "day",
        "subject",
        "why",
        "rows",
        "first_seen",
        "state",
    }
    assert "杭州" in row["why"] and len(row["rows"]) == 2
    assert everyone.json()["count"] == 2
    english = api_client.get(
        "/api/v1/dashboard/risk-signals",
        {"date_from": DAY.isoformat(), "date_to": DAY.isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(world.haikou_staff),
    )
    assert english.json()["results"][0]["why"].startswith("Resident ")
    assert listing(api_client, world.hangzhou_staff, state="dismissed").json()["count"] == 0
    assert listing(api_client, world.hangzhou_staff, city="460100").status_code == 403


@pytest.mark.parametrize("who", ["residents", "clerk"])
def test_residents_and_merchant_staff_get_403(world, api_client, who):
    user = world.residents[0] if who == "residents" else world.clerk
    assert listing(api_client, user).status_code == 403


def test_dismiss_needs_a_reason_and_another_citys_signal_is_404(world, api_client):
    outside(world)
    compute_day(DAY, ["330100"])
    signal = RiskSignal.objects.get()
    url = f"/api/v1/dashboard/risk-signals/{signal.pk}/state"

    no_reason = api_client.post(
        url, {"state": "dismissed"}, format="json", **bearer(world.hangzhou_staff)
    )
    elsewhere = api_client.post(
        url, {"state": "looked_at"}, format="json", **bearer(world.haikou_staff)
    )
    dismissed = api_client.post(
        url,
        {"state": "dismissed", "reason": "夜场活动，已核实"},
        format="json",
        **bearer(world.hangzhou_staff),
    )

    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["code"] == "invalid_request"
    assert "reason" in no_reason.json()["error"]["detail"]
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["code"] == "not_found"
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
    signal.refresh_from_db()
    assert (signal.state_reason, signal.state_by) == ("夜场活动，已核实", world.hangzhou_staff)


def test_escalating_a_travel_signal_opens_an_incident_once(world, api_client):
    second = travel(world)
    compute_day(DAY, ["460100"])
    signal = RiskSignal.objects.get()
    url = f"/api/v1/dashboard/risk-signals/{signal.pk}/state"

    first = api_client.post(
        url, {"state": "escalated"}, format="json", **bearer(world.haikou_staff)
    )
    again = api_client.post(
        url, {"state": "looked_at"}, format="json", **bearer(world.haikou_staff)
    )

    assert first.status_code == 200 and first.json()["state"] == "escalated"
    assert again.json()["state"] == "escalated"  # an escalated signal stays escalated
    incident = Incident.objects.get()
    assert incident.voucher_id == second.voucher_id and incident.status == "reported"
    assert incident.resident_id == world.residents[0].pk and incident.dest_city_id == "460100"
    assert incident.reported_by == world.haikou_staff and "杭州" in incident.note
    signal.refresh_from_db()
    assert signal.incident == incident


def test_escalating_a_signal_without_a_resident_changes_only_its_state(world, api_client):
    outside(world)
    compute_day(DAY, ["330100"])
    signal = RiskSignal.objects.get()
    response = api_client.post(
        f"/api/v1/dashboard/risk-signals/{signal.pk}/state",
        {"state": "escalated"},
        format="json",
        **bearer(world.hangzhou_staff),
    )
    assert response.json()["state"] == "escalated" and not Incident.objects.exists()


def test_city_staff_handle_signals_in_admin(world, client):
    outside(world)
    travel(world)
    compute_day(DAY, ["330100", "460100"])
    mine = RiskSignal.objects.get(city_id="330100")
    theirs = RiskSignal.objects.get(city_id="460100")
    client.force_login(world.hangzhou_staff)

    listed = client.get("/admin/incentives/risksignal/")
    page = client.get(f"/admin/incentives/risksignal/{mine.pk}/change/")
    other = client.get(f"/admin/incentives/risksignal/{theirs.pk}/change/")
    refused = client.post(
        f"/admin/incentives/risksignal/{mine.pk}/change/",
        {"state": "dismissed", "state_reason": ""},
    )
    saved = client.post(
        f"/admin/incentives/risksignal/{mine.pk}/change/",
        {"state": "dismissed", "state_reason": "夜场活动"},
    )

    assert listed.status_code == 200 and world.offer.title in listed.content.decode()
    assert world.haikou_offer.title not in listed.content.decode()
    assert "delete_selected" not in listed.context["cl"].model_admin.get_actions(
        listed.wsgi_request
    )
    assert 'value="delete_selected"' not in listed.content.decode()  # signals are never deleted
    assert page.status_code == 200 and "21:00" in page.content.decode()
    assert other.status_code == 404
    assert refused.status_code == 200  # the form again, with the error
    assert saved.status_code == 302
    mine.refresh_from_db()
    assert (mine.state, mine.state_reason, mine.state_by) == (
        "dismissed",
        "夜场活动",
        world.hangzhou_staff,
    )


def test_the_beat_task_computes_today_and_yesterday(world, settings):
    now = timezone.now()
    traveller = world.residents[0]
    redeem(world.offer, traveller, now - timedelta(minutes=50), world.clerk)
    redeem(world.haikou_offer, traveller, now - timedelta(minutes=5), world.haikou_clerk)

    assert compute_risk_signals.delay().get() >= 1

    [signal] = RiskSignal.objects.filter(kind="impossible_travel")
    assert signal.city_id == "460100"


def test_purge_keeps_what_is_within_its_period(world, settings):
    settings.RISK_SIGNAL_DAYS = 365
    settings.SIGNUP_EVENT_DAYS = 30
    now = timezone.now()
    old = RiskSignal.objects.create(
        kind="outside_hours",
        city_id="330100",
        fingerprint="old",
        day=(now - timedelta(days=400)).date(),
        subject="x",
    )
    kept = RiskSignal.objects.create(
        kind="outside_hours",
        city_id="330100",
        fingerprint="kept",
        day=(now - timedelta(days=300)).date(),
        subject="y",
    )
    SignupEvent.objects.create(kind="sms_code", at=now - timedelta(days=31), client_ip="192.0.2.1")
    recent = SignupEvent.objects.create(
        kind="sms_code", at=now - timedelta(days=29), client_ip="192.0.2.1"
    )

    assert purge_risk_rows.delay().get() == {"signals": 1, "signup_events": 1}

    assert list(RiskSignal.objects.all()) == [kept]
    assert list(SignupEvent.objects.all()) == [recent]
    assert purge_signals() == 0
    assert not RiskSignal.objects.filter(pk=old.pk).exists()


def test_a_realistic_month_of_the_demos_traffic_raises_no_signal(cities):
    """The demo's history generator, scaled up (12,000 vouchers over 45 days, every
    redeemed one with its clerk's redemption row, its offers open all along), computed
    day by day for a month."""
    from django.db import connection

    from accounts import demo as accounts_demo
    from incentives.dashboard.demo import seed_history
    from incentives.models import Redemption
    from merchants import demo as merchants_demo
    from merchants.models import Offer

    accounts_demo.seed()
    merchants_demo.seed()
    now = timezone.now()  # the demo's offers, open over the whole history
    Offer.objects.update(valid_from=now - timedelta(days=60), valid_until=now + timedelta(days=30))
    assert seed_history(count=12000, days=45) == 12000
    assert Redemption.objects.count() > 1000
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum keeps them live
        cursor.execute("ANALYZE")

    today = timezone.localdate()
    for back in range(30):
        compute_day(today - timedelta(days=back))

    assert list(RiskSignal.objects.values_list("kind", "subject")) == []


def test_the_dashboard_counts_the_signals_nobody_has_looked_at(world, client):
    outside(world)
    travel(world)
    compute_day(DAY, ["330100", "460100"])
    client.force_login(world.hangzhou_staff)

    def shown() -> str:
        page = client.get("/dashboard/").content.decode()
        start = page.index('id="stat-risk"')
        return page[start : start + 200]

    assert ">1</a>" in shown()  # Hangzhou's one (Haikou's is not theirs)
    RiskSignal.objects.filter(city_id="330100").update(state="looked_at")
    assert ">0</a>" in shown()


def test_alliance_staff_read_their_members_signals_and_change_none(world, api_client):
    from accounts.reference import load_reference_data
    from tests.dashboard.test_alliance_rollup import alliance_staff

    load_reference_data()  # the alliances: 杭州 is in the YRD, 海口 is not
    outside(world)  # 杭州
    travel(world)  # 海口
    compute_day(DAY, ["330100", "460100"])
    yrd, ten = alliance_staff("yrd"), alliance_staff("ten-cities")

    mine = listing(api_client, yrd)
    both = listing(api_client, ten)  # 杭州 and 海口 are both in the ten-city alliance
    one_member = listing(api_client, ten, city="460100")
    not_member = listing(api_client, yrd, city="460100")
    signal = RiskSignal.objects.get(city_id="330100")
    change = api_client.post(
        f"/api/v1/dashboard/risk-signals/{signal.pk}/state",
        {"state": "looked_at"},
        format="json",
        **bearer(yrd),
    )

    assert [r["city"] for r in mine.json()["results"]] == ["330100"]
    assert sorted(r["city"] for r in both.json()["results"]) == ["330100", "460100"]
    assert [r["city"] for r in one_member.json()["results"]] == ["460100"]
    assert not_member.status_code == 404
    assert change.status_code == 403 and change.json()["error"]["code"] == "permission_denied"
    signal.refresh_from_db()
    assert signal.state == "new"
