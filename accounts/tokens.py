"""Access and refresh tokens (simplejwt): issue, rotate (the one sent is spent), revoke.

Tokens carry the user's `role` as a claim (issue 18), so the gate's views take the caller
from the verified token alone (`core.auth.ClaimsJWTAuthentication`, no statement). Nothing
is weakened: the redemption statement itself re-checks, in the same round trip, that the
caller is an active user on the staff of an active merchant, so a deactivated clerk or a
suspended merchant is refused at once; a changed role is seen at the latest when the
access token expires (SIMPLE_JWT ACCESS_TOKEN_LIFETIME, 10 minutes by default), since a
rotation re-reads the user (and refuses a closed or inactive account).

Spent and revoked refresh tokens are simplejwt's blacklist rows; the blacklist's unique
token column decides a race between two refreshes of one token: exactly one wins. A spent
refresh token sent again is reuse (theft): its whole family is revoked
(`accounts.security.token_family`).
"""

import time

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.errors import INVALID_TOKEN
from accounts.models import User
from accounts.security import token_family
from core import roles


def tokens_for(
    user: User, family: str | None = None, *, auth_time: int | None = None
) -> RefreshToken:
    """A refresh token (and through it the access token) with the user's role as a claim
    and its family (a new one for a login, the spent token's for a rotation), within the
    staff session limits for staff accounts; recorded as an outstanding token."""
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role
    refresh[token_family.FAMILY_CLAIM] = family or token_family.new_family()
    _staff_limits(refresh, user, auth_time)
    # simplejwt recorded the token before these claims: keep the row's text whole (the
    # family is read back from it)
    OutstandingToken.objects.filter(jti=refresh[api_settings.JTI_CLAIM]).update(token=str(refresh))
    return refresh


def _staff_limits(refresh: RefreshToken, user: User, auth_time: int | None) -> None:
    """A staff account's refresh token follows the staff session limits (docs/accounts.md):
    it lives at most STAFF_SESSION_IDLE_SECONDS (a scanner idle longer logs in again) and
    never past STAFF_SESSION_MAX_SECONDS after the login (`auth_time`, carried through
    rotations). Residents' tokens keep JWT_REFRESH_DAYS."""
    if not settings.XINYOU_STAFF_SESSION_POLICY or not roles.is_staff_account(user):
        return
    now = int(time.time())
    refresh["auth_time"] = auth_time or now
    refresh["exp"] = min(
        int(refresh["exp"]),
        now + settings.STAFF_SESSION_IDLE_SECONDS,
        int(refresh["auth_time"]) + settings.STAFF_SESSION_MAX_SECONDS,
    )


def access_token_for(user: User) -> AccessToken:
    """An access token alone, with the role claim (no outstanding-token row)."""
    access = AccessToken.for_user(user)
    access["role"] = user.role
    return access


def issue_tokens(
    user: User, family: str | None = None, *, auth_time: int | None = None
) -> dict[str, str]:
    refresh = tokens_for(user, family, auth_time=auth_time)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _outstanding(token: RefreshToken) -> OutstandingToken:
    jti = token.payload[api_settings.JTI_CLAIM]
    row = OutstandingToken.objects.filter(jti=jti).first()
    if row is None:
        # simplejwt records the row, but returns get_or_create's (row, created) pair, not
        # the row its hint promises: read the row back.
        token.outstand()
        row = OutstandingToken.objects.get(jti=jti)
    return row


def rotate_refresh(raw: str) -> dict[str, str]:
    """A new access and refresh token for a valid refresh token, which is spent. A spent,
    revoked, expired or forged token, or one of a closed or inactive account, is
    `401 invalid_token`. A spent or revoked one (reuse) also revokes its whole family."""
    try:
        # signature, expiry and the blacklist (simplejwt hints `Token`; it decodes the str)
        token = RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        reused = token_family.reused_token_payload(raw)
        if reused is not None:
            token_family.revoke_family(reused)
        raise INVALID_TOKEN() from None
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    user = None if user_id is None else User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        raise INVALID_TOKEN()
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=_outstanding(token))
    except IntegrityError:  # spent by a simultaneous refresh: reuse as well
        token_family.revoke_family(token.payload)
        raise INVALID_TOKEN() from None
    auth_time = token.payload.get("auth_time")  # staff: the login's time (_staff_limits)
    if isinstance(auth_time, int) and time.time() - auth_time > settings.STAFF_SESSION_MAX_SECONDS:
        raise INVALID_TOKEN()
    return issue_tokens(
        user,
        token_family.family_of(token.payload),
        auth_time=auth_time if isinstance(auth_time, int) else None,
    )


def revoke_refresh(raw: str) -> None:
    """Log out: this refresh token stops working. One that is already spent, expired or
    not ours needs nothing more (logging out twice is fine)."""
    try:
        token = RefreshToken(raw)  # type: ignore[arg-type]  # as in rotate_refresh
    except TokenError:
        return
    try:
        with transaction.atomic():
            BlacklistedToken.objects.get_or_create(token=_outstanding(token))
    except IntegrityError:
        pass


def revoke_all(user: User) -> int:
    """Every refresh token of `user` stops working (closing an account)."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=t) for t in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
