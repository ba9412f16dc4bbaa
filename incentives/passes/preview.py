"""A read-only look at a credit pass before an entitlement is applied (the counter's
"who is this, and what can I give them"): the masked holder, and each live entitlement
offer of the clerk's merchant with whether it can be applied now and why not.

It changes nothing and records nothing (no refusal counts: nothing was refused yet); the
apply call (`services.check_pass`) decides again, atomically, and stays the only writer.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from accounts import errors as account_errors
from accounts.identity import mask_name
from accounts.models import User

from .. import errors, signing
from ..facts import offer_reasons, present, read_facts
from ..offers.selectors import merchant_offers
from ..vouchers.services import merchant_of
from .models import EntitlementTally, EntitlementUse
from .services import period_bounds


@dataclass(frozen=True)
class OfferStanding:
    """One entitlement offer for this holder now: `reasons` empty means it can be applied."""

    offer_id: int
    title: str
    title_en: str
    benefit_type: str
    scenario: str
    merchant: str
    limit: int
    period: str
    used: int  # uses by this holder in the current period
    reasons: list[str] = field(default_factory=list)
    next_available_at: datetime | None = None


@dataclass(frozen=True)
class PassPreview:
    expires_at: datetime
    holder_name: str  # masked
    id_last4: str
    offers: list[OfferStanding]


def preview_pass(*, staff_id: int, token: str) -> PassPreview:
    """The masked holder of a pass and the clerk's merchant's live entitlement offers, each
    with the reasons it cannot be applied now (the check's own rules, plus
    `usage_limit_reached` when the holder's tally for the period is full and
    `pass_already_used` when this very pass was already used for it). Refuses as the check
    does: `400 invalid_token`, `410 pass_expired`, `403 not_merchant_staff`."""
    try:
        claims = signing.verify_pass(token)
    except signing.InvalidToken as exc:
        raise account_errors.INVALID_TOKEN(http_status=400, reason=str(exc)) from None
    now = timezone.now()
    if claims.expires_at <= now:
        raise errors.PASS_EXPIRED(expires_at=timezone.localtime(claims.expires_at).isoformat())
    merchant_id = merchant_of(staff_id)
    offers = list(merchant_offers(merchant_id=merchant_id, kind="entitlement")[:100])
    holder_name, id_last4 = "", ""
    standings: list[OfferStanding] = []
    used_by_pass = set(
        EntitlementUse.objects.filter(
            pass_id=claims.pass_id, offer_id__in=[o.pk for o in offers]
        ).values_list("offer_id", flat=True)
    )
    for offer in offers:
        facts = read_facts(
            resident_id=claims.resident_id, offer_id=offer.pk, now=now, staff_id=staff_id
        )
        if facts.holder_id is None:
            raise account_errors.INVALID_TOKEN(http_status=400, reason="unknown_holder")
        holder_name = mask_name(present(facts.real_name))
        id_last4 = (facts.id_masked or "")[-4:]
        reasons = [str(reason) for reason in offer_reasons(facts, now)]
        period_start, next_at = period_bounds(present(facts.period), now)
        tally = (
            EntitlementTally.objects.filter(
                offer_id=offer.pk, resident_id=facts.holder_id, period_start=period_start
            )
            .values_list("used", flat=True)
            .first()
        ) or 0
        limit = present(facts.limit_per_period)
        if offer.pk in used_by_pass:
            reasons.append("pass_already_used")
        if tally >= limit and "usage_limit_reached" not in reasons:
            # (the eligibility rules may name it themselves once they read the tally)
            reasons.append("usage_limit_reached")
        standings.append(
            OfferStanding(
                offer_id=offer.pk,
                title=offer.title,
                title_en=offer.title_en,
                benefit_type=offer.benefit_type,
                scenario=offer.scenario,
                merchant=offer.merchant.name,
                limit=limit,
                period=present(facts.period),
                used=tally,
                reasons=reasons,
                next_available_at=next_at if tally >= limit else None,
            )
        )
    if not offers:
        holder = _holder_only(claims.resident_id)
        holder_name, id_last4 = holder
    return PassPreview(
        expires_at=claims.expires_at, holder_name=holder_name, id_last4=id_last4, offers=standings
    )


def _holder_only(resident_id: int) -> tuple[str, str]:
    row = User.objects.filter(pk=resident_id).values_list("real_name", "id_masked").first()
    if row is None:
        raise account_errors.INVALID_TOKEN(http_status=400, reason="unknown_holder")
    return mask_name(row[0] or ""), (row[1] or "")[-4:]
