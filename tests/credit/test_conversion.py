"""Tier bands and score conversion (docs/domain.md): pure, no database."""

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from accounts.credit.conversion import (
    DEMO_SCHEMES,
    TIERS,
    Band,
    Bands,
    InvalidBands,
    band_of,
    convert,
    demo_bands,
    round_half_up,
    tier_of,
    validate_bands,
)
from accounts.credit.grades import DEMO_GRADE_SCHEMES

DEMO = [Bands.build(s["min_score"], s["max_score"], s["bands"]) for s in DEMO_SCHEMES]


@st.composite
def bands_strategy(draw) -> Bands:
    """Any valid four-band rule version: a range and three cut points, each band >= 2."""
    lo = draw(st.integers(-50, 500))
    widths = [draw(st.integers(1, 400)) for _ in TIERS]  # hi - lo of each band
    out, start = [], lo
    for tier, width in zip(TIERS, widths, strict=True):
        out.append(Band(tier, start, start + width))
        start += width + 1
    return Bands(*out)


schemes = st.one_of(st.sampled_from(DEMO), bands_strategy())


@given(a=schemes, b=schemes, data=st.data())
def test_tier_preserved(a, b, data):
    s = data.draw(st.integers(a.min_score, a.max_score))
    t = convert(s, a, b)
    assert tier_of(t, b) == tier_of(s, a)
    assert b.min_score <= t <= b.max_score


@given(a=schemes, b=schemes, data=st.data())
def test_monotone(a, b, data):
    s1 = data.draw(st.integers(a.min_score, a.max_score))
    s2 = data.draw(st.integers(a.min_score, a.max_score))
    if s1 <= s2:
        assert convert(s1, a, b) <= convert(s2, a, b)
    else:
        assert convert(s1, a, b) >= convert(s2, a, b)


@given(a=schemes, b=schemes)
def test_band_edges_map_onto_band_edges(a, b):
    for tier in TIERS:
        assert convert(a.band(tier).lo, a, b) == b.band(tier).lo
        assert convert(a.band(tier).hi, a, b) == b.band(tier).hi


@given(a=schemes, b=schemes, data=st.data())
def test_round_trip_within_bound(a, b, data):
    s = data.draw(st.integers(a.min_score, a.max_score))
    tier = tier_of(s, a)
    w_a, w_b = a.band(tier).width, b.band(tier).width
    back = convert(convert(s, a, b), b, a)
    assert abs(back - s) <= (Fraction(w_a, w_b) + 1) / 2
    if w_b >= w_a:
        assert abs(back - s) <= 1


@given(a=schemes, data=st.data())
def test_identity_conversion(a, data):
    s = data.draw(st.integers(a.min_score, a.max_score))
    assert convert(s, a, a) == s


def test_known_values():
    hangzhou, zhengzhou, haikou = demo_bands("330100"), demo_bands("410100"), demo_bands("460100")
    # 650 is in 钱江分 good 600–699: 130 + 50·29/99 = 144.64… -> 145
    assert convert(650, hangzhou, zhengzhou) == 145
    # 600 (good floor) -> 金椰分 good floor 620; 钱江分 700 -> 金椰分 720
    assert convert(600, hangzhou, haikou) == 620
    assert convert(700, hangzhou, haikou) == 720
    # half up: fair 550–599 (49) -> 商鼎分 fair 110–129 (19): exact 110 + 19·k/49
    assert tier_of(549, hangzhou) == "poor" and tier_of(550, hangzhou) == "fair"
    assert band_of(1000, hangzhou) == Band("excellent", 700, 1000)
    with pytest.raises(ValueError):
        tier_of(1001, hangzhou)


def test_round_half_up_exact():
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(7, 2)) == 4
    assert round_half_up(Fraction(-5, 2)) == -2
    assert round_half_up(Fraction(249, 100)) == 2
    # a band pair where the exact value is exactly .5: 0–1 onto 0–3 at s=1 -> 3, and
    # 0–2 onto 0–1 at s=1 -> 0.5 -> 1
    a = Bands.build(0, 11, {"poor": (0, 2), "fair": (3, 5), "good": (6, 8), "excellent": (9, 11)})
    b = Bands.build(0, 7, {"poor": (0, 1), "fair": (2, 3), "good": (4, 5), "excellent": (6, 7)})
    assert convert(1, a, b) == 1
    assert convert(4, a, b) == 3  # 2 + 1·1/2 = 2.5 -> 3


def test_demo_schemes_are_valid_and_complete():
    cities = [c for s in DEMO_SCHEMES + DEMO_GRADE_SCHEMES for c in s["cities"]]
    assert len(cities) == len(set(cities)) == 17  # every partner city, 榆林 by grades
    for s in DEMO_SCHEMES:
        assert validate_bands(s["min_score"], s["max_score"], s["bands"]) == []
        assert s["status"] in {"published", "illustrative"}
    assert demo_bands("460200") == demo_bands("460100")  # one scheme, two cities


HANGZHOU = {"poor": (0, 549), "fair": (550, 599), "good": (600, 699), "excellent": (700, 1000)}


def problems(**changes):
    bands = dict(HANGZHOU)
    bands.update(changes)
    return validate_bands(0, 1000, {k: v for k, v in bands.items() if v is not None})


def test_valid_bands_have_no_problem():
    assert problems() == []
    assert validate_bands(0, 1000, [Band(t, lo, hi) for t, (lo, hi) in HANGZHOU.items()]) == []


def test_rejects_overlap():
    (msg,) = problems(fair=(540, 599))
    assert "overlaps" in msg and "540–549" in msg


def test_rejects_gap():
    (msg,) = problems(good=(610, 699))
    assert "Gap" in msg and "600–609" in msg


def test_rejects_gaps_at_the_ends():
    assert any("bottom" in p and "0–9" in p for p in problems(poor=(10, 549)))
    assert any("top" in p and "991–1000" in p for p in problems(excellent=(700, 990)))


def test_rejects_out_of_range():
    assert any("outside the scheme range" in p for p in problems(excellent=(700, 1200)))
    assert any("outside the scheme range" in p for p in problems(poor=(-1, 549)))


def test_rejects_single_score_band():
    got = validate_bands(
        0, 10, {"poor": (0, 4), "fair": (5, 5), "good": (6, 8), "excellent": (9, 10)}
    )
    assert any("fewer than 2 scores" in p for p in got)


def test_rejects_wrong_order_and_missing_and_unknown_tiers():
    swapped = problems(fair=(600, 699), good=(550, 599))
    assert any("wrong order" in p for p in swapped)
    assert any("Missing band" in p and "'good'" in p for p in problems(good=None))
    assert any("Unknown tier" in p for p in problems(superb=(1001, 1002)))
    assert any("inverted" in p for p in problems(fair=(599, 550)))
    assert any("empty" in p for p in validate_bands(10, 10, HANGZHOU))


def test_bands_refuse_invalid_construction():
    with pytest.raises(InvalidBands) as info:
        Bands(
            Band("poor", 0, 549),
            Band("fair", 540, 599),
            Band("good", 600, 699),
            Band("excellent", 700, 1000),
        )
    assert info.value.problems and "overlaps" in info.value.problems[0]


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_validate_finds_problem_for_any_broken_cut(c1, c2, c3):
    """Random cut points: the bands are valid iff they tile 0..1000 with widths >= 1."""
    assume(len({c1, c2, c3}) == 3)
    x, y, z = c1, c2, c3
    bands = {"poor": (0, x), "fair": (x + 1, y), "good": (y + 1, z), "excellent": (z + 1, 1000)}
    ok = x > 0 and x + 1 < y and y + 1 < z and z + 1 < 1000
    assert (validate_bands(0, 1000, bands) == []) == ok
