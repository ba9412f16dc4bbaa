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


# --------------------------------------------------------------------------- every city
# The current county-level codes (GB/T 2260) under each partner city's prefecture, and
# under Hainan province (what `46**` leaves): the strict attacker's list of birthplaces.
CURRENT_COUNTIES: dict[str, list[str]] = {
    "3101": [
        "01",
        "04",
        "05",
        "06",
        "07",
        "09",
        "10",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "20",
        "51",
    ],
    "3201": ["02", "04", "05", "06", "11", "13", "14", "15", "16", "17", "18"],
    "3202": ["05", "06", "11", "13", "14", "81", "82"],
    "3205": ["05", "06", "07", "08", "09", "81", "82", "83", "85"],
    "3206": ["12", "13", "14", "23", "81", "82", "85"],
    "3301": ["02", "05", "06", "08", "09", "10", "11", "12", "13", "14", "22", "27", "82"],
    "3302": ["03", "05", "06", "11", "12", "13", "25", "26", "81", "82"],
    "3401": ["02", "03", "04", "11", "21", "22", "23", "24", "81"],
    "3502": ["03", "05", "06", "11", "12", "13"],
    "1201": [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
    ],
    "3701": ["02", "03", "04", "05", "12", "13", "14", "15", "16", "17", "24", "26"],
    "4101": ["02", "03", "04", "05", "06", "08", "22", "81", "82", "83", "84", "85"],
    "4202": ["02", "03", "04", "05", "22", "81"],
    "4601": ["05", "06", "07", "08"],
    "4602": ["02", "03", "04", "05"],
    "6108": ["02", "03", "22", "24", "25", "26", "27", "28", "29", "30", "31", "81"],
    "3501": ["02", "03", "04", "05", "11", "12", "21", "22", "23", "24", "25", "28", "81"],
}
HAINAN = [
    *(f"4601{d}" for d in CURRENT_COUNTIES["4601"]),
    *(f"4602{d}" for d in CURRENT_COUNTIES["4602"]),
    "460400",  # 儋州
    *(
        f"4690{d}"
        for d in [
            "01",
            "02",
            "05",
            "06",
            "07",
            "21",
            "22",
            "23",
            "24",
            "25",
            "26",
            "27",
            "28",
            "29",
            "30",
        ]
    ),
]


def regions_under(visible: str) -> list[str]:
    """The strict attacker's birthplaces for a mask's visible head (`3301` or `46`)."""
    if len(visible) == 4:
        return [visible + d for d in CURRENT_COUNTIES[visible]]
    assert visible == "46", visible
    return HAINAN


def mask_candidates(masked: str, regions: list[str], first_day: dt.date, last_day: dt.date):
    """How many ID numbers agree with `masked` (its shown characters), were issued in one
    of `regions`, to a birth date in [first_day, last_day], with a right check character."""
    assert set(masked[6:14]) == {"*"}
    target = _ID_CHECK.index(masked[17])
    tail = sum(int(masked[i]) * _ID_WEIGHTS[i] for i in (14, 15, 16))
    by_residue = [0] * 11
    for region in regions:
        if all(m in ("*", r) for m, r in zip(masked[:6], region, strict=True)):
            by_residue[sum(int(c) * w for c, w in zip(region, _ID_WEIGHTS, strict=False)) % 11] += 1
    total, day = 0, first_day
    while day <= last_day:
        digits = day.strftime("%Y%m%d")
        date_part = sum(int(d) * _ID_WEIGHTS[6 + i] for i, d in enumerate(digits))
        total += by_residue[(target - tail - date_part) % 11]
        day += dt.timedelta(days=1)
    return total


def strict_window() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today.replace(year=today.year - 90), today.replace(year=today.year - 18)


def test_the_mask_counter_agrees_with_brute_force():
    from accounts.identity import mask_id_number

    first_day = last_day = dt.date(1988, 3, 12)
    number = valid_id("46010519880312011")
    masked = mask_id_number(number)
    brute = sum(
        id_check_char(region + "19880312" + number[14:17]) == number[17] for region in HAINAN
    )
    assert mask_candidates(masked, HAINAN, first_day, last_day) == brute > 0


@pytest.mark.parametrize("city_code", sorted(CURRENT_COUNTIES))
def test_every_partner_citys_mask_leaves_10000_under_strict_assumptions(city_code):
    """Strict: born 18 to 90 years ago in one of the current county-level divisions under
    what the mask shows, sex digit and check character known (the mask's last four)."""
    from accounts.identity import mask_id_number
    from accounts.partner_cities import PARTNER_CITIES

    assert {c[:4] for c, *_ in PARTNER_CITIES} == set(CURRENT_COUNTIES)
    first_day, last_day = strict_window()
    region = city_code + CURRENT_COUNTIES[city_code][0]
    for tail in ("0011", "0123", "456X", "9997"):
        first17 = region + "19800101" + tail[:3]
        number = valid_id(first17)
        masked = mask_id_number(number)
        visible = masked[:4].rstrip("*")
        count = mask_candidates(masked, regions_under(visible), first_day, last_day)
        assert count >= 10_000, (city_code, masked, count)


def test_haikou_and_sanya_lose_their_prefecture_digits_and_others_keep_them():
    from accounts.identity import mask_id_number, remask_stored

    haikou = valid_id("46010519880312011")
    assert mask_id_number(haikou) == "46************" + haikou[-4:]
    hangzhou = valid_id("33010619880312011")
    assert mask_id_number(hangzhou).startswith("3301**")
    assert remask_stored("4602**********0123") == "46************0123"
    assert remask_stored("3301**********0123") == "3301**********0123"


@pytest.mark.django_db
def test_the_data_migration_remasks_stored_rows(register):
    from importlib import import_module

    from django.apps import apps

    assert register(id_number=valid_id("33010619880312011")).status_code == 201
    user = User.objects.get()
    # a row stored before the change, with a thin prefecture's old mask
    User.objects.filter(pk=user.pk).update(id_masked="4601**********0112")
    import_module("accounts.migrations.0015_remask_thin_prefectures").remask(apps, None)
    user.refresh_from_db()
    assert user.id_masked == "46************0112"
