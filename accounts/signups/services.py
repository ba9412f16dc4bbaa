"""Recording and purging sign-up events."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from ..security.services import client_ip
from .models import SignupEvent


def record(request: HttpRequest, kind: str, *, city_code: str = "") -> None:
    """One SMS-code request or registration attempt from the request's client address."""
    SignupEvent.objects.create(kind=kind, client_ip=client_ip(request), city_code=city_code[:6])


def purge(now=None) -> int:
    """Delete the events older than SIGNUP_EVENT_DAYS (default 30); returns how many."""
    now = now or timezone.now()
    days = int(getattr(settings, "SIGNUP_EVENT_DAYS", 30))
    deleted, _ = SignupEvent.objects.filter(at__lt=now - timedelta(days=days)).delete()
    return deleted
