"""GB 32100-2015 unified social credit codes."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from merchants.validators import (
    ALPHABET,
    InvalidCreditCode,
    credit_code_check_char,
    organisation_code_check_char,
    parse_credit_code,
    validate_credit_code,
)

EXAMPLE = "91350100M000100Y43"


def reason(code: str) -> str:
    with pytest.raises(InvalidCreditCode) as exc:
        parse_credit_code(code)
    return exc.value.reason


def test_the_standard_example_is_valid_and_parsed():
    code = parse_credit_code(EXAMPLE)
    assert code.registration_authority == "9"
    assert code.organisation_type == "1"
    assert code.division_code == "350100"
    assert code.organisation_code == "M000100Y4"
    assert code.check_char == "3"
    assert credit_code_check_char(EXAMPLE[:17]) == "3"


def test_lowercase_and_spaces_are_normalised():
    assert parse_credit_code(" 91350100m000100y43 ").normalized == EXAMPLE
    assert parse_credit_code("9135 0100 M000 100Y 43").normalized == EXAMPLE


def test_the_example_has_a_valid_gb11714_organisation_code():
    assert organisation_code_check_char("M000100Y") == "4"


def test_wrong_check_character_is_refused():
    assert reason("91350100M000100Y44") == "check"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_outside_the_alphabet_are_refused(letter):
    code = EXAMPLE[:10] + letter + EXAMPLE[11:]
    assert reason(code) == "charset"


@pytest.mark.parametrize("code", [EXAMPLE[:17], EXAMPLE + "0", ""])
def test_wrong_length_is_refused(code):
    assert reason(code) == "length"


def test_unknown_registration_authority_or_type_is_refused():
    first = "B1350100M000100Y4"
    assert reason(first + credit_code_check_char(first)) == "authority"
    wrong_type = "94350100M000100Y4"  # 工商 registers types 1-3 only
    assert reason(wrong_type + credit_code_check_char(wrong_type)) == "organisation_type"


def test_division_code_must_be_digits():
    first = "9135A100M000100Y4"
    assert reason(first + credit_code_check_char(first)) == "division"


def test_django_validator_speaks_chinese():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y44")
    assert "校验位" in exc.value.messages[0]
    assert exc.value.code == "credit_code_check"


body = st.text(alphabet=ALPHABET, min_size=9, max_size=9)
division = st.text(alphabet="0123456789", min_size=6, max_size=6)
prefix = st.sampled_from(["91", "92", "93", "12", "51", "52", "53", "Y1", "N2"])


@given(prefix, division, body)
def test_a_computed_check_character_is_accepted(p, d, b):
    first17 = p + d + b
    assert parse_credit_code(first17 + credit_code_check_char(first17)).normalized[:17] == first17


@given(prefix, division, body, st.sampled_from(ALPHABET))
def test_every_other_check_character_is_refused(p, d, b, check):
    first17 = p + d + b
    if check == credit_code_check_char(first17):
        return
    assert reason(first17 + check) == "check"


ALPHABET_PLUS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa -"


@given(st.text(alphabet=ALPHABET_PLUS, min_size=16, max_size=19))
def test_the_fast_check_agrees_with_the_parser_on_any_string(raw):
    from merchants.validators import is_valid_credit_code

    try:
        parsed = parse_credit_code(raw).normalized == raw  # the fast check never normalises
    except InvalidCreditCode:
        parsed = False
    assert is_valid_credit_code(raw) is parsed


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_the_fast_check_agrees_with_the_parser_on_coded_strings(first17):
    from merchants.validators import is_valid_credit_code

    code = first17 + credit_code_check_char(first17)
    try:
        parse_credit_code(code)
        parsed = True
    except InvalidCreditCode:
        parsed = False
    assert is_valid_credit_code(code) is parsed
