"""Signals that accounts sends; other apps listen (no import runs upward)."""

from django.dispatch import Signal

# Sent after commit when a resident is newly marked seriously dishonest.
# kwargs: resident_id (int)
resident_listed = Signal()
