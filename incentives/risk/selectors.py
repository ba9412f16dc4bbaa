"""Which risk signals a user sees."""

from datetime import date

from django.db.models import QuerySet

from accounts.models import User
from core import roles

from .models import RiskSignal


def signals_visible_to(user: User) -> QuerySet[RiskSignal]:
    """City staff: their city's signals; alliance staff: the member cities' (read-only);
    superusers: all, national ones included (roles.dashboard_cities)."""
    cities = roles.dashboard_cities(user)
    if cities is None:
        return RiskSignal.objects.all()
    return RiskSignal.objects.filter(city_id__in=cities)


def signals(
    user: User,
    *,
    state: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    city: str | None = None,
    cities: frozenset[str] | None = None,
) -> QuerySet[RiskSignal]:
    found = signals_visible_to(user).select_related("city")
    if state:
        found = found.filter(state=state)
    if date_from:
        found = found.filter(day__gte=date_from)
    if date_to:
        found = found.filter(day__lte=date_to)
    if city:
        found = found.filter(city_id=city)
    elif cities is not None:
        found = found.filter(city_id__in=cities)
    return found.order_by("-day", "-pk")


def new_count(user: User) -> int:
    """What the dashboard shows: signals nobody has looked at yet."""
    return signals_visible_to(user).filter(state=RiskSignal.State.NEW).count()
