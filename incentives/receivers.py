"""Listeners of signals that accounts sends."""


def on_resident_listed(sender, resident_id: int, **kwargs) -> None:
    """A resident landed on the seriously-dishonest list: revoke their open vouchers (in a
    worker; here and now when the queue is unavailable)."""
    from core.resilience import enqueue

    from .tasks import revoke_resident_vouchers

    enqueue(revoke_resident_vouchers, resident_id)


def on_account_closing(sender, resident_id: int, **kwargs) -> None:
    """A resident closes their account (inside its transaction): cancel the open vouchers
    (quota returned) and forget the stored API answers that were theirs."""
    from .models import IdempotencyRecord, Voucher
    from .vouchers.services import close_open_vouchers

    close_open_vouchers(resident_id=resident_id, status=Voucher.Status.CANCELLED)
    IdempotencyRecord.objects.filter(user_id=resident_id).delete()
