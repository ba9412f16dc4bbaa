"""Reads of credit: schemes as published, a standing with its equivalents elsewhere."""

from collections.abc import Iterable
from datetime import date
from typing import Any, TypedDict

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import City, User

from .grades import Grades, convert_value, tier_of_value
from .models import Honour, RuleVersion, Scheme, Standing


def _rules_in_force(schemes: Iterable[Scheme]) -> dict[int, RuleVersion]:
    now = timezone.now()
    out: dict[int, RuleVersion] = {}
    for scheme in schemes:
        live = [r for r in scheme.rule_versions.all() if r.effective_from <= now]
        if live:
            out[scheme.pk] = max(live, key=lambda r: (r.effective_from, r.version))
    return out


def cities_with_schemes() -> QuerySet[City]:
    """Partner cities with their scheme and its rule versions: three queries in all."""
    return City.objects.select_related("scheme").prefetch_related(
        Prefetch("scheme__rule_versions", queryset=RuleVersion.objects.order_by("version"))
    )


def describe_scheme(scheme: Scheme | None) -> dict[str, Any] | None:
    """A scheme as the public sees it: name, kind, and the tier bands (numeric) or the
    grades with their tiers (grade) of the rule version in force."""
    if scheme is None:
        return None
    rule = _rules_in_force([scheme]).get(scheme.pk)
    grade = scheme.is_grade
    tiers: list[dict[str, Any]] = []
    grades: list[dict[str, Any]] = []
    if rule is not None and rule.is_grade:
        grades = rule.grade_scale.as_list()
    elif rule is not None:
        tiers = [{"tier": b.tier, "min_score": b.lo, "max_score": b.hi} for b in rule.band_list()]
    return {
        "name": scheme.name,
        "name_en": scheme.name_en or scheme.name,
        "kind": scheme.kind,
        "min_score": None if grade else scheme.min_score,
        "max_score": None if grade else scheme.max_score,
        "illustrative": scheme.illustrative,
        "rule_version": rule.version if rule else None,
        "tiers": tiers,
        "grades": grades,
    }


def equivalents(standing: Standing) -> list[dict[str, Any]]:
    """The standing's score and tier converted into every other partner city's scheme
    (that city's rules in force now). A fixed number of queries."""
    source = standing.rule_version.scale
    cities = list(cities_with_schemes().filter(scheme__isnull=False).exclude(pk=standing.city_id))
    rules = _rules_in_force({c.scheme for c in cities if c.scheme is not None})
    out: list[dict[str, Any]] = []
    for city in cities:
        scheme = city.scheme  # never None (filtered above); fetched with the city
        rule = rules.get(scheme.pk) if scheme is not None else None
        if scheme is None or rule is None:
            continue
        target = rule.scale
        value = convert_value(standing.value, source, target)
        is_grade = isinstance(target, Grades)
        out.append(
            {
                "city": city.code,
                "city_name": city.name,
                "scheme": scheme.name,
                "score": None if is_grade else value,
                "grade": value if is_grade else None,
                "tier": tier_of_value(value, target),
                "rule_version": rule.version,
                "admits": target.at_most(str(value)) if isinstance(target, Grades) else None,
            }
        )
    return out


def standing_of(resident: User) -> Standing | None:
    return (
        Standing.objects.select_related("rule_version__scheme", "city")
        .filter(resident=resident)
        .first()
    )


class HonourRow(TypedDict):
    kind: str
    valid_until: date | None


def honours_of(*, person_hash: str, city_code: str, today: date | None = None) -> list[HonourRow]:
    """The honours in force on the city's synced lists for one person (one query)."""
    today = today or timezone.localdate()
    rows = (
        Honour.objects.filter(person_hash=person_hash, city_id=city_code)
        .exclude(valid_until__lt=today)
        .order_by("kind")
        .values("kind", "valid_until")
    )
    return list(rows)


def credit_summary(resident: User) -> dict[str, bool]:
    """What the resident app needs before asking for the consent and the standing: whether
    each exists (so that a first visit asks for neither and meets no 404)."""
    from .services import active_consent

    return {
        "consent": active_consent(resident) is not None,
        "standing": Standing.objects.filter(resident=resident).exists(),
    }
