"""Each risk signal planted in real rows and found, with its explanation and the rows
behind it; the same day without the pattern raises nothing (docs/risk-signals.md)."""

import json
from datetime import timedelta

import pytest
from django.utils import translation

from accounts.models import SignupEvent
from incentives.risk import explain
from incentives.risk.models import RiskSignal
from incentives.risk.services import compute_day

from .conftest import DAY, local, offline_row, redeem

pytestmark = pytest.mark.django_db


def signals(kind: str) -> list[RiskSignal]:
    return list(RiskSignal.objects.filter(kind=kind).order_by("pk"))


def usual_pace(world, clerk=None, of=None, days: int = 30, per_day: int = 6) -> None:
    """A clerk's usual month: a few redemptions a day, an hour apart."""
    clerk = clerk or world.clerk
    of = of or world.offer
    for back in range(1, days + 1):
        day = DAY - timedelta(days=back)
        for i in range(per_day):
            redeem(of, world.residents[(back + i) % 60], local(day, 9 + i, 15), clerk)


def test_a_clerk_far_above_their_own_usual_pace(world):
    usual_pace(world)
    usual_pace(world, clerk=world.other_clerk, of=world.other_offer)
    for i in range(160):  # 160 in one hour, 20 in its busiest minute
        minute, second = divmod(i, 20) if i < 20 else (1 + (i - 20) // 3, (i % 3) * 20)
        redeem(
            world.offer, world.residents[i % 60], local(DAY, 14, minute % 60, second), world.clerk
        )
    for i in range(6):  # the other clerk keeps their pace
        redeem(world.other_offer, world.residents[i], local(DAY, 9 + i, 30), world.other_clerk)

    compute_day(DAY, ["330100"])

    [signal] = signals("clerk_rate")
    assert signal.city_id == "330100" and signal.day == DAY
    assert signal.facts["unit"] == "minute" and signal.facts["count"] == 20
    assert signal.facts["hour"]["count"] == 160
    assert signal.facts["usual"] == 1.0
    assert len(signal.rows) == 20 and all(r["type"] == "redemption" for r in signal.rows)
    with translation.override("zh-hans"):
        assert "20 张" in explain.why(signal) and "30 天" in explain.why(signal)
    with translation.override("en"):
        assert "redeemed 20 vouchers in the minute" in explain.why(signal)


def test_a_busy_clerk_at_their_usual_busy_pace_is_no_signal(world):
    for back in range(1, 31):  # a gate that scans 40 a minute every day
        day = DAY - timedelta(days=back)
        for i in range(40):
            redeem(world.offer, world.residents[i], local(day, 10, 0, i), world.clerk)
    for i in range(40):
        redeem(world.offer, world.residents[i], local(DAY, 10, 0, i), world.clerk)

    compute_day(DAY, ["330100"])

    assert signals("clerk_rate") == []


def test_redemptions_outside_opening_hours_or_validity(world):
    world.shop.opens_at, world.shop.closes_at = local(DAY, 9).time(), local(DAY, 17).time()
    world.shop.save()
    world.other_shop.opens_at, world.other_shop.closes_at = (
        local(DAY, 18).time(),
        local(DAY, 2).time(),  # a night market: open past midnight
    )
    world.other_shop.save()
    redeem(world.offer, world.residents[0], local(DAY, 10), world.clerk)  # open
    redeem(world.offer, world.residents[1], local(DAY, 20, 30), world.clerk, offline=True)
    redeem(world.other_offer, world.residents[2], local(DAY, 1), world.other_clerk)  # open
    redeem(world.other_offer, world.residents[3], local(DAY, 23), world.other_clerk)  # open
    late = redeem(world.other_offer, world.residents[4], local(DAY, 3), world.other_clerk)
    world.haikou_offer.valid_until = local(DAY, 12)
    world.haikou_offer.save()

    compute_day(DAY, ["330100"])

    found = {s.facts["offer"]: s for s in signals("outside_hours")}
    assert set(found) == {world.offer.title, world.other_offer.title}
    assert found[world.offer.title].facts["outside_hours"] == 1
    assert found[world.offer.title].rows[0]["offline"] is True  # judged by its scan time
    assert [r["id"] for r in found[world.other_offer.title].rows] == [late.pk]
    assert "18:00–02:00" in explain.why(found[world.other_offer.title])


def test_outside_the_offers_validity_window_as_scanned(world):
    world.haikou_offer.valid_until = local(DAY, 12)
    world.haikou_offer.save()
    redeem(world.haikou_offer, world.residents[0], local(DAY, 11), world.haikou_clerk)
    after = redeem(
        world.haikou_offer, world.residents[1], local(DAY, 13), world.haikou_clerk, offline=True
    )

    compute_day(DAY, ["460100"])

    [signal] = signals("outside_hours")
    assert signal.city_id == "460100"
    assert signal.facts["outside_validity"] == 1 and [r["id"] for r in signal.rows] == [after.pk]


def test_one_device_redeeming_many_residents_within_minutes(world):
    for back in range(1, 31):  # the gate's usual: a handful of people in ten minutes
        day = DAY - timedelta(days=back)
        for i in range(5):
            redeem(world.offer, world.residents[i], local(day, 10, i), world.clerk, device="gate-1")
    for i in range(45):  # 45 people in 9 minutes on one pad
        redeem(
            world.offer,
            world.residents[i],
            local(DAY, 15) + timedelta(seconds=12 * i),
            world.clerk,
            device="pad-7",
        )
    for i in range(5):
        redeem(world.offer, world.residents[i], local(DAY, 11, i), world.clerk, device="gate-1")

    compute_day(DAY, ["330100"])

    [signal] = signals("device_many_residents")
    assert signal.facts["device"] == "pad-7" and signal.facts["residents"] == 45
    assert len(signal.rows) == 45


def test_a_merchants_offline_conflict_rate_far_above_its_citys(world):
    for i in range(30):
        offline_row(
            world.shop,
            world.clerk,
            local(DAY, 10, i),
            conflict=i < 9,
            outcome="already_redeemed" if i < 9 else "redeemed",
        )
    for i in range(100):
        offline_row(
            world.other_shop,
            world.other_clerk,
            local(DAY - timedelta(days=i % 5), 11, i % 60),
            conflict=i == 0,
            outcome="already_redeemed" if i == 0 else "redeemed",
        )

    compute_day(DAY, ["330100"])

    [signal] = signals("merchant_conflict_rate")
    assert signal.facts["merchant"] == world.shop.name and signal.facts["measure"] == "conflicts"
    assert (signal.facts["events"], signal.facts["total"]) == (9, 30)
    assert signal.facts["city_rate"] == 0.01
    assert len(signal.rows) == 9
    assert "30.0%" in explain.why(signal)


def test_a_merchants_refused_scans_far_above_its_citys(world):
    for i in range(25):
        offline_row(
            world.shop,
            world.clerk,
            local(DAY, 10, i),
            outcome="wrong_merchant" if i < 10 else "redeemed",
        )
    for i in range(60):
        offline_row(
            world.other_shop,
            world.other_clerk,
            local(DAY, 12, i % 60),
            outcome="voucher_expired" if i < 2 else "redeemed",
        )

    compute_day(DAY, ["330100"])

    [signal] = signals("merchant_conflict_rate")
    assert signal.facts["measure"] == "refused" and signal.facts["events"] == 10


def test_vouchers_redeemed_in_two_cities_too_far_apart_for_the_time(world):
    traveller, commuter = world.residents[0], world.residents[1]
    redeem(world.offer, traveller, local(DAY, 9), world.clerk)  # 杭州 09:00
    haikou = redeem(world.haikou_offer, traveller, local(DAY, 11), world.haikou_clerk)  # 海口 11:00
    # 杭州 at 07:00, 海口 at 13:30: 1,500 km in 6.5 h is a flight, possible
    redeem(world.offer, commuter, local(DAY, 7), world.clerk)
    redeem(world.haikou_offer, commuter, local(DAY, 13, 30), world.haikou_clerk)

    compute_day(DAY, ["330100", "460100"])

    [signal] = signals("impossible_travel")
    assert signal.city_id == "460100"  # where the second one was redeemed
    assert signal.resident_id == traveller.pk and signal.voucher_id == haikou.voucher_id
    assert signal.facts["from_city"] == "杭州" and signal.facts["to_city"] == "海口"
    assert signal.facts["minutes"] == 120 and 1400 < signal.facts["km"] < 1600
    assert traveller.phone not in json.dumps(signal.facts, ensure_ascii=False)


def test_signup_bursts_from_one_address_and_one_prefix(world):
    at = local(DAY, 3)
    for i in range(25):
        SignupEvent.objects.create(
            kind="sms_code", at=at + timedelta(seconds=10 * i), client_ip="203.0.113.7"
        )
    for i in range(70):  # 70 addresses of one /24, registering for 海口
        SignupEvent.objects.create(
            kind="register",
            at=at + timedelta(seconds=5 * i),
            client_ip=f"198.51.100.{i + 1}",
            city_code="460100",
        )
    for i in range(10):  # an ordinary address
        SignupEvent.objects.create(
            kind="sms_code", at=at + timedelta(minutes=i), client_ip="192.0.2.1"
        )

    compute_day(DAY)

    found = {s.facts["scope"]: s for s in signals("signup_burst")}
    assert set(found) == {"address", "prefix"}
    assert found["address"].subject == "203.0.113.7" and found["address"].city_id is None
    assert found["address"].facts["count"] == 25
    assert found["prefix"].subject == "198.51.100.0/24" and found["prefix"].city_id == "460100"
    assert found["prefix"].facts["addresses"] == 70


def test_the_api_records_where_code_requests_come_from(api_client, cities):
    response = api_client.post(
        "/api/v1/auth/sms-code",
        {"phone": "13700000009", "purpose": "register"},
        format="json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 202, response.content
    [event] = SignupEvent.objects.all()
    assert (event.kind, event.client_ip, event.city_code) == ("sms_code", "203.0.113.9", "")


def test_a_recomputation_keeps_the_state_and_adds_nothing(world):
    redeem(world.haikou_offer, world.residents[0], local(DAY, 9), world.haikou_clerk)
    world.haikou.opens_at, world.haikou.closes_at = local(DAY, 10).time(), local(DAY, 18).time()
    world.haikou.save()
    compute_day(DAY, ["460100"])
    [signal] = signals("outside_hours")
    RiskSignal.objects.filter(pk=signal.pk).update(state="dismissed", state_reason="早场活动")
    redeem(world.haikou_offer, world.residents[1], local(DAY, 9, 30), world.haikou_clerk)

    compute_day(DAY, ["460100"])

    [again] = signals("outside_hours")
    assert again.pk == signal.pk and again.state == "dismissed"
    assert again.facts["outside_hours"] == 2  # what it says is refreshed


def test_no_signal_ever_names_a_score(world):
    traveller = world.residents[0]
    redeem(world.offer, traveller, local(DAY, 9), world.clerk)
    redeem(world.haikou_offer, traveller, local(DAY, 10), world.haikou_clerk)
    compute_day(DAY, ["460100"])
    [signal] = signals("impossible_travel")
    text = json.dumps([signal.facts, signal.rows], ensure_ascii=False) + explain.why(signal)
    for word in ("score", "分数", "信用分", "tier"):
        assert word not in text
