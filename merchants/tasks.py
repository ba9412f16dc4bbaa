"""Celery tasks of merchants: thin, idempotent, safe to retry."""

from celery import shared_task


@shared_task(name="merchants.check_merchant_credit", acks_late=True)
def check_merchant_credit(merchant_id: int) -> str:
    """Ask the enterprise credit provider about one merchant; running it twice asks again."""
    from merchants.credit.services import check_merchant_credit as check

    return check(merchant_id=merchant_id)


@shared_task(name="merchants.sync_enterprise_credit", acks_late=True)
def sync_enterprise_credit() -> dict:
    """The daily enterprise credit sync; safe to run twice (it applies the same list)."""
    from merchants.credit.services import sync_enterprise_credit as sync

    report = sync()
    return {
        "entries": report.entries,
        "rejected": report.rejected,
        "merchants_updated": report.merchants_updated,
        "offers_paused": report.offers_paused,
    }
