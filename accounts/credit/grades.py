"""Letter-grade schemes and conversion between any two schemes, numeric or grade.

Pure Python (no Django): the rules of domain.md, "Grade schemes".

A grade scheme is an ordered list of grades (best first, e.g. AAA, AA, A, B, C, D), each
in one common tier; tiers never rise from a better grade to a worse one, and every tier
holds at least one grade. Conversion goes through the common tier and a relative
position inside it:

- in a numeric scheme, score ``s`` in band ``[lo, hi]`` sits at ``(s − lo) / (hi − lo)``;
- the ``n`` grades of one tier split that tier's span in order (worst first): grade ``k``
  (0 = the tier's worst) owns the share ``[k/n, (k+1)/n]`` and sits at its middle,
  ``(2k + 1) / 2n``.

Into a numeric scheme a position ``p`` becomes ``lo + p·(hi − lo)`` rounded half up (for
numeric sources this is exactly ``conversion.convert``); into a grade scheme it becomes
the highest grade of the tier whose share holds ``p``. Both directions keep the tier and
are monotone; numeric to numeric is unchanged.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from .conversion import TIERS, Bands, band_of, round_half_up

GRADE_NAME = re.compile(r"^[A-Z][A-Z0-9+\-]{0,7}$")
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


class InvalidGrades(ValueError):
    """A grade list breaks the rules; ``problems`` lists every reason in plain English."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Grade:
    name: str
    tier: str


def _as_grade_list(items: Iterable) -> list[Grade]:
    out = []
    for item in items:
        if isinstance(item, Grade):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Grade(str(item.get("grade", "")), str(item.get("tier", ""))))
        else:
            name, tier = item
            out.append(Grade(str(name), str(tier)))
    return out


def validate_grades(items: Iterable) -> list[str]:
    """Every problem with a grade list (best first); empty when it is valid.

    ``items``: ``Grade``s, ``(name, tier)`` pairs or ``{"grade", "tier"}`` mappings.
    """
    try:
        grades = _as_grade_list(items)
    except (TypeError, ValueError):
        return ["Each grade must be a pair (grade, tier)."]
    problems: list[str] = []
    if not grades:
        return ["A grade scheme needs at least one grade per tier."]
    seen: set[str] = set()
    for g in grades:
        if not GRADE_NAME.match(g.name):
            problems.append(
                f"Grade '{g.name}' is not a grade name (an upper-case letter, then up to "
                "eight letters, digits, + or -)."
            )
        if g.name in seen:
            problems.append(f"Grade '{g.name}' appears more than once.")
        seen.add(g.name)
        if g.tier not in TIERS:
            problems.append(
                f"Grade '{g.name}' has unknown tier '{g.tier}': the tiers are {', '.join(TIERS)}."
            )
    known = [g for g in grades if g.tier in TIERS]
    for better, worse in itertools.pairwise(known):
        if TIER_RANK[worse.tier] > TIER_RANK[better.tier]:
            problems.append(
                f"Grades are out of order: '{worse.name}' ({worse.tier}) is listed below "
                f"'{better.name}' ({better.tier}) but its tier is higher (best grade first)."
            )
    missing = [t for t in TIERS if t not in {g.tier for g in known}]
    if missing:
        problems.append(f"No grade in tier {', '.join(repr(t) for t in missing)}.")
    return problems


@dataclass(frozen=True)
class Grades:
    """A grade scheme's ordered grades (best first); always valid (checked on construction)."""

    grades: tuple[Grade, ...]

    def __post_init__(self) -> None:
        problems = validate_grades(self.grades)
        if problems:
            raise InvalidGrades(problems)

    @classmethod
    def build(cls, items: Iterable) -> Grades:
        problems = validate_grades(items)
        if problems:
            raise InvalidGrades(problems)
        return cls(tuple(_as_grade_list(items)))

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.grades]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names

    def rank(self, name: str) -> int:
        """0 for the worst grade, rising to the best; KeyError for an unknown grade."""
        names = self.names
        if name not in names:
            raise KeyError(name)
        return len(names) - 1 - names.index(name)

    def tier(self, name: str) -> str:
        for g in self.grades:
            if g.name == name:
                return g.tier
        raise KeyError(name)

    def in_tier(self, tier: str) -> list[str]:
        """The grades of one tier, worst first."""
        return [g.name for g in reversed(self.grades) if g.tier == tier]

    def at_least(self, name: str) -> list[str]:
        """``name`` and every better grade."""
        names = self.names
        return names[: names.index(name) + 1]

    def at_most(self, name: str) -> list[str]:
        """``name`` and every worse grade: the minimum grades that ``name`` meets."""
        names = self.names
        return names[names.index(name) :]

    def as_list(self) -> list[dict[str, str]]:
        return [{"grade": g.name, "tier": g.tier} for g in self.grades]


Scale = Bands | Grades
Value = int | str


def tier_of_value(value: Value, scale: Scale) -> str:
    if isinstance(scale, Grades):
        return scale.tier(str(value))
    return band_of(int(value), scale).tier


def position(value: Value, scale: Scale) -> tuple[str, Fraction]:
    """The common tier of ``value`` and its relative position inside that tier (0..1)."""
    if isinstance(scale, Grades):
        tier = scale.tier(str(value))
        share = scale.in_tier(tier)
        k, n = share.index(str(value)), len(share)
        return tier, Fraction(2 * k + 1, 2 * n)
    band = band_of(int(value), scale)
    return band.tier, Fraction(int(value) - band.lo, band.hi - band.lo)


def place(tier: str, where: Fraction, scale: Scale) -> Value:
    """The value at relative position ``where`` of ``tier`` in ``scale``."""
    if isinstance(scale, Grades):
        share = scale.in_tier(tier)
        n = len(share)
        return share[min(math.floor(where * n), n - 1)]
    band = scale.band(tier)
    return round_half_up(band.lo + where * (band.hi - band.lo))


def convert_value(value: Value, source: Scale, target: Scale) -> Value:
    """``value`` of the source scheme as the target scheme's equivalent (same tier)."""
    tier, where = position(value, source)
    return place(tier, where, target)


def share_band(name: str, grades: Grades, bands: Bands) -> tuple[int, int]:
    """The scores of ``bands`` that a grade's share of its tier covers (for display)."""
    tier = grades.tier(name)
    share = grades.in_tier(tier)
    k, n = share.index(name), len(share)
    band = bands.band(tier)
    lo = band.lo + math.ceil(Fraction(k * band.width, n))
    hi = band.lo + math.floor(Fraction((k + 1) * band.width, n))
    return lo, max(lo, hi)


# The demo's grade schemes (domain.md, "Grade schemes").
DEMO_GRADE_SCHEMES: list[dict] = [
    {
        "name": "桃花分",
        "cities": ["610800"],
        "grades": [
            ("AAA", "excellent"),
            ("AA", "excellent"),
            ("A", "good"),
            ("B", "fair"),
            ("C", "poor"),
            ("D", "poor"),
        ],
        "status": "published",
        "note": "published as grades AAA–D (A and above qualify for perks)",
    }
]


def demo_grades(city_code: str) -> Grades:
    for scheme in DEMO_GRADE_SCHEMES:
        if city_code in scheme["cities"]:
            return Grades.build(scheme["grades"])
    raise KeyError(city_code)
