"""Refresh-token families: every refresh token carries the id of the login it descends
from (`fam` claim); a rotation hands the family on. A refresh token sent again after it
was spent is taken as stolen (one of the two holders is not the owner): every refresh
token of that family stops working, the thief's and the owner's alike (the owner logs in
again). Access tokens already issued run out by themselves (ACCESS_TOKEN_LIFETIME).

No table of its own: the family is read from the outstanding tokens of the user
(simplejwt's OutstandingToken rows keep the token text), and revoked through the
blacklist, like a logout."""

import logging
import uuid

from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

logger = logging.getLogger("xinyou.security")

FAMILY_CLAIM = "fam"


def new_family() -> str:
    return uuid.uuid4().hex


def family_of(payload: dict) -> str | None:
    family = payload.get(FAMILY_CLAIM)
    return family if isinstance(family, str) and family else None


def reused_token_payload(raw: str) -> dict | None:
    """The payload of `raw` when it is a genuine, unexpired refresh token of ours that is
    already spent or revoked (on the blacklist); None otherwise (forged, expired, not a
    refresh token, or simply live)."""
    backend = token_backend
    try:
        payload = backend.decode(raw, verify=True)  # type: ignore[arg-type]  # signature, expiry
    except TokenBackendError:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        return None
    jti = payload.get(api_settings.JTI_CLAIM)
    if not jti or not BlacklistedToken.objects.filter(token__jti=jti).exists():
        return None
    return payload


def revoke_family(payload: dict) -> int:
    """Blacklist every live refresh token of the family `payload` belongs to (all of the
    user's live refresh tokens when it names no family). Returns how many."""
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return 0
    family = family_of(payload)
    backend = token_backend
    live = OutstandingToken.objects.filter(user_id=user_id, blacklistedtoken__isnull=True)
    doomed = []
    for row in live.only("id", "token"):
        try:
            theirs = family_of(backend.decode(row.token, verify=False))  # type: ignore[arg-type]
        except TokenBackendError:
            theirs = None
        if family is None or theirs == family:
            doomed.append(BlacklistedToken(token=row))
    BlacklistedToken.objects.bulk_create(doomed, ignore_conflicts=True)
    logger.warning(
        "refresh token reused: family revoked user=%s family=%s tokens=%d",
        user_id,
        family or "-",
        len(doomed),
    )
    return len(doomed)
