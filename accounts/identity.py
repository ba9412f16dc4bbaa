"""Personal identifiers: the citizen ID number (GB 11643-1999), mainland mobile numbers,
the keyed hash that replaces a stored ID number, and the masks shown to other people.

Pure functions: no database, no settings lookups except where a key is passed in.
"""

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: provinces, autonomous regions, municipalities (GB/T 2260), plus the
# codes used on residence permits for Hong Kong, Macao and Taiwan residents.
_PROVINCES = frozenset(
    [
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35"),
        *("36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65", "71", "81", "82", "83"),
    ]
)
# ASCII digits only: Python's \d also matches full-width and other Unicode digits, which
# would hash differently and let one person register twice.
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")


class InvalidIdNumber(ValueError):
    """Why an ID number is refused; `reason` is a stable code."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class IdNumber:
    normalized: str
    birth_date: dt.date
    region: str
    is_male: bool

    @property
    def last4(self) -> str:
        return self.normalized[-4:]

    @property
    def masked(self) -> str:
        return mask_id_number(self.normalized)


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an 18-character citizen ID number and return its parts.

    Raises InvalidIdNumber with reason `length`, `format`, `region`, `birth_date`,
    `birth_date_future` or `check_digit`.
    """
    value = (raw or "").strip().upper()
    if len(value) != 18:
        raise InvalidIdNumber("length")
    if not _ID_SHAPE.match(value):
        raise InvalidIdNumber("format")
    if value[:2] not in _PROVINCES:
        raise InvalidIdNumber("region")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None
    today = today or dt.date.today()
    if born > today:
        raise InvalidIdNumber("birth_date_future")
    if born.year < 1900:
        raise InvalidIdNumber("birth_date")
    if id_check_char(value[:17]) != value[17]:
        raise InvalidIdNumber("check_digit")
    return IdNumber(
        normalized=value, birth_date=born, region=value[:6], is_male=int(value[16]) % 2 == 1
    )


def id_hash(key: str | bytes, normalized_id: str) -> str:
    """HMAC-SHA256 of a normalized ID number, hex: what is stored instead of the number."""
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, normalized_id.upper().encode(), hashlib.sha256).hexdigest()


# What the stored mask shows must leave at least 10,000 candidate ID numbers even to an
# attacker who assumes the person is 18 to 90 (about 26,300 birth dates) and was born in
# one of the prefecture's current county-level divisions: codes × dates / 11 (the check
# character) ≥ 10,000 needs 5 codes. Where a prefecture has fewer (海口 and 三亚 have 4
# districts each: 9,559–9,566 candidates), the mask hides its two prefecture digits too,
# showing the province only (`46**…`), whose counties are many.
# Prefectures with fewer than 5 current county-level codes (GB/T 2260):
THIN_PREFECTURES = frozenset(
    [
        *("4601", "4602", "4603", "4604"),  # 海口, 三亚, 三沙, 儋州
        *("4419", "4420"),  # 东莞, 中山 (no counties)
        *("6202", "6203", "6402"),  # 嘉峪关, 金昌, 石嘴山
        *("6502", "6504", "6505"),  # 克拉玛依, 吐鲁番, 哈密
        *("4207", "1503", "3605"),  # 鄂州, 乌海, 新余
        *("3606", "2309", "3407"),  # 鹰潭, 七台河, 铜陵
        *("4190", "4290"),  # 河南, 湖北: province-administered cities
    ]
)


def mask_id_number(normalized: str) -> str:
    """`3301**********1234`: the province and prefecture, and the last four (the clerk
    compares those with the card); `46************1234` for a thin prefecture."""
    head = normalized[:4]
    if head in THIN_PREFECTURES:
        head = head[:2] + "**"
    return head + "*" * (len(normalized) - 8) + normalized[-4:]


def remask_stored(masked: str) -> str:
    """A mask stored before THIN_PREFECTURES, as mask_id_number makes it now (the data
    migration that re-masks existing rows)."""
    if len(masked) == 18 and masked[:4] in THIN_PREFECTURES:
        return masked[:2] + "**" + masked[4:]
    return masked


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def mask_name(name: str) -> str:
    """`张*` for two characters, `张*明` for three or more (middle ones starred)."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
