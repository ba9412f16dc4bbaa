"""What incentives tells residents (accounts.notices): vouchers about to lapse, incidents
reported and decided, objections decided, suspensions that ended.

The incident hooks run after the step commits (incentives/incidents/services.py); the two
sweeps are beat tasks (incentives.tasks), set-based: one read of what is due and not
announced yet, one INSERT per batch. Each event's notice is written once whatever runs
twice (the unique key of accounts.notices).
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.notices.models import Notice, NoticeKind
from accounts.notices.services import Event, notify, notify_many
from accounts.notices.texts import in_languages
from merchants.models import Scenario

from .incidents.models import Incident
from .vouchers.models import Voucher

EXPIRY_WINDOW = timedelta(hours=24)
# a suspension that ended longer ago than this is not announced any more (beat was away)
SUSPENSION_LOOKBACK = timedelta(days=7)
BATCH = 5000
INCIDENTS_LINK = "#/pass"  # the credit pass screen lists the resident's incidents


def _offer_title(title: str, title_en: str) -> dict[str, str]:
    return {"zh-hans": title, "en": title_en or title}


def _scenario(code: str) -> dict[str, str] | str:
    return in_languages(Scenario(code).label) if code in Scenario.values else code


def _incident_params(incident: Incident) -> dict[str, Any]:
    # the merchant (a business) and what happened; never the clerk or any person's name
    return {
        "merchant": incident.merchant.name,
        "incident": in_languages(Incident.Kind(incident.kind).label),
        "scenario": _scenario(incident.scenario),
        "until": incident.suspended_until.isoformat() if incident.suspended_until else "",
    }


def _announced(kind: str, event_field: str) -> Exists:
    return Exists(
        Notice.objects.filter(
            resident_id=OuterRef("resident_id"), kind=kind, event=OuterRef(event_field)
        )
    )


# --------------------------------------------------------------------------- incidents


def incident_reported(incident_id: int) -> int | None:
    incident = Incident.objects.select_related("merchant").get(pk=incident_id)
    return notify(
        kind=NoticeKind.INCIDENT_REPORTED,
        resident_id=incident.resident_id,
        event=str(incident.pk),
        params=_incident_params(incident),
        link=INCIDENTS_LINK,
    )


def incident_decided(incident_id: int, action: str) -> int | None:
    """confirm or dismiss → incident_decided; uphold or overturn → objection_decided."""
    incident = Incident.objects.select_related("merchant").get(pk=incident_id)
    outcomes = {
        "confirm": (NoticeKind.INCIDENT_DECIDED, "confirmed"),
        "dismiss": (NoticeKind.INCIDENT_DECIDED, "dismissed"),
        "uphold": (NoticeKind.OBJECTION_DECIDED, "upheld"),
        "overturn": (NoticeKind.OBJECTION_DECIDED, "overturned"),
    }
    kind, outcome = outcomes[action]
    return notify(
        kind=kind,
        resident_id=incident.resident_id,
        event=str(incident.pk),
        params={**_incident_params(incident), "outcome": outcome},
        link=INCIDENTS_LINK,
    )


# --------------------------------------------------------------------------- sweeps


def notify_expiring_vouchers(*, now: datetime | None = None) -> int:
    """Every issued voucher that lapses within 24 hours and was not announced yet gets one
    `voucher_expiring` notice (event: the voucher's code). Returns how many were new."""
    now = now or timezone.now()
    total = 0
    after = 0
    while True:
        rows = (
            Voucher.objects.filter(
                status=Voucher.Status.ISSUED,
                expires_at__gt=now,
                expires_at__lte=now + EXPIRY_WINDOW,
            )
            .exclude(_announced(NoticeKind.VOUCHER_EXPIRING, "code"))
            .filter(pk__gt=after)
            .order_by("pk")
        )
        batch = list(
            rows.values_list(
                "pk", "resident_id", "code", "expires_at", "terms__title", "terms__title_en"
            )[:BATCH]
        )
        if not batch:
            return total
        after = batch[-1][0]
        events = [
            Event(
                resident_id,
                code,
                {
                    "offer": _offer_title(str(title or ""), str(title_en or "")),
                    "expires_at": expires_at.isoformat(),
                },
                f"#/wallet/{code}",
            )
            for _pk, resident_id, code, expires_at, title, title_en in batch
        ]
        total += len(notify_many(kind=NoticeKind.VOUCHER_EXPIRING, events=events))


def notify_ended_suspensions(*, now: datetime | None = None) -> int:
    """Every suspension that ended (its incident still confirmed or upheld, its end passed
    within the last week) and is not followed by another one of the same scenario gets one
    `suspension_ended` notice (event: the incident's id). Returns how many were new."""
    now = now or timezone.now()
    later = Incident.objects.filter(
        resident_id=OuterRef("resident_id"),
        scenario=OuterRef("scenario"),
        status__in=Incident.SUSPENDING,
        suspended_until__gt=now,
    )
    rows = (
        Incident.objects.filter(
            status__in=Incident.SUSPENDING,
            suspended_until__lte=now,
            suspended_until__gt=now - SUSPENSION_LOOKBACK,
        )
        .annotate(event_key=Cast("pk", CharField()))
        .exclude(Exists(later))
        .exclude(_announced(NoticeKind.SUSPENSION_ENDED, "event_key"))
        .order_by("pk")
    )
    total = 0
    after = 0
    while True:
        batch = list(rows.filter(pk__gt=after).values_list("pk", "resident_id", "scenario")[:BATCH])
        if not batch:
            return total
        after = batch[-1][0]
        events = [
            Event(resident_id, str(pk), {"scenario": _scenario(scenario)}, INCIDENTS_LINK)
            for pk, resident_id, scenario in batch
        ]
        total += len(notify_many(kind=NoticeKind.SUSPENSION_ENDED, events=events))
