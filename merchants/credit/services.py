"""Enterprise credit of merchants: the query when a merchant is added, the daily sync, and
the pause of the offers of a merchant that is no longer in good standing.

A merchant is in good standing unless graded D or on the seriously-dishonest entities
list. Everything a provider says is checked (providers.check_item) before it is stored;
what fails is audited as `rejected` and never stored.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.credit.providers import ProviderUnavailable
from core.staged_sync import staging_table

from ..models import Merchant, MerchantCreditCheck, Offer, OfferTransition
from .providers import EnterpriseNotFound, Malformed, MalformedAnswer
from .registry import enterprise_provider

logger = logging.getLogger(__name__)

PURPOSE_ONBOARDING = "merchant_onboarding"
AUDITED_REJECTS = 100  # per sync: one row each; beyond that only the count


def _credit_reason(grade: str, listed: bool) -> str:
    if listed:
        return _("商户被列入严重失信主体名单，信用同步自动暂停其优惠。")
    return _("商户企业信用等级为 %(grade)s 级，信用同步自动暂停其优惠。") % {"grade": grade}


def pause_offers_of_bad_merchants(*, merchant_ids: list[int] | None = None) -> int:
    """Pause every published offer of a merchant not in good standing (all of them, or
    of `merchant_ids`), in one statement, and record why. Returns how many were paused."""
    now = timezone.now()
    bad = Merchant.objects.filter(seriously_dishonest=True) | Merchant.objects.filter(
        credit_grade="D"
    )
    if merchant_ids is not None:
        bad = bad.filter(pk__in=merchant_ids)
    offers = Offer.objects.filter(status=Offer.Status.PUBLISHED, merchant__in=bad)
    rows = list(
        offers.values_list(
            "pk", "terms_version", "merchant__credit_grade", "merchant__seriously_dishonest"
        )
    )
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    paused = Offer.objects.filter(pk__in=ids, status=Offer.Status.PUBLISHED).update(
        status=Offer.Status.PAUSED, credit_paused_at=now, updated_at=now
    )
    OfferTransition.objects.bulk_create(
        [
            OfferTransition(
                offer_id=pk,
                actor=None,
                action=OfferTransition.Action.PAUSE,
                from_status=Offer.Status.PUBLISHED,
                to_status=Offer.Status.PAUSED,
                reason=_credit_reason(grade, listed),
                terms_version=version,
                at=now,
            )
            for pk, version, grade, listed in rows
        ],
        batch_size=2000,
    )
    return paused


def check_merchant_credit(*, merchant_id: int) -> str:
    """Ask the enterprise credit provider about one merchant (when it is added), audit
    the answer and store the grade; pause its offers if it is not in good standing.
    Returns the outcome: ok, not_found, unavailable or rejected."""
    merchant = Merchant.objects.get(pk=merchant_id)
    provider = enterprise_provider()
    answer, error = None, ""
    try:
        answer = provider.query(credit_code=merchant.credit_code, purpose=PURPOSE_ONBOARDING)
        outcome = MerchantCreditCheck.Outcome.OK
    except EnterpriseNotFound:
        outcome = MerchantCreditCheck.Outcome.NOT_FOUND
    except MalformedAnswer as exc:
        outcome, error = MerchantCreditCheck.Outcome.REJECTED, str(exc)
    except ProviderUnavailable as exc:
        outcome, error = MerchantCreditCheck.Outcome.UNAVAILABLE, str(exc)
    now = timezone.now()
    with transaction.atomic():
        MerchantCreditCheck.objects.create(
            source=MerchantCreditCheck.Source.QUERY,
            outcome=outcome,
            merchant=merchant,
            credit_code=merchant.credit_code,
            grade=answer.grade if answer else "",
            seriously_dishonest=answer.seriously_dishonest if answer else None,
            error=error[:200],
            detail={"reference": answer.reference} if answer else {},
        )
        if answer is not None:
            Merchant.objects.filter(pk=merchant.pk).update(
                credit_grade=answer.grade,
                seriously_dishonest=answer.seriously_dishonest,
                credit_checked_at=now,
            )
            pause_offers_of_bad_merchants(merchant_ids=[merchant.pk])
    logger.info("enterprise credit query merchant=%s outcome=%s", merchant.pk, outcome)
    return str(outcome)


@dataclass(frozen=True)
class EnterpriseSync:
    entries: int
    rejected: int
    merchants_updated: int
    offers_paused: int


def sync_enterprise_credit(*, batch_size: int | None = None) -> EnterpriseSync:
    """Apply the provider's whole graded list to our merchants, set-based.

    Staged and applied with one UPDATE in one transaction (``core.staged_sync``), and the
    offers of every merchant not in good standing are paused in it: memory stays
    bounded, and a list whose end does not authenticate changes nothing. Malformed items
    are skipped and audited. Merchants the list does not name keep their last grade.
    """
    batch_size = batch_size or settings.CREDIT_LIST_BATCH_SIZE
    provider = enterprise_provider()
    merchants = Merchant._meta.db_table
    entries = rejected = 0
    rejects: list[MerchantCreditCheck] = []

    def well_formed() -> Iterator[tuple[str, str, int]]:
        nonlocal entries, rejected
        for item in provider.iter_grades():
            entries += 1
            if isinstance(item, Malformed):
                rejected += 1
                if len(rejects) < AUDITED_REJECTS:
                    rejects.append(
                        MerchantCreditCheck(
                            source=MerchantCreditCheck.Source.SYNC,
                            outcome=MerchantCreditCheck.Outcome.REJECTED,
                            credit_code="",
                            error=item.reason,
                            detail={"item": item.excerpt},
                        )
                    )
                continue
            yield (item.credit_code, item.grade, int(item.seriously_dishonest))

    columns = {"credit_code": "varchar(18)", "grade": "varchar(1)", "listed": "integer"}
    try:
        with staging_table("enterprise_credit_staging", columns, work_mem="64MB") as stage:
            stage.load(well_formed(), batch_size=batch_size)
            # One row per code (a list naming a code twice counts its worst entry), then
            # one UPDATE of the merchants whose values change. Table names come from model
            # metadata, never from input.
            stage.cursor.execute(
                f"UPDATE {merchants} SET credit_grade = s.grade, "  # noqa: S608
                "seriously_dishonest = (s.listed = 1), credit_checked_at = %s "
                "FROM (SELECT credit_code, MAX(grade) AS grade, MAX(listed) AS listed "
                "      FROM enterprise_credit_staging GROUP BY credit_code) s "
                f"WHERE {merchants}.credit_code = s.credit_code",
                [timezone.now()],
            )
            updated = stage.cursor.rowcount
            paused = pause_offers_of_bad_merchants()
            MerchantCreditCheck.objects.bulk_create(rejects)
            MerchantCreditCheck.objects.create(
                source=MerchantCreditCheck.Source.SYNC,
                outcome=MerchantCreditCheck.Outcome.OK,
                detail={
                    "entries": entries,
                    "rejected": rejected,
                    "merchants_updated": updated,
                    "offers_paused": paused,
                },
            )
    except ProviderUnavailable as exc:
        MerchantCreditCheck.objects.create(
            source=MerchantCreditCheck.Source.SYNC,
            outcome=MerchantCreditCheck.Outcome.UNAVAILABLE,
            error=str(exc)[:200],
            detail={"entries_before_failure": entries},
        )
        logger.warning("enterprise credit sync failed: %s", exc)
        raise
    logger.info(
        "enterprise credit synced entries=%s rejected=%s updated=%s paused=%s",
        entries,
        rejected,
        updated,
        paused,
    )
    return EnterpriseSync(entries, rejected, updated, paused)
