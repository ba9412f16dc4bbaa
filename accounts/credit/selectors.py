"""Reads of credit: schemes as published, a standing with its equivalents elsewhere."""

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import City

from .conversion import convert, tier_of
from .models import RuleVersion, Scheme, Standing


def _rules_in_force(schemes) -> dict[int, RuleVersion]:
    now = timezone.now()
    out: dict[int, RuleVersion] = {}
    for scheme in schemes:
        live = [r for r in scheme.rule_versions.all() if r.effective_from <= now]
        if live:
            out[scheme.pk] = max(live, key=lambda r: (r.effective_from, r.version))
    return out


def cities_with_schemes():
    """Partner cities with their scheme and its rule versions: three queries in all."""
    return City.objects.select_related("scheme").prefetch_related(
        Prefetch("scheme__rule_versions", queryset=RuleVersion.objects.order_by("version"))
    )


def describe_scheme(scheme: Scheme | None) -> dict | None:
    """A scheme as the public sees it: name, range and the tier bands in force."""
    if scheme is None:
        return None
    rule = _rules_in_force([scheme]).get(scheme.pk)
    return {
        "name": scheme.name,
        "min_score": scheme.min_score,
        "max_score": scheme.max_score,
        "illustrative": scheme.illustrative,
        "rule_version": rule.version if rule else None,
        "tiers": [{"tier": b.tier, "min_score": b.lo, "max_score": b.hi} for b in rule.band_list()]
        if rule
        else [],
    }


def equivalents(standing: Standing) -> list[dict]:
    """The standing's score and tier converted into every other partner city's scheme
    (that city's rules in force now). A fixed number of queries."""
    source = standing.rule_version.bands
    cities = list(cities_with_schemes().filter(scheme__isnull=False).exclude(pk=standing.city_id))
    rules = _rules_in_force({c.scheme for c in cities})
    out = []
    for city in cities:
        rule = rules.get(city.scheme_id)
        if rule is None:
            continue
        score = convert(standing.score, source, rule.bands)
        out.append(
            {
                "city": city.code,
                "city_name": city.name,
                "scheme": city.scheme.name,
                "score": score,
                "tier": tier_of(score, rule.bands),
                "rule_version": rule.version,
            }
        )
    return out


def standing_of(resident) -> Standing | None:
    return (
        Standing.objects.select_related("rule_version__scheme", "city")
        .filter(resident=resident)
        .first()
    )


def credit_summary(resident) -> dict[str, bool]:
    """What the resident app needs before asking for the consent and the standing: whether
    each exists (so that a first visit asks for neither and meets no 404)."""
    from .services import active_consent

    return {
        "consent": active_consent(resident) is not None,
        "standing": Standing.objects.filter(resident=resident).exists(),
    }
