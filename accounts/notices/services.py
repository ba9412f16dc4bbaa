"""Notices to residents: write each one once per event, keep the inbox, send the SMS.

- `notify` / `notify_many`: one INSERT … ON CONFLICT DO NOTHING (the unique key
  (resident, kind, event)): an event announced twice, or by two processes at once, gives
  one notice. Closed or inactive accounts get none. The inbox always gets it; the SMS goes
  where the resident's settings allow the kind.
- SMS: each delivery row is sent by the Celery task `accounts.send_notice_sms` (rate
  limited), claimed by one conditional UPDATE (so two workers never both send it), retried
  with exponential backoff while the gateway is down and kept as a dead letter after the
  last try; the beat task `accounts.send_due_notice_sms` picks up whatever is due (after
  the quiet hours, after a lost task). The gateway request carries the delivery's fixed
  `request_id`, so a repeated request is one message (docs/sms-gateway-api.md).
- Quiet hours (NOTICE_QUIET_HOURS, 22:00–08:00 Asia/Shanghai): an SMS waits until they
  end; the inbox does not.
- Closing an account (`close_inbox`, from accounts.privacy.close_account) erases the inbox,
  the settings and the pending messages; the closing notice goes by SMS only (the inbox
  goes with the account), sent once right after the closing commits, its phone number
  written nowhere.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.sms.gateways import SmsUnavailable
from accounts.sms.registry import gateway

from . import texts
from .models import Notice, NoticeKind, NoticeSettings, SmsDelivery

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = tuple(NoticeKind.values)
MAX_IDS = 100  # ids in one "mark read" request


@dataclass(frozen=True)
class Event:
    """One event for one resident: `event` names it within its kind (unique per resident)."""

    resident_id: int
    event: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""


# --------------------------------------------------------------------------- settings


def _conf(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def service_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)  # Asia/Shanghai


def quiet_until(moment: datetime) -> datetime | None:
    """The end of the quiet hours that `moment` falls in (their local end, 08:00), or
    None outside them."""
    start, end = _conf("NOTICE_QUIET_HOURS", (22, 8))
    zone = service_zone()
    local = moment.astimezone(zone)
    # a window within one day, or one across midnight (22–8)
    inside = start <= local.hour < end if start <= end else local.hour >= start or local.hour < end
    if not inside:
        return None
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end), tzinfo=zone)


def backoff_seconds(attempts: int) -> float:
    """Wait after the `attempts`-th failed try: base · 2^(attempts−1), at most the cap."""
    base = float(_conf("NOTICE_SMS_BACKOFF_SECONDS", 30.0))
    cap = float(_conf("NOTICE_SMS_BACKOFF_MAX_SECONDS", 3600.0))
    return min(cap, base * 2 ** max(0, attempts - 1))


def sms_choices(settings_row: NoticeSettings | None) -> dict[str, bool]:
    """Every kind → whether it also goes by SMS (a kind not chosen yet: yes)."""
    chosen = settings_row.sms if settings_row else {}
    return {kind: bool(chosen.get(kind, True)) for kind in KINDS}


def notice_settings(*, resident: User) -> dict[str, bool]:
    return sms_choices(NoticeSettings.objects.filter(resident=resident).first())


def set_notice_settings(*, resident: User, sms: dict[str, bool]) -> dict[str, bool]:
    """Change which kinds also go by SMS (the kinds given; the others stay as they are).
    The inbox gets every kind whatever is chosen."""
    unknown = sorted(set(sms) - set(KINDS))
    if unknown:
        raise ValueError(unknown)
    with transaction.atomic():
        row, _ = NoticeSettings.objects.select_for_update().get_or_create(resident=resident)
        row.sms = {**row.sms, **{kind: bool(on) for kind, on in sms.items()}}
        row.save(update_fields=["sms", "updated_at"])
    return sms_choices(row)


def remember_language(*, resident_id: int, language: str) -> None:
    """Keep the language the resident uses the app in, for their SMS (one statement; it
    writes only when the language changed)."""
    language = texts.language_of(language)
    table = NoticeSettings._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (resident_id, sms, language, updated_at)
                VALUES (%s, '{{}}'::jsonb, %s, now())
                ON CONFLICT (resident_id) DO UPDATE SET language = EXCLUDED.language,
                    updated_at = EXCLUDED.updated_at
                WHERE {table}.language IS DISTINCT FROM EXCLUDED.language""",  # noqa: S608
            [resident_id, language],
        )


# --------------------------------------------------------------------------- writing


def notify(
    *,
    kind: str,
    resident_id: int,
    event: str,
    params: dict[str, Any] | None = None,
    link: str = "",
    now: datetime | None = None,
) -> int | None:
    """Announce one event to one resident; the new notice's id, or None when this event
    was announced before (or the account is closed)."""
    created = notify_many(
        kind=kind, events=[Event(resident_id, event, params or {}, link)], now=now
    )
    return created[0] if created else None


def notify_many(*, kind: str, events: Iterable[Event], now: datetime | None = None) -> list[int]:
    """Announce events of one kind: one INSERT for all of them; an event already announced
    (the unique key) or a resident whose account is closed is skipped. Returns the new
    notices' ids. The SMS of the new ones are queued (sent after commit)."""
    if kind not in KINDS or kind == NoticeKind.ACCOUNT_CLOSED:
        raise ValueError(kind)
    events = list(events)
    if not events:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {Notice._meta.db_table}
                        (resident_id, kind, event, params, link, created_at)
                    SELECT e.resident_id, %s, e.event, e.params::jsonb, e.link, %s
                    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
                         AS e(resident_id, event, params, link)
                    JOIN {User._meta.db_table} u ON u.id = e.resident_id
                    WHERE u.closed_at IS NULL AND u.is_active
                    ON CONFLICT ON CONSTRAINT notice_once_per_event DO NOTHING
                    RETURNING id, resident_id, params::text""",  # noqa: S608
                [
                    kind,
                    now,
                    [e.resident_id for e in events],
                    [e.event[:64] for e in events],
                    [json.dumps(e.params, ensure_ascii=False) for e in events],
                    [e.link[:200] for e in events],
                ],
            )
            created = cursor.fetchall()
        if created:
            _queue_sms(
                kind,
                [(nid, rid, json.loads(params)) for nid, rid, params in created],
                now,
            )
    return [nid for nid, _rid, _params in created]


def _queue_sms(kind: str, created: Sequence[tuple[int, int, dict]], now: datetime) -> None:
    people = {
        row["pk"]: row
        for row in User.objects.filter(pk__in={rid for _n, rid, _p in created}).values(
            "pk", "phone", "home_city_id", "notice_settings__sms", "notice_settings__language"
        )
    }
    not_before = quiet_until(now) or now
    rows = []
    for notice_id, resident_id, params in created:
        person = people.get(resident_id)
        if person is None or not (person["notice_settings__sms"] or {}).get(kind, True):
            continue
        language = person["notice_settings__language"] or texts.DEFAULT_LANGUAGE
        rows.append(
            SmsDelivery(
                notice_id=notice_id,
                resident_id=resident_id,
                city_id=person["home_city_id"],
                kind=kind,
                phone=person["phone"],
                text=texts.sms_text(kind, params, language),
                created_at=now,
                not_before=not_before,
            )
        )
    if rows:
        SmsDelivery.objects.bulk_create(rows)
        if not_before <= now:
            ids = [row.pk for row in rows]
            transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(delivery_ids: Iterable[int]) -> None:
    """Queue the sends; when the queue is away, the beat sweep sends them later."""
    from core.resilience import enqueue

    from .tasks import send_notice_sms

    for delivery_id in delivery_ids:
        enqueue(send_notice_sms, delivery_id, inline_when_down=False)


# --------------------------------------------------------------------------- the inbox


def inbox(*, resident: User, unread: bool = False) -> QuerySet[Notice]:
    rows = Notice.objects.filter(resident=resident)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(*, resident: User) -> int:
    return Notice.objects.filter(resident=resident, read_at__isnull=True).count()


def mark_read(*, resident: User, ids: Sequence[int] = (), all: bool = False) -> int:
    """Mark the resident's own notices read (`ids`, or `all`); ids of other people's or
    unknown notices change nothing. Returns how many stay unread."""
    rows = Notice.objects.filter(resident=resident, read_at__isnull=True)
    if not all:
        rows = rows.filter(pk__in=list(ids)[:MAX_IDS])
    rows.update(read_at=timezone.now())
    return unread_count(resident=resident)


# --------------------------------------------------------------------------- closing


def close_inbox(*, user: User, now: datetime) -> None:
    """Inside the account's closing transaction, before the person is erased: erase the
    inbox, the settings and every message not sent yet; after commit, send the closing SMS
    (when the resident allows that kind: the inbox goes with the account, so it is SMS
    only)."""
    row = NoticeSettings.objects.filter(resident=user).first()
    wanted = sms_choices(row)[NoticeKind.ACCOUNT_CLOSED]
    language = row.language if row else ""
    SmsDelivery.objects.filter(resident=user).delete()
    Notice.objects.filter(resident=user).delete()
    NoticeSettings.objects.filter(resident=user).delete()
    if not wanted:
        return
    phone, city_id = user.phone, user.home_city_id
    text = texts.sms_text(NoticeKind.ACCOUNT_CLOSED, {}, language)
    transaction.on_commit(lambda: send_closing_sms(phone=phone, city_id=city_id, text=text))


def send_closing_sms(*, phone: str, city_id: str | None, text: str) -> str:
    """The closing SMS, once, at once, from the process that closed the account: the phone
    number is never written down again (not even for the quiet hours: it confirms what the
    resident has just done, like a verification code). What is kept is a row without
    the phone: sent, or a dead letter when the gateway refused it (the gateway client's own
    retries spent)."""
    request_id = uuid.uuid4()
    try:
        ref = gateway().send_notice(
            phone=phone, kind=NoticeKind.ACCOUNT_CLOSED, text=text, request_id=request_id.hex
        )
        status, error = SmsDelivery.Status.SENT, ""
    except SmsUnavailable as exc:
        ref, status, error = "", SmsDelivery.Status.DEAD, str(exc)[:200]
        logger.error("closing sms not sent: %s", error)
    now = timezone.now()
    SmsDelivery.objects.create(
        kind=NoticeKind.ACCOUNT_CLOSED,
        city_id=city_id,
        phone="",
        text=text,
        request_id=request_id,
        status=status,
        attempts=1,
        created_at=now,
        not_before=now,
        sent_at=now if status == SmsDelivery.Status.SENT else None,
        gateway_ref=ref[:64],
        last_error=error,
    )
    return str(status)


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class SendOutcome:
    state: str  # sent | retry | dead | quiet | skipped
    retry_in: float | None = None


def send_delivery(*, delivery_id: int, now: datetime | None = None) -> SendOutcome:
    """Send one SMS if it is due and nobody else is sending it: claimed by one conditional
    UPDATE (pending and due, or a sender's claim that lapsed), then sent through the
    gateway with its fixed request id. A failure schedules the next try (backoff) or,
    after NOTICE_SMS_MAX_ATTEMPTS, makes it a dead letter. In the quiet hours it waits."""
    now = now or timezone.now()
    due = SmsDelivery.objects.filter(pk=delivery_id, not_before__lte=now).filter(
        Q(status=SmsDelivery.Status.PENDING)
        | Q(status=SmsDelivery.Status.SENDING, claimed_until__lt=now)
    )
    quiet = quiet_until(now)
    if quiet is not None:
        moved = due.update(status=SmsDelivery.Status.PENDING, not_before=quiet)
        return SendOutcome("quiet" if moved else "skipped")
    lease = float(_conf("NOTICE_SMS_LEASE_SECONDS", 120.0))
    claimed = due.update(
        status=SmsDelivery.Status.SENDING,
        claimed_until=now + timedelta(seconds=lease),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return SendOutcome("skipped")
    delivery = SmsDelivery.objects.get(pk=delivery_id)
    mine = SmsDelivery.objects.filter(pk=delivery_id, status=SmsDelivery.Status.SENDING)
    try:
        ref = gateway().send_notice(
            phone=delivery.phone,
            kind=delivery.kind,
            text=delivery.text,
            request_id=delivery.request_id.hex,
        )
    except SmsUnavailable as exc:
        error = str(exc)[:200]
        if delivery.attempts >= int(_conf("NOTICE_SMS_MAX_ATTEMPTS", 12)):
            mine.update(
                status=SmsDelivery.Status.DEAD,
                claimed_until=None,
                last_error=error,
            )
            logger.error("notice sms dead id=%s after %s tries", delivery_id, delivery.attempts)
            return SendOutcome("dead")
        wait = backoff_seconds(delivery.attempts)
        mine.update(
            status=SmsDelivery.Status.PENDING,
            claimed_until=None,
            not_before=timezone.now() + timedelta(seconds=wait),
            last_error=error,
        )
        logger.warning("notice sms id=%s failed (%s); next try in %.0f s", delivery_id, error, wait)
        return SendOutcome("retry", wait)
    mine.update(
        status=SmsDelivery.Status.SENT,
        claimed_until=None,
        sent_at=timezone.now(),
        gateway_ref=ref[:64],
        last_error="",
    )
    return SendOutcome("sent")


def due_deliveries(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Ids of the SMS that are due and not being sent (for the beat sweep)."""
    now = now or timezone.now()
    if quiet_until(now) is not None:
        return []
    return list(
        SmsDelivery.objects.filter(not_before__lte=now)
        .filter(
            Q(status=SmsDelivery.Status.PENDING)
            | Q(status=SmsDelivery.Status.SENDING, claimed_until__lt=now)
        )
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def send_due_deliveries(*, now: datetime | None = None) -> int:
    """Queue every due SMS (the beat sweep): after the quiet hours, after a lost task."""
    ids = due_deliveries(now=now)
    _enqueue(ids)
    return len(ids)
