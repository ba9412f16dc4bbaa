"""Helpers of the staff second-factor tests: compute authenticator codes as the app on a
phone would (django-otp's own TOTP), enrol an account, verify a session."""

import re
import time
from base64 import b32decode

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def code_for(key: bytes, *, steps_ahead: int = 0) -> str:
    """The 6-digit code an authenticator shows now (or `steps_ahead` 30-second steps later:
    a code is accepted once, so a second login in one test uses the next step's)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def secret_of(page: str) -> bytes:
    """The secret the enrolment page shows as text, as the bytes an app would keep."""
    match = SECRET_RE.search(page)
    assert match, "the enrolment page shows the secret as text"
    return b32decode(match.group(1).replace(" ", ""))


def enrolled(user) -> bytes:
    """Give `user` a confirmed authenticator directly; its key."""
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device.bin_key


def verified_client(user, key: bytes, *, steps_ahead: int = 0) -> Client:
    """A client signed in with password and authenticator code."""
    client = Client()
    assert client.login(username=user.phone, password=PASSWORD)
    res = client.post("/staff/2fa/verify/", {"code": code_for(key, steps_ahead=steps_ahead)})
    assert res.status_code == 302, res.content.decode()[:500]
    return client
