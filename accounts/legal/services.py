"""Reading and accepting the user agreement and privacy notice."""

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import AGREEMENT_REQUIRED

from .models import Agreement, AgreementAcceptance

if TYPE_CHECKING:
    from accounts.models import User


def current_agreement() -> Agreement | None:
    return Agreement.objects.filter(is_current=True).first()


def require_current(version: str | None) -> Agreement:
    """The current agreement if `version` names it, else `400 agreement_required`."""
    current = current_agreement()
    if current is None or not version or version != current.version:
        raise AGREEMENT_REQUIRED(current_version=current.version if current else None)
    return current


def accepted_version(user: "User") -> str | None:
    row = (
        AgreementAcceptance.objects.filter(user=user)
        .select_related("agreement")
        .order_by("-accepted_at", "-pk")
        .first()
    )
    return row.agreement.version if row else None


def agreement_outdated(user: "User") -> bool:
    """True when the user has not accepted the current version (the app asks again)."""
    current = current_agreement()
    if current is None:
        return False
    return not AgreementAcceptance.objects.filter(user=user, agreement=current).exists()


def accept_agreement(*, user: "User", version: str | None) -> AgreementAcceptance:
    """Record that `user` accepts the current version (idempotent: once per version)."""
    agreement = require_current(version)
    try:
        with transaction.atomic():
            acceptance, _ = AgreementAcceptance.objects.get_or_create(
                user=user, agreement=agreement, defaults={"accepted_at": timezone.now()}
            )
    except IntegrityError:  # a simultaneous accept of the same version
        acceptance = AgreementAcceptance.objects.get(user=user, agreement=agreement)
    return acceptance
