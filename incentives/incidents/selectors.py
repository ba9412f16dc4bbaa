"""Reads of incidents (a fixed number of queries each)."""

from django.db.models import QuerySet

from accounts.models import User

from .models import Incident


def resident_incidents(*, resident: User) -> QuerySet[Incident]:
    """Incidents reported against the resident, newest first."""
    return (
        Incident.objects.filter(resident=resident)
        .select_related("merchant", "offer")
        .order_by("-reported_at", "-id")
    )
