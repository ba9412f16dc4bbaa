"""The real-name check before an account exists, audited like credit queries."""

import hashlib
import hmac
import logging
import time

from django.conf import settings

from accounts.errors import IDENTITY_MISMATCH, IDENTITY_UNAVAILABLE

from .models import IdentityCheck
from .providers import IdentityUnavailable
from .registry import identity_provider

logger = logging.getLogger(__name__)


def audit_ref(person_hash: str) -> str:
    """The pseudonym under which identity checks about a person are audited."""
    key = f"xinyou-identity-audit:{settings.ID_HASH_KEY}".encode()
    return hmac.new(key, person_hash.encode(), hashlib.sha256).hexdigest()


def check_identity(*, person_hash: str, real_name: str) -> IdentityCheck:
    """Ask the identity provider whether `real_name` is the name of the person; record
    the check whatever the outcome. A wrong name is `403 identity_mismatch`; no answer is
    `503 provider_unavailable`."""
    provider = identity_provider()
    started = time.monotonic()
    try:
        answer = provider.verify(person_hash=person_hash, real_name=real_name)
        outcome = IdentityCheck.Outcome.MATCH if answer.matches else IdentityCheck.Outcome.MISMATCH
        known, reference = answer.known, answer.reference
    except IdentityUnavailable as exc:
        logger.warning("identity provider failed: %s", exc)
        outcome, known, reference = IdentityCheck.Outcome.UNAVAILABLE, False, ""
    check = IdentityCheck.objects.create(
        person_ref=audit_ref(person_hash),
        provider=provider.name,
        outcome=outcome,
        known=known,
        reference=reference[:64],
        latency_ms=int((time.monotonic() - started) * 1000),
    )
    if outcome == IdentityCheck.Outcome.UNAVAILABLE:
        raise IDENTITY_UNAVAILABLE()
    if outcome == IdentityCheck.Outcome.MISMATCH:
        raise IDENTITY_MISMATCH()
    return check
