"""What is stored about an ID number besides its keyed hash leaves at least 10,000
candidate ID numbers. The count is computed from the stored columns of a registered
resident, minding the GB 11643 check character (which removes about 10 of every 11)."""

import datetime as dt

import pytest
from django.db import connection

from accounts.identity import _ID_CHECK, _ID_WEIGHTS, id_check_char
from accounts.models import User


def valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def candidate_count(
    known: dict[int, str],
    *,
    first_day: dt.date,
    last_day: dt.date,
    region_suffixes: range | list[int] = range(100),
) -> int:
    """How many 18-character ID numbers agree with the characters `known` (position →
    character; the rest hidden), have a birth date in [first_day, last_day] and a right
    check character. Positions 4–5 (address) and 6–13 (birth date) may be hidden;
    everything else must be known."""
    assert set(range(18)) - set(range(4, 14)) <= set(known), "only address/birth hidden"
    target = _ID_CHECK.index(known[17])
    base = sum(int(known[i]) * _ID_WEIGHTS[i] for i in (0, 1, 2, 3, 14, 15, 16))
    by_residue = [0] * 11
    for suffix in region_suffixes:
        a, b = divmod(suffix, 10)
        if (4 in known and int(known[4]) != a) or (5 in known and int(known[5]) != b):
            continue
        by_residue[(a * _ID_WEIGHTS[4] + b * _ID_WEIGHTS[5]) % 11] += 1
    total = 0
    day = first_day
    one = dt.timedelta(days=1)
    while day <= last_day:
        digits = day.strftime("%Y%m%d")
        if all(known.get(6 + i, d) == d for i, d in enumerate(digits)):
            date_part = sum(int(d) * _ID_WEIGHTS[6 + i] for i, d in enumerate(digits))
            total += by_residue[(target - base - date_part) % 11]
        day += one
    return total


def test_the_counter_agrees_with_brute_force_on_a_small_case():
    number = valid_id("33010619880312011")
    known = {i: c for i, c in enumerate(number) if not 4 <= i <= 5}
    day = dt.date(1988, 3, 12)
    brute = sum(
        id_check_char(number[:4] + f"{s:02d}" + number[6:17]) == number[17] for s in range(100)
    )
    assert candidate_count(known, first_day=day, last_day=day) == brute


def test_mask_plus_birth_date_would_give_the_id_away():
    """What was stored before (mask and full birth date): about ten candidates."""
    number = valid_id("33010619880312011")
    known = {i: c for i, c in enumerate(number) if not 4 <= i <= 5}
    assert candidate_count(known, first_day=dt.date(1900, 1, 1), last_day=dt.date.today()) < 20


def _stored_row(user_id: int) -> dict:
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_user WHERE id = %s", [user_id])
        names = [c.name for c in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


@pytest.mark.django_db
def test_what_is_stored_about_a_registered_id_leaves_10000_candidates(register):
    number = valid_id("33010619880312011")
    assert register(id_number=number).status_code == 201
    row = _stored_row(User.objects.get().pk)
    # every stored value except the keyed hash that shares a character with the number
    known: dict[int, str] = {}
    masked = row["id_masked"]
    assert len(masked) == 18
    for i, c in enumerate(masked):
        if c != "*":
            known[i] = c
    first_day, last_day = dt.date(1900, 1, 1), dt.date.today()
    for name, value in row.items():
        if name in ("id_hash", "id_masked", "password") or value is None:
            continue
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and "birth" in name:
            first_day = last_day = value  # birth data narrows the dates
        if "birth" in name and isinstance(value, int):
            first_day, last_day = dt.date(value, 1, 1), dt.date(value, 12, 31)
    assert candidate_count(known, first_day=first_day, last_day=last_day) >= 10_000
    # and still when an attacker knows the real county codes under the prefix (say ten)
    # and that the person is an adult under 90
    today = dt.date.today()
    pessimistic = candidate_count(
        known,
        first_day=today.replace(year=today.year - 90),
        last_day=today.replace(year=today.year - 18),
        region_suffixes=range(1, 11),
    )
    assert pessimistic >= 10_000
