"""GB 11643-1999 ID numbers, phones and masks: pure functions, property-tested."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.identity import (
    InvalidIdNumber,
    id_check_char,
    id_hash,
    mask_id_number,
    mask_name,
    mask_phone,
    parse_id_number,
)

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31))
regions = st.sampled_from(["110105", "330106", "460105", "310104", "420202"])
sequences = st.integers(min_value=0, max_value=999)


def build(region: str, born: dt.date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def test_documented_example_is_valid():
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.is_male is False
    assert parsed.masked == "1101**********002X"


@given(regions, births, sequences)
def test_every_well_formed_number_parses_and_keeps_its_birth_date(region, born, seq):
    parsed = parse_id_number(build(region, born, seq))
    assert parsed.birth_date == born
    assert parsed.region == region


@given(regions, births, sequences, st.integers(min_value=1, max_value=10))
def test_any_other_check_character_is_refused(region, born, seq, shift):
    good = build(region, born, seq)
    alphabet = "0123456789X"
    wrong = alphabet[(alphabet.index(good[-1]) + shift) % 11]
    with pytest.raises(InvalidIdNumber) as err:
        parse_id_number(good[:-1] + wrong)
    assert err.value.reason == "check_digit"


def test_lower_case_x_is_accepted_and_normalized():
    assert parse_id_number("11010519491231002x").normalized == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("11010519491231002", "length"),  # 17
        ("11010519491231002X1", "length"),  # 19
        ("1101051949123100AX", "format"),
        ("99010519491231002X", "region"),
        (build("110105", dt.date(1990, 2, 28), 1)[:10] + "0231" + "0011", "birth_date"),
    ],
)
def test_malformed_numbers_say_why(raw, reason):
    with pytest.raises(InvalidIdNumber) as err:
        parse_id_number(raw)
    assert err.value.reason == reason


def test_31_february_is_refused():
    first17 = "11010519900231001"
    with pytest.raises(InvalidIdNumber) as err:
        parse_id_number(first17 + id_check_char(first17))
    assert err.value.reason == "birth_date"


def test_birth_date_in_the_future_is_refused():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(InvalidIdNumber) as err:
        parse_id_number(build("110105", tomorrow, 1))
    assert err.value.reason == "birth_date_future"


def test_keyed_hash_depends_on_the_key_and_ignores_case_of_x():
    a = id_hash("pepper-1", "11010519491231002X")
    assert a == id_hash("pepper-1", "11010519491231002x")
    assert a != id_hash("pepper-2", "11010519491231002X")
    assert len(a) == 64 and "11010519491231002X" not in a


def test_masks():
    assert mask_id_number("330106199001011234") == "3301**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张明") == "张*"
    assert mask_name("张小明") == "张*明"
    assert mask_name("欧阳小明") == "欧**明"
