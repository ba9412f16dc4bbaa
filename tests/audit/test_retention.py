"""Retention: each purge deletes exactly the rows past their period (planted old and
new rows), the append-only tables included; the beat schedule runs it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.credit.models import CreditQuery
from accounts.realname.models import IdentityCheck
from accounts.security.models import LoginFailure, LoginLock
from accounts.sms.models import SmsCode, SmsOutboxMessage
from audit import retention
from audit.models import AccessLog, MerchantEvent
from audit.tasks import purge_expired
from tests.merchants.factories import MerchantFactory, city_staff

pytestmark = pytest.mark.django_db


def _age_trail(model, pk_list, when) -> None:
    # the trail refuses UPDATE: age rows the way the purge passes the trigger
    import pgtrigger

    with pgtrigger.ignore(f"{model._meta.label}:append_only"):
        model.objects.filter(pk__in=pk_list).update(pgh_created_at=when)


def test_the_purge_deletes_exactly_what_is_past_its_period(cities, resident):
    now = timezone.now()
    # SMS codes: 24 hours, phones of people who never registered included
    old_code = SmsCode.objects.create(
        phone="13800000001",
        purpose="register",
        code_hash="x",
        expires_at=now,
        created_at=now - timedelta(hours=25),
        closed_at=now,
    )
    new_code = SmsCode.objects.create(
        phone="13800000002",
        purpose="register",
        code_hash="y",
        expires_at=now,
        created_at=now - timedelta(hours=23),
    )
    old_sms = SmsOutboxMessage.objects.create(
        phone="13800000001", text="a", sent_at=now - timedelta(hours=25)
    )
    new_sms = SmsOutboxMessage.objects.create(phone="13800000002", text="b")
    old_fail = LoginFailure.objects.create(account_key="k1", at=now - timedelta(days=31))
    new_fail = LoginFailure.objects.create(account_key="k2", at=now - timedelta(days=29))
    old_lock = LoginLock.objects.create(account_key="k1", until=now - timedelta(days=31))
    new_lock = LoginLock.objects.create(account_key="k2", until=now - timedelta(days=1))
    old_check = IdentityCheck.objects.create(
        person_ref="p",
        provider="sandbox",
        outcome="match",
        created_at=now - timedelta(days=3 * 365 + 1),
    )
    new_check = IdentityCheck.objects.create(person_ref="q", provider="sandbox", outcome="match")
    # the trail: 365 days by default; the access log too
    merchant = MerchantFactory(city_id="330100")
    old_event, new_event = MerchantEvent.objects.order_by("pgh_id")[:1].get(), None
    MerchantFactory(city_id="330100")
    new_event = MerchantEvent.objects.order_by("-pgh_id")[:1].get()
    _age_trail(MerchantEvent, [old_event.pk], now - timedelta(days=366))
    staff = city_staff("330100")
    old_access = AccessLog.objects.create(
        staff=staff,
        staff_role="city_staff",
        resident=resident,
        what="incident",
        at=now - timedelta(days=366),
    )
    new_access = AccessLog.objects.create(
        staff=staff,
        staff_role="city_staff",
        resident=resident,
        what="incident",
        at=now - timedelta(days=364),
    )

    done = purge_expired()

    assert done["sms_codes"] == 1 and done["sms_outbox"] == 1
    assert list(SmsCode.objects.values_list("pk", flat=True)) == [new_code.pk]
    assert not SmsCode.objects.filter(phone=old_code.phone).exists()
    assert list(SmsOutboxMessage.objects.values_list("pk", flat=True)) == [new_sms.pk]
    assert list(LoginFailure.objects.values_list("pk", flat=True)) == [new_fail.pk]
    assert list(LoginLock.objects.values_list("pk", flat=True)) == [new_lock.pk]
    assert list(IdentityCheck.objects.values_list("pk", flat=True)) == [new_check.pk]
    assert not MerchantEvent.objects.filter(pk=old_event.pk).exists()
    assert MerchantEvent.objects.filter(pk=new_event.pk).exists()
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [new_access.pk]
    assert done["audit_trail"] == 1 and done["access_log"] == 1
    assert old_sms.pk and old_fail.pk and old_lock.pk and old_check.pk and old_access.pk
    assert merchant.pk
    # a second run finds nothing more
    assert set(purge_expired().values()) == {0}


def test_credit_queries_go_after_five_years(resident, cities):
    from accounts.credit.models import Consent, ConsentText

    text = ConsentText.objects.first() or ConsentText.objects.create(
        version="t1", title_zh="x", title_en="x", body_zh="x", body_en="x"
    )
    consent = Consent.objects.filter(resident=resident).first() or Consent.objects.create(
        resident=resident, text=text
    )
    common = {
        "resident": resident,
        "city_id": "330100",
        "consent": consent,
        "outcome": CreditQuery.Outcome.values[0],
        "latency_ms": 1,
        "requested_by": "test",
        "purpose": "test",
    }
    old = CreditQuery.objects.create(
        created_at=timezone.now() - timedelta(days=5 * 365 + 1), **common
    )
    new = CreditQuery.objects.create(**common)
    assert retention.purge_credit_queries() == 1
    assert list(CreditQuery.objects.values_list("pk", flat=True)) == [new.pk]
    assert old.pk


def test_the_trail_is_kept_at_least_180_days_whatever_is_set(settings, cities):
    settings.AUDIT_TRAIL_RETENTION_DAYS = 30
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    MerchantFactory(city_id="330100")
    event = MerchantEvent.objects.get()
    _age_trail(MerchantEvent, [event.pk], timezone.now() - timedelta(days=179))
    assert retention.purge_trail() == 0
    _age_trail(MerchantEvent, [event.pk], timezone.now() - timedelta(days=181))
    assert retention.purge_trail() == 1


def test_the_purge_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "audit.purge_expired" and entry["schedule"] <= 3600


def test_nothing_but_the_purge_passes_the_trails_guard(cities):
    MerchantFactory(city_id="330100")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM audit_merchantevent")
    assert MerchantEvent.objects.count() == 1


def test_notices_and_their_sms_go_after_their_periods(cities, resident, settings):
    from accounts.notices.models import Notice, SmsDelivery

    settings.NOTICE_RETENTION_DAYS, settings.NOTICE_SMS_RETENTION_DAYS = 365, 30
    now = timezone.now()

    def notice(days: int, event: str) -> Notice:
        return Notice.objects.create(
            resident=resident,
            kind="voucher_expiring",
            event=event,
            created_at=now - timedelta(days=days),
        )

    old, kept = notice(366, "v1"), notice(364, "v2")

    def sms(days: int, status: str) -> SmsDelivery:
        return SmsDelivery.objects.create(
            kind="voucher_expiring",
            phone="13800000003",
            text="t",
            status=status,
            created_at=now - timedelta(days=days),
        )

    sent_old, dead_old = sms(31, "sent"), sms(31, "dead")
    waiting_old, sent_new = sms(31, "pending"), sms(29, "sent")

    done = purge_expired()

    assert done["notices"] == 1 and done["notice_sms"] == 2
    assert list(Notice.objects.values_list("pk", flat=True)) == [kept.pk]
    assert set(SmsDelivery.objects.values_list("pk", flat=True)) == {waiting_old.pk, sent_new.pk}
    assert old.pk and sent_old.pk and dead_old.pk


def test_staff_session_records_and_second_factor_resets_go_after_their_periods(cities):
    from accounts.staff_auth.models import SecondFactorReset, StaffSession

    now = timezone.now()
    staff, root = city_staff("330100"), city_staff("460100")
    gone = StaffSession.objects.create(
        user=staff, session_key="a" * 40, started_at=now - timedelta(days=2)
    )
    alive = StaffSession.objects.create(
        user=staff, session_key="b" * 40, started_at=now - timedelta(hours=3)
    )
    old_reset = SecondFactorReset.objects.create(
        user=staff, actor=root, reason="丢失手机", devices_removed=1
    )
    new_reset = SecondFactorReset.objects.create(
        user=staff, actor=root, reason="换手机", devices_removed=1
    )
    SecondFactorReset.objects.filter(pk=old_reset.pk).update(at=now - timedelta(days=366))

    assert purge_expired()["staff_records"] == 2

    assert list(StaffSession.objects.values_list("pk", flat=True)) == [alive.pk]
    assert list(SecondFactorReset.objects.values_list("pk", flat=True)) == [new_reset.pk]
    assert gone.pk
