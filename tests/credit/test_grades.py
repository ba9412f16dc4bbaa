"""Grade schemes and conversion between any two schemes (domain.md): pure, no database."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.credit.conversion import DEMO_SCHEMES, TIERS, Bands, convert, tier_of
from accounts.credit.grades import (
    DEMO_GRADE_SCHEMES,
    Grades,
    InvalidGrades,
    convert_value,
    demo_grades,
    share_band,
    tier_of_value,
    validate_grades,
)

from .test_conversion import bands_strategy

NUMERIC = [Bands.build(s["min_score"], s["max_score"], s["bands"]) for s in DEMO_SCHEMES]
GRADE = [Grades.build(s["grades"]) for s in DEMO_GRADE_SCHEMES]
DEMO = NUMERIC + GRADE


@st.composite
def grades_strategy(draw) -> Grades:
    """Any valid grade scheme: one to three grades per tier, best first."""
    out = []
    letter = iter("ABCDEFGHJKLMNPQRSTUVWXYZ")
    for tier in reversed(TIERS):
        for _ in range(draw(st.integers(1, 3))):
            out.append((next(letter), tier))
    return Grades.build(out)


schemes = st.one_of(st.sampled_from(DEMO), bands_strategy(), grades_strategy())


def values(scale):
    if isinstance(scale, Grades):
        return st.sampled_from(scale.names)
    return st.integers(scale.min_score, scale.max_score)


def rank(value, scale) -> int:
    return scale.rank(value) if isinstance(scale, Grades) else value


def test_taohua_is_the_demo_grade_scheme():
    g = demo_grades("610800")
    assert g.names == ["AAA", "AA", "A", "B", "C", "D"]
    assert [g.tier(n) for n in g.names] == [
        "excellent",
        "excellent",
        "good",
        "fair",
        "poor",
        "poor",
    ]
    assert g.rank("AAA") > g.rank("AA") > g.rank("A") > g.rank("D") == 0
    assert g.at_least("A") == ["AAA", "AA", "A"]


@pytest.mark.parametrize("a,b", list(itertools.product(DEMO, DEMO)))
def test_every_pair_of_demo_schemes_keeps_tier_and_order(a, b):
    """Exhaustive over each demo source value: tier kept, order kept (non-decreasing)."""
    source = a.names[::-1] if isinstance(a, Grades) else range(a.min_score, a.max_score + 1)
    previous = None
    for v in source:
        out = convert_value(v, a, b)
        assert tier_of_value(out, b) == tier_of_value(v, a)
        if previous is not None:
            assert rank(out, b) >= rank(previous, b)
        previous = out


@given(a=schemes, b=schemes, data=st.data())
def test_tier_preserved(a, b, data):
    v = data.draw(values(a))
    assert tier_of_value(convert_value(v, a, b), b) == tier_of_value(v, a)


@given(a=schemes, b=schemes, data=st.data())
def test_monotone(a, b, data):
    v1, v2 = data.draw(values(a)), data.draw(values(a))
    if rank(v1, a) > rank(v2, a):
        v1, v2 = v2, v1
    assert rank(convert_value(v1, a, b), b) <= rank(convert_value(v2, a, b), b)


@given(a=st.one_of(st.sampled_from(NUMERIC), bands_strategy()), b=st.sampled_from(NUMERIC))
def test_numeric_to_numeric_is_the_band_formula(a, b):
    for s in {a.min_score, a.max_score, (a.min_score + a.max_score) // 2}:
        assert convert_value(s, a, b) == convert(s, a, b)


@given(g=st.one_of(st.sampled_from(GRADE), grades_strategy()), b=schemes)
def test_grade_round_trip_is_exact_where_the_target_can_carry_it(g, b):
    """Grade → B → grade gives the grade back when B has room for each grade's share."""
    for name in g.names:
        tier = g.tier(name)
        n = len(g.in_tier(tier))
        roomy = len(b.in_tier(tier)) >= n if isinstance(b, Grades) else b.band(tier).width > n
        if roomy:
            assert convert_value(convert_value(name, g, b), b, g) == name


def test_into_a_grade_takes_the_highest_grade_whose_share_holds_the_position():
    qianjiang = NUMERIC[0]  # 钱江分: excellent 700–1000
    taohua = demo_grades("610800")
    assert convert_value(700, qianjiang, taohua) == "AA"
    assert convert_value(849, qianjiang, taohua) == "AA"
    assert convert_value(850, qianjiang, taohua) == "AAA"  # the shares' common edge: higher
    assert convert_value(1000, qianjiang, taohua) == "AAA"
    assert convert_value(600, qianjiang, taohua) == "A"
    assert convert_value(0, qianjiang, taohua) == "D"
    assert convert_value(549, qianjiang, taohua) == "C"


def test_from_a_grade_gives_a_representative_score_in_its_share():
    qianjiang = NUMERIC[0]
    taohua = demo_grades("610800")
    assert convert_value("AAA", taohua, qianjiang) == 925  # middle of 850–1000
    assert convert_value("AA", taohua, qianjiang) == 775  # middle of 700–850
    assert convert_value("A", taohua, qianjiang) == 650
    assert share_band("AA", taohua, qianjiang) == (700, 850)
    assert tier_of(convert_value("B", taohua, qianjiang), qianjiang) == "fair"


@pytest.mark.parametrize(
    "items,needle",
    [
        ([("A", "excellent"), ("B", "good"), ("C", "fair")], "No grade in tier 'poor'"),
        ([("A", "good"), ("B", "excellent"), ("C", "fair"), ("D", "poor")], "out of order"),
        (
            [("A", "excellent"), ("A", "good"), ("C", "fair"), ("D", "poor")],
            "more than once",
        ),
        ([("A", "excellent"), ("B", "great"), ("C", "fair"), ("D", "poor")], "unknown tier"),
        ([("a b", "excellent"), ("B", "good"), ("C", "fair"), ("D", "poor")], "not a grade"),
        ([], "at least one grade"),
    ],
)
def test_invalid_grade_lists_are_refused_with_a_reason(items, needle):
    problems = validate_grades(items)
    assert any(needle in p for p in problems), problems
    with pytest.raises(InvalidGrades):
        Grades.build(items)


def test_unknown_grade_is_a_key_error():
    with pytest.raises(KeyError):
        demo_grades("610800").rank("E")
