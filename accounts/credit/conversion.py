"""Common tiers, score bands and score conversion between city credit schemes.

Pure Python (no Django): the rules of docs/domain.md, "Schemes, tiers and conversion".

A rule version gives, for each common tier, a closed integer band; the four bands cover
the scheme's range without gaps or overlaps, ordered ``poor < fair < good < excellent``,
and every band holds at least two scores. Converting a score from scheme A to scheme B
keeps its tier and maps A's band linearly onto B's band of the same tier, rounding half
up, in exact rational arithmetic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

TIERS: tuple[str, ...] = ("poor", "fair", "good", "excellent")


class InvalidBands(ValueError):
    """A set of bands breaks the rules; ``problems`` lists every reason in plain English."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Band:
    """A closed integer interval ``lo..hi`` of scores for one common tier."""

    tier: str
    lo: int
    hi: int

    @property
    def width(self) -> int:
        return self.hi - self.lo

    def __contains__(self, score: object) -> bool:
        return isinstance(score, int) and self.lo <= score <= self.hi

    def __str__(self) -> str:
        return f"'{self.tier}' ({self.lo}–{self.hi})"


@dataclass(frozen=True)
class Bands:
    """A rule version's four bands; always valid (checked on construction).

    The scheme range is ``poor.lo .. excellent.hi``.
    """

    poor: Band
    fair: Band
    good: Band
    excellent: Band

    def __post_init__(self) -> None:
        for tier in TIERS:
            band = getattr(self, tier)
            if not isinstance(band, Band) or band.tier != tier:
                raise InvalidBands([f"The {tier} field must hold a Band for tier '{tier}'."])
        problems = validate_bands(self.min_score, self.max_score, list(self))
        if problems:
            raise InvalidBands(problems)

    @classmethod
    def build(
        cls, min_score: int, max_score: int, bands: Mapping[str, Sequence[int]] | Iterable[Band]
    ) -> Bands:
        """Validate raw bands against a scheme range and build them; raise InvalidBands."""
        problems = validate_bands(min_score, max_score, bands)
        if problems:
            raise InvalidBands(problems)
        by_tier = {b.tier: b for b in _as_band_list(bands)}
        return cls(*(by_tier[t] for t in TIERS))

    @property
    def min_score(self) -> int:
        return self.poor.lo

    @property
    def max_score(self) -> int:
        return self.excellent.hi

    def __iter__(self) -> Iterator[Band]:
        return iter((self.poor, self.fair, self.good, self.excellent))

    def band(self, tier: str) -> Band:
        if tier not in TIERS:
            raise KeyError(tier)
        return getattr(self, tier)

    def as_dict(self) -> dict[str, tuple[int, int]]:
        return {b.tier: (b.lo, b.hi) for b in self}


def _as_band_list(bands: Bands | Mapping[str, Sequence[int]] | Iterable[Band]) -> list[Band]:
    if isinstance(bands, Mapping):
        out = []
        for tier, bounds in bands.items():
            lo, hi = bounds
            out.append(Band(str(tier), int(lo), int(hi)))
        return out
    return list(bands)


def validate_bands(
    min_score: int,
    max_score: int,
    bands: Bands | Mapping[str, Sequence[int]] | Iterable[Band],
) -> list[str]:
    """Every problem with ``bands`` for the scheme range ``min_score..max_score``.

    ``bands`` is a ``Bands``, an iterable of ``Band`` or a mapping ``tier -> (lo, hi)``.
    An empty list means the bands are valid. Messages are plain English sentences.
    """
    problems: list[str] = []
    if min_score >= max_score:
        problems.append(
            f"The scheme range {min_score}–{max_score} is empty: "
            "the minimum score must be below the maximum."
        )
    try:
        items = _as_band_list(bands)
    except (TypeError, ValueError):
        return [*problems, "Each band must be a pair of integer scores (lowest, highest)."]

    seen: dict[str, Band] = {}
    for band in items:
        if band.tier not in TIERS:
            problems.append(f"Unknown tier '{band.tier}': the tiers are {', '.join(TIERS)}.")
            continue
        if band.tier in seen:
            problems.append(f"Tier '{band.tier}' has more than one band.")
            continue
        seen[band.tier] = band
        if band.lo > band.hi:
            problems.append(f"Band {band} is inverted: its lowest score is above its highest.")
        elif band.lo == band.hi:
            problems.append(
                f"Band {band} holds fewer than 2 scores; every band needs at least two."
            )
        if band.lo < min_score or band.hi > max_score:
            problems.append(f"Band {band} lies outside the scheme range {min_score}–{max_score}.")
    missing = [t for t in TIERS if t not in seen]
    if missing:
        problems.append(f"Missing band for tier {', '.join(repr(t) for t in missing)}.")
        return problems
    if any(b.lo > b.hi for b in seen.values()):
        return problems  # ordering checks make no sense with inverted bands

    ordered = [seen[t] for t in TIERS]
    for lower, upper in itertools.pairwise(ordered):
        if upper.lo < lower.lo:
            problems.append(
                f"Bands are in the wrong order: {upper} must lie above {lower} "
                "(poor < fair < good < excellent)."
            )
        elif upper.lo <= lower.hi:
            problems.append(
                f"Band {lower} overlaps band {upper}: "
                f"scores {upper.lo}–{min(lower.hi, upper.hi)} fall in both."
            )
        elif upper.lo > lower.hi + 1:
            problems.append(
                f"Gap between band {lower} and band {upper}: "
                f"scores {lower.hi + 1}–{upper.lo - 1} fall in no band."
            )
    lowest = min(b.lo for b in ordered)
    highest = max(b.hi for b in ordered)
    if lowest > min_score:
        problems.append(f"Gap at the bottom: scores {min_score}–{lowest - 1} fall in no band.")
    if highest < max_score:
        problems.append(f"Gap at the top: scores {highest + 1}–{max_score} fall in no band.")
    return problems


def band_of(score: int, bands: Bands) -> Band:
    """The band holding ``score``; ValueError if the score is outside the scheme range."""
    for band in bands:
        if band.lo <= score <= band.hi:
            return band
    raise ValueError(
        f"Score {score} is outside the scheme range {bands.min_score}–{bands.max_score}."
    )


def tier_of(score: int, bands: Bands) -> str:
    """The common tier of ``score``: 'poor', 'fair', 'good' or 'excellent'."""
    return band_of(score, bands).tier


def round_half_up(value: Fraction) -> int:
    """Round an exact rational to the nearest integer, halves upwards."""
    return math.floor(value + Fraction(1, 2))


def convert(score: int, bands_a: Bands, bands_b: Bands) -> int:
    """Convert ``score`` of scheme A into scheme B's equivalent (same tier).

    ``b_lo + (s − a_lo)·(b_hi − b_lo)/(a_hi − a_lo)``, rounded half up.
    """
    a = band_of(score, bands_a)
    b = bands_b.band(a.tier)
    exact = b.lo + Fraction((score - a.lo) * (b.hi - b.lo), a.hi - a.lo)
    return round_half_up(exact)


def _scheme(
    name: str,
    cities: list[str],
    lo: int,
    hi: int,
    cuts: tuple[int, int, int, int, int, int, int, int],
    status: str,
    note: str,
) -> dict:
    p_lo, p_hi, f_lo, f_hi, g_lo, g_hi, e_lo, e_hi = cuts
    return {
        "name": name,
        "cities": cities,
        "min_score": lo,
        "max_score": hi,
        "bands": {
            "poor": (p_lo, p_hi),
            "fair": (f_lo, f_hi),
            "good": (g_lo, g_hi),
            "excellent": (e_lo, e_hi),
        },
        "status": status,
        "note": note,
    }


# The demo's numeric schemes of docs/domain.md (grade ones, 桃花分, are in grades.py).
# "published": the city has published these levels (our four tiers merge its finer
# ones); "illustrative": range or cutoffs are not public and the demo invents plausible
# ones -- say so wherever the demo shows them.
DEMO_SCHEMES: list[dict] = [
    _scheme(
        "钱江分",
        ["330100"],
        0,
        1000,
        (0, 549, 550, 599, 600, 699, 700, 1000),
        "published",
        "levels published (<550 待提高, 550 一般, 600 良好, 700 优秀, >750 极好); "
        "floor illustrative",
    ),
    _scheme(
        "茉莉分",
        ["350100"],
        0,
        1000,
        (0, 549, 550, 649, 650, 749, 750, 1000),
        "published",
        "published (极差 0–349, 较差 350–549, 一般 550–649, 良好 650–749, "
        "优秀 750–849, 极好 850–1000)",
    ),
    _scheme(
        "黄石信用分（演示名）",
        ["420200"],
        0,
        100,
        (0, 39, 40, 59, 60, 79, 80, 100),
        "published",
        "upper levels published (≥90 极好, 80 优秀, 60 良好); lower illustrative",
    ),
    _scheme(
        "金椰分",
        ["460100", "460200"],
        0,
        1000,
        (0, 519, 520, 619, 620, 719, 720, 1000),
        "illustrative",
        "illustrative (range and cutoffs not public)",
    ),
    _scheme(
        "白鹭分",
        ["350200"],
        0,
        1000,
        (0, 529, 530, 649, 650, 749, 750, 1000),
        "illustrative",
        "illustrative cutoffs (0–1000, five public levels; perks seen at ≥530, ≥650)",
    ),
    _scheme(
        "商鼎分",
        ["410100"],
        0,
        200,
        (0, 109, 110, 129, 130, 159, 160, 200),
        "illustrative",
        "illustrative cutoffs (maximum 200 is public)",
    ),
    _scheme(
        "阿福分",
        ["320200"],
        0,
        1000,
        (0, 579, 580, 659, 660, 739, 740, 1000),
        "illustrative",
        "illustrative cutoffs (1000-point scale is public)",
    ),
    _scheme(
        "桂花分",
        ["320500"],
        0,
        1000,
        (0, 499, 500, 599, 600, 719, 720, 1000),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "南京信用分（演示名）",
        ["320100"],
        300,
        900,
        (300, 549, 550, 649, 650, 749, 750, 900),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "天津信用分（演示名）",
        ["120100"],
        0,
        100,
        (0, 59, 60, 69, 70, 84, 85, 100),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "上海信用分（演示名）",
        ["310100"],
        0,
        1000,
        (0, 559, 560, 639, 640, 739, 740, 1000),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "南通信用分（演示名）",
        ["320600"],
        0,
        1000,
        (0, 499, 500, 619, 620, 729, 730, 1000),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "宁波信用分（演示名）",
        ["330200"],
        0,
        1000,
        (0, 539, 540, 629, 630, 719, 720, 1000),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "合肥信用分（演示名）",
        ["340100"],
        0,
        1000,
        (0, 549, 550, 639, 640, 729, 730, 1000),
        "illustrative",
        "illustrative",
    ),
    _scheme(
        "济南信用分（演示名）",
        ["370100"],
        0,
        1000,
        (0, 529, 530, 629, 630, 739, 740, 1000),
        "illustrative",
        "illustrative",
    ),
]


def demo_bands(city_code: str) -> Bands:
    """The demo scheme's bands for a partner city code; KeyError if none."""
    for scheme in DEMO_SCHEMES:
        if city_code in scheme["cities"]:
            return Bands.build(scheme["min_score"], scheme["max_score"], scheme["bands"])
    raise KeyError(city_code)
