"""Listeners of signals that accounts sends."""


def on_resident_listed(sender, resident_id: int, **kwargs) -> None:
    """A resident landed on the seriously-dishonest list: revoke their open vouchers."""
    from .tasks import revoke_resident_vouchers

    revoke_resident_vouchers.delay(resident_id)
