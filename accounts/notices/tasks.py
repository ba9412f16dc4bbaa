"""Celery tasks of the notices: thin, idempotent, safe to retry (registered through
accounts.tasks)."""

from celery import shared_task
from django.conf import settings


@shared_task(
    name="accounts.send_notice_sms",
    bind=True,
    acks_late=True,
    max_retries=None,  # the delivery row counts the tries (NOTICE_SMS_MAX_ATTEMPTS)
    # the gateway's rate limit, per worker (NOTICE_SMS_RATE_LIMIT, e.g. "20/s")
    rate_limit=getattr(settings, "NOTICE_SMS_RATE_LIMIT", "20/s"),
)
def send_notice_sms(self, delivery_id: int) -> str:
    """Send one notice SMS; while the gateway is down, retry after the backoff (a sent or
    claimed message is never sent twice: services.send_delivery claims it first)."""
    from .services import send_delivery

    outcome = send_delivery(delivery_id=delivery_id)
    if outcome.state == "retry" and outcome.retry_in is not None and not self.request.is_eager:
        # in-process (eager) runs leave the next try to the beat sweep
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(name="accounts.send_due_notice_sms", acks_late=True)
def send_due_notice_sms() -> int:
    """The beat sweep: queue every SMS that is due (after the quiet hours, a lost task)."""
    from .services import send_due_deliveries

    return send_due_deliveries()
