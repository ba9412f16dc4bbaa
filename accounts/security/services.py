"""Brute force, for real: the client's address as the deployment's proxies give it, and
failed password logins counted per account in the database.

After LOGIN_LOCK_FAILURES failed password logins of one phone within
LOGIN_LOCK_WINDOW_SECONDS, that phone's password login is locked for
LOGIN_LOCK_SECONDS from any address. The API, the Django admin and the dashboard login
share the count (failures arrive through Django's `user_login_failed` signal).
"""

import hashlib
import hmac
import ipaddress
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginFailure, LoginLock


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
