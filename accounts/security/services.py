"""Brute force, for real: the client's address as the deployment's proxies give it, and
failed password logins counted per account (and address) in the database.

The policy (docs/accounts.md, "Password logins"), decided in one place, `login_gate`:

- per client address, every password login door (the API's token endpoint, the Django
  admin and the dashboard login) shares one throttle bucket (`auth_token`, 10/min):
  password spraying from one address gets 10 checks a minute, whatever the accounts;
- per account and address, growing delays: after LOGIN_ADDRESS_FREE_FAILURES failures of
  one phone from one address, that address waits LOGIN_DELAY_BASE_SECONDS, doubling with
  every further failure up to LOGIN_DELAY_MAX_SECONDS, before its next try on that phone;
- per account, from every address: LOGIN_LOCK_FAILURES failures within
  LOGIN_LOCK_WINDOW_SECONDS lock the phone's password login for LOGIN_LOCK_SECONDS
  (many addresses guessing one password);
- neither the delays nor the lock hold off the owner: a password login that also carries
  the owner's second factor (today the live login SMS code of the phone; the staff TOTP
  plugs in at the same place) is admitted, and a superuser may lift a lock in admin
  (logged). A login by SMS code alone never meets the lock either.

The API, the Django admin and the dashboard login share the counts (failures arrive
through Django's `user_login_failed` signal).
"""

import hashlib
import hmac
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginFailure, LoginLock

logger = logging.getLogger("xinyou.security")


def client_ip(request: HttpRequest) -> str | None:
    """The client address: REMOTE_ADDR, or with TRUSTED_PROXY_HOPS = n > 0 the n-th
    address from the right of X-Forwarded-For (what the outermost trusted proxy saw).
    The same rule as DRF's throttles (NUM_PROXIES)."""
    meta = getattr(request, "META", {})
    hops = settings.TRUSTED_PROXY_HOPS
    candidate = meta.get("REMOTE_ADDR")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if hops > 0 and forwarded:
        addrs = [a.strip() for a in forwarded.split(",")]
        candidate = addrs[-min(hops, len(addrs))]
    try:
        return str(ipaddress.ip_address((candidate or "").strip()))
    except ValueError:
        return None


def account_key(phone: str) -> str:
    key = f"xinyou-login-lock:{settings.SECRET_KEY}".encode()
    return hmac.new(key, (phone or "").strip().encode(), hashlib.sha256).hexdigest()


def lock_retry_after(phone: str) -> int | None:
    """Seconds until `phone`'s password login unlocks, or None when it is not locked."""
    lock = LoginLock.objects.filter(account_key=account_key(phone)).first()
    if lock is None:
        return None
    left = (lock.until - timezone.now()).total_seconds()
    return math.ceil(left) if left > 0 else None


def address_retry_after(phone: str, ip: str | None) -> int | None:
    """Seconds until `ip` may try `phone`'s password again (the growing per account and
    address delay), or None when it may now."""
    if not ip:
        return None
    free = settings.LOGIN_ADDRESS_FREE_FAILURES
    since = timezone.now() - timedelta(seconds=settings.LOGIN_ADDRESS_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(account_key=account_key(phone), client_ip=ip, at__gt=since)
    times = list(recent.order_by("-at").values_list("at", flat=True)[:64])
    if len(times) < free:
        return None
    delay = min(
        settings.LOGIN_DELAY_BASE_SECONDS * 2 ** (len(times) - free),
        settings.LOGIN_DELAY_MAX_SECONDS,
    )
    left = (times[0] + timedelta(seconds=delay) - timezone.now()).total_seconds()
    return math.ceil(left) if left > 0 else None


@dataclass(frozen=True)
class LoginDecision:
    """Whether a password may be checked now; `reason` is "account_locked" or
    "address_delay" when not, with `retry_after` seconds."""

    allowed: bool
    retry_after: int | None = None
    reason: str = ""


def login_gate(phone: str, ip: str | None, *, second_factor: bool = False) -> LoginDecision:
    """THE lockout decision of every password login (API token, admin, dashboard, and the
    authentication backend behind them): may `ip` have a password checked for `phone`?

    - `second_factor=True` (the caller has verified the owner's second factor for this
      very attempt: the phone's live login SMS code today; the staff TOTP later) admits
      the attempt whatever the lock and delays: they exist to hold off guessers, and the
      owner proves to be no guesser. The password is still checked.
    - a locked account (LOGIN_LOCK_FAILURES failures from any address within the window)
      is refused for what is left of its lock (`account_locked`);
    - an address that failed LOGIN_ADDRESS_FREE_FAILURES times on this phone waits a
      growing delay before its next try (`address_delay`).

    The per-address throttle (every door's shared `auth_token` bucket) is applied before
    this, by the doors themselves (DRF's ScopedRateThrottle, `login_form_retry_after`).
    """
    if second_factor:
        return LoginDecision(True)
    locked = lock_retry_after(phone)
    if locked:
        return LoginDecision(False, locked, "account_locked")
    delayed = address_retry_after(phone, ip)
    if delayed:
        return LoginDecision(False, delayed, "address_delay")
    return LoginDecision(True)


def lift_lock(phone_or_key: str, *, by: str) -> int:
    """A superuser lifts a lock (and forgets the failures behind it); logged, as every
    change of who may log in."""
    key = phone_or_key if len(phone_or_key) == 64 else account_key(phone_or_key)
    with transaction.atomic():
        lifted, _ = LoginLock.objects.filter(account_key=key).delete()
        LoginFailure.objects.filter(account_key=key).delete()
    logger.warning("login lock lifted account=%s… by=%s locks=%d", key[:12], by, lifted)
    return lifted


def record_failure(phone: str, ip: str | None) -> bool:
    """Count a failed password login; lock the account when this one reaches the limit.
    Returns True when the account is (now) locked."""
    if not phone:
        return False
    key = account_key(phone)
    now = timezone.now()
    window = now - timedelta(seconds=settings.LOGIN_LOCK_WINDOW_SECONDS)
    with transaction.atomic():
        LoginFailure.objects.create(account_key=key, at=now, client_ip=ip)
        failures = LoginFailure.objects.filter(account_key=key, at__gt=window).count()
        if failures < settings.LOGIN_LOCK_FAILURES:
            return False
        until = now + timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
        LoginLock.objects.bulk_create(
            [LoginLock(account_key=key, until=until, locked_at=now)],
            update_conflicts=True,
            unique_fields=["account_key"],
            update_fields=["until", "locked_at"],
        )
        # the lock is the memory now: after it the count starts again
        LoginFailure.objects.filter(account_key=key).delete()
    return True


def clear_failures(phone: str) -> None:
    """A successful login forgets the failures that did not reach the limit."""
    LoginFailure.objects.filter(account_key=account_key(phone)).delete()


def forget_phone(phone: str) -> None:
    """Closing an account: nothing about its phone stays in these tables."""
    key = account_key(phone)
    LoginFailure.objects.filter(account_key=key).delete()
    LoginLock.objects.filter(account_key=key).delete()
