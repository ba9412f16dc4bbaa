"""Listeners of signals that accounts sends."""


def on_resident_listed(sender, resident_id: int, **kwargs) -> None:
    """A resident landed on the seriously-dishonest list: revoke their open vouchers (in a
    worker; here and now when the queue is unavailable)."""
    from core.resilience import enqueue

    from .tasks import revoke_resident_vouchers

    enqueue(revoke_resident_vouchers, resident_id)
