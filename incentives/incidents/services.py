"""Incidents: a merchant reports, city staff of the merchant's city confirm or dismiss, the
resident objects once, city staff uphold or overturn. Each step is one conditional UPDATE
from the status it starts from (so two reviewers cannot both decide) and one audit row.

A confirmed incident suspends the resident from the offers of its scenario for the
scenario's suspension period (settings.INCIDENT_SUSPENSION_DAYS, default 90 days); the
suspension holds while the incident is confirmed, objected or upheld, and overturning
lifts it at once (eligibility reads the incident's status on every check).
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from core import roles
from core.errors import NOT_FOUND

from .. import errors, signing
from ..notices import incident_decided, incident_reported
from ..passes.models import EntitlementUse
from ..vouchers.models import Voucher
from ..vouchers.services import merchant_of
from .models import Incident, IncidentEvent

logger = logging.getLogger(__name__)

DEFAULT_SUSPENSION_DAYS = 90

# action -> (statuses it starts from, status it leads to)
DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "confirm": (("reported",), "confirmed"),
    "dismiss": (("reported",), "dismissed"),
    "uphold": (("objected",), "upheld"),
    "overturn": (("objected",), "overturned"),
}


def suspension_days(scenario: str) -> int:
    """The suspension period of a scenario (a setting per scenario, default 90 days)."""
    per_scenario = getattr(settings, "INCIDENT_SUSPENSION_DAYS", {}) or {}
    return int(per_scenario.get(scenario, DEFAULT_SUSPENSION_DAYS))


def _audit(
    incident: Incident, actor: User | None, action: str, before: str, note: str = ""
) -> None:
    IncidentEvent.objects.create(
        incident=incident,
        actor=actor,
        action=action,
        from_status=before,
        to_status=incident.status,
        note=note,
        at=timezone.now(),
    )


def _tell_resident(announce: Callable[..., object], *args: object) -> None:
    """The resident's notice (incentives/notices.py), after the step commits."""
    transaction.on_commit(lambda: announce(*args))


def report_incident(
    *,
    staff: User,
    kind: str,
    note: str = "",
    use_id: int | None = None,
    voucher_code: str | None = None,
) -> Incident:
    """A merchant's report on one of its own entitlement uses or vouchers. A second report
    on the same use or voucher returns the first (one incident per use or voucher)."""
    merchant_id = merchant_of(staff.pk)
    if use_id is not None:
        use = EntitlementUse.objects.filter(pk=use_id, merchant_id=merchant_id).first()
        if use is None:
            raise NOT_FOUND()
        target: dict[str, EntitlementUse | Voucher] = {"use": use}
        resident_id, offer_id, scenario = use.resident_id, use.offer_id, use.scenario
        dest_city = use.dest_city_id
    else:
        code = signing.normalize_code(voucher_code or "")
        voucher = (
            Voucher.objects.select_related("offer")
            .filter(code=code, merchant_id=merchant_id)
            .first()
            if code
            else None
        )
        if voucher is None:
            raise NOT_FOUND()
        target = {"voucher": voucher}
        resident_id, offer_id, scenario = (
            voucher.resident_id,
            voucher.offer_id,
            voucher.offer.scenario,
        )
        dest_city = voucher.dest_city_id
    with transaction.atomic():
        incident, created = Incident.objects.get_or_create(
            **target,
            defaults={
                "merchant_id": merchant_id,
                "dest_city_id": dest_city,
                "resident_id": resident_id,
                "offer_id": offer_id,
                "scenario": scenario,
                "kind": kind,
                "note": note,
                "reported_by": staff,
            },
        )
        if created:
            _audit(incident, staff, IncidentEvent.Action.REPORT, "", note)
            _tell_resident(incident_reported, incident.pk)
    logger.info("incident reported id=%s merchant=%s", incident.pk, merchant_id)
    return incident


def report_from_risk_signal(*, actor: User, voucher_id: int, note: str) -> Incident:
    """City staff turn a risk signal about a resident's voucher into an incident (kind
    `other`, the signal's explanation as its note), decided like a merchant's report. A
    voucher that has an incident already keeps that one."""
    voucher = Voucher.objects.select_related("offer").get(pk=voucher_id)
    with transaction.atomic():
        incident, created = Incident.objects.get_or_create(
            voucher=voucher,
            defaults={
                "merchant_id": voucher.merchant_id,
                "dest_city_id": voucher.dest_city_id,
                "resident_id": voucher.resident_id,
                "offer_id": voucher.offer_id,
                "scenario": voucher.offer.scenario,
                "kind": Incident.Kind.OTHER,
                "note": note,
                "reported_by": actor,
            },
        )
        if created:
            _audit(incident, actor, IncidentEvent.Action.REPORT, "", note)
    logger.info("incident from risk signal id=%s voucher=%s", incident.pk, voucher_id)
    return incident


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    """City staff see the incidents of merchants in their city; superusers all."""
    if roles.is_superuser(user):
        return Incident.objects.all()
    if roles.is_city_staff(user):
        return Incident.objects.filter(dest_city_id=user.staff_city_id)
    return Incident.objects.none()


def decide_incident(*, actor: User, incident_id: int, action: str, note: str = "") -> Incident:
    """City staff's decision: confirm or dismiss a report, uphold or overturn after an
    objection. Confirming suspends the resident from the scenario's offers; overturning
    lifts the suspension at once."""
    if action not in DECISIONS:
        raise ValueError(action)
    incident = incidents_visible_to(actor).filter(pk=incident_id).first()
    if incident is None:
        raise NOT_FOUND()
    starts, leads_to = DECISIONS[action]
    now = timezone.now()
    changes: dict = {"status": leads_to, "decided_at": now}
    if action == "confirm":
        changes["suspended_until"] = now + timedelta(days=suspension_days(incident.scenario))
    elif action == "uphold" and incident.suspended_until is None:
        # objected before it was confirmed: upholding confirms it, from now
        changes["suspended_until"] = now + timedelta(days=suspension_days(incident.scenario))
    elif action == "overturn":
        changes["suspended_until"] = None
    with transaction.atomic():
        done = Incident.objects.filter(pk=incident.pk, status__in=starts).update(**changes)
        if not done:
            incident.refresh_from_db(fields=["status"])
            raise errors.INCIDENT_NOT_PENDING(status=incident.status)
        before = incident.status
        incident.refresh_from_db()
        _audit(incident, actor, action, before, note)
        _tell_resident(incident_decided, incident.pk, action)
    logger.info("incident %s id=%s by=%s", action, incident.pk, actor.pk)
    return incident


def object_to_incident(*, resident: User, incident_id: int, text: str) -> Incident:
    """The resident's one objection (异议) to an incident reported against them; it stays
    `objected` (a confirmed suspension holding) until city staff uphold or overturn it."""
    incident = Incident.objects.filter(pk=incident_id, resident=resident).first()
    if incident is None:
        raise NOT_FOUND()
    now = timezone.now()
    with transaction.atomic():
        done = Incident.objects.filter(
            pk=incident.pk,
            objected_at__isnull=True,
            status__in=(Incident.Status.REPORTED, Incident.Status.CONFIRMED),
        ).update(status=Incident.Status.OBJECTED, objection=text, objected_at=now)
        if not done:
            incident.refresh_from_db()
            if incident.objected_at is not None:
                raise errors.OBJECTION_EXISTS(objected_at=incident.objected_at.isoformat())
            raise errors.INCIDENT_NOT_PENDING(status=incident.status)
        before = incident.status
        incident.refresh_from_db()
        _audit(incident, resident, IncidentEvent.Action.OBJECT, before, text)
    return incident
