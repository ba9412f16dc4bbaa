"""The staff second factor and staff sessions, as plain functions (the views, the admin,
the API login and the signal receivers call these)."""

import logging
import time
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tokens
from accounts.models import User
from core import roles

from .models import SecondFactorReset, StaffSession

log = logging.getLogger("accounts.staff_auth")

TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"

# session keys (seconds since the epoch)
SESSION_STARTED = "_staff_session_started"
SESSION_SEEN = "_staff_session_seen"


def enforced() -> bool:
    return bool(settings.XINYOU_STAFF_2FA)


def needs_second_factor(user: User | Any) -> bool:
    """Whether this account must show a second factor to log in: every staff account
    (core.roles.is_staff_account) while enforcement is on, except the phones the embedded
    demo lets through (XINYOU_STAFF_2FA_EXEMPT_PHONES; production has none)."""
    if not enforced() or not roles.is_staff_account(user):
        return False
    return user.phone not in settings.XINYOU_STAFF_2FA_EXEMPT_PHONES


def is_enrolled(user: User) -> bool:
    """Whether the account has a confirmed authenticator (TOTP)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (made on first call; the same secret
    until it is confirmed, so a reload shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=TOTP_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def confirm_enrolment(*, user: User, token: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending authenticator with a code it shows: the device becomes the
    account's second factor and a fresh set of one-time recovery codes is made (returned
    once, never shown again). None when the code is wrong."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, name=TOTP_NAME)
            .first()
        )
        if device is None or not device.verify_token(_digits(token)):
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user=user)
    log.info("staff second factor enrolled", extra={"user_id": user.pk})
    return device, codes


def new_recovery_codes(*, user: User) -> list[str]:
    """Replace the account's recovery codes with `STAFF_RECOVERY_CODES` new ones (each
    works once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _digits(token: str) -> str:
    return "".join(token.split())


def verify_second_factor(*, user: User, token: str) -> Device | None:
    """The confirmed device (authenticator or recovery codes) that accepts this code, or
    None. A recovery code is spent by its use; an authenticator code is accepted once
    (django-otp refuses a code of the same or an earlier time step). Every device is
    throttled after failures (growing delays, django-otp's ThrottlingMixin)."""
    token = _digits(token or "")
    if not token or len(token) > 16:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            is_totp = isinstance(device, TOTPDevice)
            if is_totp != token.isdigit():
                continue  # six digits go to the authenticator, letters to the recovery codes
            if device.verify_token(token.lower() if not is_totp else token):
                return device
    return None


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def reset_second_factor(
    *, actor: User, user: User, client_ip: str | None = None, reason: str = ""
) -> SecondFactorReset:
    """A superuser removes a staff member's authenticator and recovery codes; the member
    enrols again at their next login, and their sessions and refresh tokens end now.
    Recorded as a SecondFactorReset row, an admin LogEntry and a log line."""
    if not roles.is_superuser(actor):
        raise PermissionError("only a superuser resets a second factor")
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
        record = SecondFactorReset.objects.create(
            user=user, actor=actor, client_ip=client_ip, devices_removed=removed, reason=reason
        )
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message=[{"changed": {"fields": ["second_factor_reset"]}}],
            single_object=True,
        )
        end_sessions(user=user)
        tokens.revoke_all(user)
    log.warning(
        "staff second factor reset",
        extra={"user_id": user.pk, "actor_id": actor.pk, "devices_removed": removed},
    )
    return record


# --- sessions -----------------------------------------------------------------------------


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def start_session(request: HttpRequest, user: User) -> None:
    """At a staff login: stamp the session (for the idle and absolute limits) and record
    it (so a password or role change can end it)."""
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
    if settings.XINYOU_STAFF_SESSION_POLICY:
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
    if request.session.session_key is None:
        request.session.save()
    key = request.session.session_key
    if key:
        cutoff = timezone.now() - timedelta(seconds=settings.STAFF_SESSION_MAX_SECONDS)
        StaffSession.objects.filter(user=user, started_at__lt=cutoff).delete()
        StaffSession.objects.update_or_create(
            session_key=key, defaults={"user": user, "started_at": timezone.now()}
        )


def session_key_cycled(*, old: str, new: str) -> None:
    """Keep the record of a session whose id changed (cycle_key). A login as someone
    else in the same browser recorded the new id already: the old record just goes."""
    if StaffSession.objects.filter(session_key=new).exists():
        StaffSession.objects.filter(session_key=old).delete()
    else:
        StaffSession.objects.filter(session_key=old).update(session_key=new)


def end_sessions(*, user: User, keep: str | None = None) -> int:
    """End every recorded session of the user but `keep` (the caller's own, after changing
    their own password). Returns how many ended."""
    store = _session_store()
    rows = list(StaffSession.objects.filter(user=user).exclude(session_key=keep or ""))
    for row in rows:
        store(session_key=row.session_key).delete()
    StaffSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def session_expired(session: Any, now: float) -> bool:
    """Whether a staff session has been idle too long or is too old."""
    started = session.get(SESSION_STARTED)
    seen = session.get(SESSION_SEEN)
    if not isinstance(started, (int, float)) or not isinstance(seen, (int, float)):
        return False  # unstamped: stamped by the middleware on this request
    return (
        now - seen > settings.STAFF_SESSION_IDLE_SECONDS
        or now - started > settings.STAFF_SESSION_MAX_SECONDS
    )


# --- the API login (POST /api/v1/auth/token) ------------------------------------------------


def check_api_login(*, user: User, otp: str | None) -> None:
    """The same rule as the admin and the dashboard for a token login: a staff account
    sends its authenticator code (or a recovery code) as `otp`. Not enrolled yet:
    `401 otp_required` with `detail.enrolled` false and where to enrol; missing:
    `401 otp_required`; wrong, spent or throttled: `401 invalid_otp`."""
    from django.urls import reverse

    from .errors import INVALID_OTP, OTP_REQUIRED

    if not needs_second_factor(user):
        return
    if not is_enrolled(user):
        raise OTP_REQUIRED(enrolled=False, enrol_url=reverse("staff_auth:login"))
    if not otp:
        raise OTP_REQUIRED(enrolled=True)
    if verify_second_factor(user=user, token=otp) is None:
        raise INVALID_OTP()
