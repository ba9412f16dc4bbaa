"""Signals that accounts sends; other apps listen (no import runs upward)."""

from django.dispatch import Signal

# Sent after commit when a resident is newly marked seriously dishonest.
# kwargs: resident_id (int)
resident_listed = Signal()

# Sent inside the closing transaction of an account (accounts.privacy.close_account),
# before the person's data is erased: listeners cancel or detach what they hold about the
# person (incentives cancels open vouchers and returns their quota). Synchronous on
# purpose: it all commits or fails together. kwargs: resident_id (int)
account_closing = Signal()
