"""The SMS of the notices: per-kind choices (the inbox always), quiet hours, one send per
message under concurrency, backoff and dead letters (read-only in admin, per city), and
closing an account (inbox erased, no notice afterwards, the closing SMS only)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.notices.models import Notice, NoticeKind, NoticeSettings, SmsDelivery
from accounts.notices.services import (
    notify,
    send_delivery,
    send_due_deliveries,
    set_notice_settings,
)
from accounts.privacy import close_account
from tests.factories import PASSWORD
from tests.merchants.factories import city_staff, superuser

from .conftest import at, client_for, kinds_of, make_resident, outbox
from .gateway import SmsGatewayServer

pytestmark = pytest.mark.django_db


def tell(resident, event="1", now=None):
    return notify(
        kind=NoticeKind.SUSPENSION_ENDED,
        resident_id=resident.pk,
        event=event,
        params={"scenario": "信易游"},
        now=now,
    )


@pytest.fixture
def gateway_server(settings):
    server = SmsGatewayServer().start()
    settings.SMS_GATEWAY = server.settings()
    yield server
    if server.running:
        server.stop()


def test_a_kind_switched_off_goes_to_the_inbox_only(resident, django_capture_on_commit_callbacks):
    set_notice_settings(resident=resident, sms={NoticeKind.SUSPENSION_ENDED: False})
    with django_capture_on_commit_callbacks(execute=True):
        tell(resident, "1")
        notify(
            kind=NoticeKind.TIER_CHANGED,
            resident_id=resident.pk,
            event="r1",
            params={"old": "good", "new": "excellent"},
        )
    assert kinds_of(resident) == [NoticeKind.SUSPENSION_ENDED, NoticeKind.TIER_CHANGED]
    assert list(SmsDelivery.objects.values_list("kind", flat=True)) == [NoticeKind.TIER_CHANGED]
    [sms] = outbox(resident.phone)
    assert "信用等级有变化" in sms


def test_quiet_hours_hold_the_sms_back_not_the_inbox(
    resident, settings, django_capture_on_commit_callbacks
):
    settings.NOTICE_QUIET_HOURS = (22, 8)
    # a night ahead of the real clock: the eager queue sends what is due by the real time
    # (fixed dates of 2026-12-06/07 sent "day" at once once that morning had passed)
    night = timezone.localdate() + timedelta(days=30)
    morning = night + timedelta(days=1)

    def on(day, clock: str):
        return at(f"{day.isoformat()} {clock}")

    with django_capture_on_commit_callbacks(execute=True):
        tell(resident, "late", now=on(night, "23:10"))
        tell(resident, "early", now=on(morning, "07:59"))
        tell(resident, "day", now=on(morning, "08:00"))
    assert len(kinds_of(resident)) == 3  # the inbox has them all at once
    waits = dict(SmsDelivery.objects.values_list("notice__event", "not_before"))
    assert waits["late"] == waits["early"] == on(morning, "08:00")
    assert waits["day"] == on(morning, "08:00")
    # nothing leaves before 08:00, and a message that is due but meets the quiet hours
    # (a retry at night) waits for the morning too
    assert send_due_deliveries(now=on(morning, "07:59")) == 0
    day = SmsDelivery.objects.get(notice__event="day")
    SmsDelivery.objects.filter(pk=day.pk).update(not_before=on(night, "21:00"))
    assert send_delivery(delivery_id=day.pk, now=on(night, "22:30")).state == "quiet"
    assert SmsDelivery.objects.get(pk=day.pk).not_before == on(morning, "08:00")
    assert outbox(resident.phone) == []
    # at 08:00 the sweep sends them (the queue is eager here)
    assert send_due_deliveries(now=on(morning, "08:00")) == 3
    for delivery in SmsDelivery.objects.all():
        assert send_delivery(delivery_id=delivery.pk, now=on(morning, "08:01")).state in (
            "sent",
            "skipped",
        )
    assert SmsDelivery.objects.filter(status="sent").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(5))
def test_concurrent_senders_send_a_message_once(world, gateway_server, run):
    resident = make_resident()
    tell(resident)  # queued; the eager run sends it at once (autocommit)
    delivery = SmsDelivery.objects.get()
    SmsDelivery.objects.filter(pk=delivery.pk).update(status="pending", sent_at=None)
    gateway_server.reset()
    barrier = threading.Barrier(4)
    states: list[str] = []

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            states.append(send_delivery(delivery_id=delivery.pk).state)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(states) == ["sent", "skipped", "skipped", "skipped"]
    assert gateway_server.sent_request_ids() == [delivery.request_id.hex]


def test_a_failure_backs_off_then_the_last_try_is_a_dead_letter(
    resident, gateway_server, settings, django_capture_on_commit_callbacks
):
    settings.NOTICE_SMS_MAX_ATTEMPTS = 3
    settings.NOTICE_SMS_BACKOFF_SECONDS = 30
    gateway_server.set_mode("error500")
    with django_capture_on_commit_callbacks(execute=True):
        tell(resident)  # the first try (eager) fails
    delivery = SmsDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "500" in delivery.last_error
    first_wait = delivery.not_before - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert send_delivery(delivery_id=delivery.pk).state == "skipped"  # not due yet
    later = delivery.not_before + timedelta(seconds=1)
    assert send_delivery(delivery_id=delivery.pk, now=later).state == "retry"
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.not_before - timezone.now() > timedelta(seconds=55)  # doubled
    assert send_delivery(delivery_id=delivery.pk, now=delivery.not_before).state == "dead"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    assert gateway_server.requests_received == 3

    # city staff of the resident's city see it, read-only; another city's do not
    own, other = Client(), Client()
    own.force_login(city_staff("330100"))
    other.force_login(city_staff("310100"))
    link = f"/admin/accounts/deadletter/{delivery.pk}/change/"
    listing = own.get("/admin/accounts/deadletter/").content.decode()
    assert link in listing and resident.phone not in listing
    assert resident.phone[:3] + "****" + resident.phone[-4:] in listing  # masked
    assert own.get(f"/admin/accounts/deadletter/{delivery.pk}/change/").status_code == 200
    assert own.get("/admin/accounts/deadletter/add/").status_code == 403
    assert own.post(f"/admin/accounts/deadletter/{delivery.pk}/delete/").status_code == 403
    assert other.get(f"/admin/accounts/deadletter/{delivery.pk}/change/").status_code == 404
    assert link not in other.get("/admin/accounts/deadletter/").content.decode()
    boss = Client()
    boss.force_login(superuser())
    assert boss.get("/admin/accounts/deadletter/").status_code == 200


def test_closing_erases_the_inbox_and_nothing_comes_after(
    resident, django_capture_on_commit_callbacks
):
    phone = resident.phone
    with django_capture_on_commit_callbacks(execute=True):
        tell(resident, "1")
        set_notice_settings(resident=resident, sms={NoticeKind.INCIDENT_REPORTED: False})
    SmsDelivery.objects.create(  # a message still waiting (quiet hours)
        resident=resident,
        kind="tier_changed",
        phone=phone,
        text="x",
        not_before=timezone.now() + timedelta(hours=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        close_account(user=resident, password=PASSWORD)
    assert not Notice.objects.filter(resident=resident).exists()
    assert not NoticeSettings.objects.filter(resident=resident).exists()
    # the inbox, the settings and the waiting message are gone; the closing SMS went out
    # once, and its row keeps no phone
    assert not SmsDelivery.objects.filter(resident=resident).exists()
    closing = SmsDelivery.objects.get(kind="account_closed")
    assert (closing.status, closing.phone, closing.resident_id) == ("sent", "", None)
    assert outbox(phone) == [closing.text] and "已注销" in closing.text
    # no notice for a closed account, whatever happens next
    with django_capture_on_commit_callbacks(execute=True):
        assert tell(resident, "2") is None
    assert not Notice.objects.filter(resident=resident).exists()
    assert client_for(resident).get("/api/v1/me/notices").status_code == 401


def test_no_closing_sms_when_that_kind_is_switched_off(
    resident, django_capture_on_commit_callbacks
):
    set_notice_settings(resident=resident, sms={NoticeKind.ACCOUNT_CLOSED: False})
    with django_capture_on_commit_callbacks(execute=True):
        close_account(user=resident, password=PASSWORD)
    assert not SmsDelivery.objects.exists()


def test_a_closing_sms_the_gateway_refuses_is_a_dead_letter_without_the_phone(
    resident, gateway_server, django_capture_on_commit_callbacks
):
    gateway_server.set_mode("error500")
    phone = resident.phone
    with django_capture_on_commit_callbacks(execute=True):
        close_account(user=resident, password=PASSWORD)  # closing does not wait for SMS
    resident.refresh_from_db()
    assert resident.closed_at is not None
    dead = SmsDelivery.objects.get(kind="account_closed")
    assert (dead.status, dead.phone, dead.city_id) == ("dead", "", "330100")
    assert [b["phone"] for b in gateway_server.received] == []
    assert not SmsDelivery.objects.filter(phone=phone).exists()
