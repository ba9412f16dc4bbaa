"""Voucher tokens and human codes: pure functions, property-tested."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentives import signing

ALPHABET = signing.CODE_ALPHABET
bodies = st.text(alphabet=ALPHABET, min_size=9, max_size=9)


@given(bodies, st.integers(min_value=0, max_value=8), st.sampled_from(ALPHABET))
def test_a_single_wrong_character_is_caught(body, position, replacement):
    code = body + signing.code_check_char(body)
    typo = code[:position] + replacement + code[position + 1 :]
    if typo != code:
        assert signing.normalize_code(typo) is None


@given(bodies, st.integers(min_value=0, max_value=8))
def test_swapping_two_neighbours_is_caught(body, i):
    code = body + signing.code_check_char(body)
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if swapped != code:
        assert signing.normalize_code(swapped) is None


def test_codes_are_unambiguous_and_typing_is_forgiving():
    assert not set("01ILOUZ") & set(ALPHABET)
    code = signing.new_code()
    assert signing.normalize_code(code) == code
    assert signing.normalize_code(" " + signing.format_code(code).lower() + " ") == code
    assert signing.normalize_code(code[:-1]) is None


@pytest.fixture
def two_keys(settings):
    import base64

    settings.VOUCHER_SIGNING_KEYS = [
        {"kid": "K2", "private_key": base64.b64encode(b"\x02" * 32).decode()},
        {
            "kid": "K1",
            "private_key": base64.b64encode(b"\x01" * 32).decode(),
            # in force for a year from now: a fixed date would retire K1 in the suite's future
            "not_after": (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat(),
        },
    ]
    settings.VOUCHER_ACTIVE_KID = "K2"


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_tokens_round_trip(voucher_id):
    expiry = dt.datetime(2027, 5, 1, 12, 0, tzinfo=dt.UTC)
    token = signing.sign(kid=signing.active_key().kid, voucher_id=voucher_id, expires_at=expiry)
    claims = signing.verify(token)
    assert (claims.voucher_id, claims.expires_at) == (voucher_id, expiry)
    assert token == token.upper() and len(token) < 140


def test_rotation_old_key_tokens_still_verify(two_keys):
    expiry = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    old = signing.sign(kid="K1", voucher_id=7, expires_at=expiry)
    new = signing.sign(kid=signing.active_key().kid, voucher_id=7, expires_at=expiry)
    assert new.startswith("XY1K2.") and old.startswith("XY1K1.")
    assert signing.verify(old).voucher_id == signing.verify(new).voucher_id == 7
    # a signature made by one key never passes as the other's
    forged = "XY1K2." + old.split(".")[1]
    with pytest.raises(signing.InvalidToken):
        signing.verify(forged)
