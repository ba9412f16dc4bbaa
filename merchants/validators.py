"""统一社会信用代码 (unified social credit code, GB 32100-2015): parse and check.

Pure Python apart from the Django validator at the end. 18 characters from
``0-9ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V): registration authority (1), organisation
type (1), administrative division code (6), organisation code (9), check character (1).
The check character: values 0–30 in alphabet order, weights ``3^i mod 31`` over positions
0–16, check value ``31 − (sum mod 31)`` with 31 read as 0.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

# Registration authority -> organisation types it may register (GB 32100-2015 appendix A
# and the authorities added since: 外交, 司法行政, 文化, 旅游, 宗教, 工会, 军队, 农业).
ORGANISATION_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": "19",  # 外交
    "3": "123459",  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委, 其他
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 / 市场监管: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}

REASONS = {
    "length": _("统一社会信用代码应为 18 位。"),
    "charset": _("统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）。"),
    "authority": _("统一社会信用代码第 1 位（登记管理部门代码）无效。"),
    "organisation_type": _("统一社会信用代码第 2 位（机构类别代码）与登记管理部门不符。"),
    "division": _("统一社会信用代码第 3–8 位应为 6 位数字行政区划代码。"),
    "check": _("统一社会信用代码校验位不正确。"),
}


class InvalidCreditCode(ValueError):
    """Why a code is refused: ``reason`` is a key of ``REASONS``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CreditCode:
    normalized: str

    @property
    def registration_authority(self) -> str:
        return self.normalized[0]

    @property
    def organisation_type(self) -> str:
        return self.normalized[1]

    @property
    def division_code(self) -> str:
        return self.normalized[2:8]

    @property
    def organisation_code(self) -> str:
        return self.normalized[8:17]

    @property
    def check_char(self) -> str:
        return self.normalized[17]


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (already in the alphabet)."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise InvalidCreditCode("charset" if len(first17) == 17 else "length")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body.

    Used to build realistic demo codes; not enforced on input, because the organisation
    code inside some unified codes (individual businesses) is not a GB 11714 code.
    """
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_credit_code(raw: str) -> str:
    return "".join(raw.split()).upper()


def parse_credit_code(raw: str) -> CreditCode:
    """Check a unified social credit code; raise InvalidCreditCode naming the first fault.

    Surrounding and inner whitespace is dropped and letters are upper-cased first.
    """
    code = normalize_credit_code(raw)
    if len(code) != 18:
        raise InvalidCreditCode("length")
    if any(c not in _VALUE for c in code):
        raise InvalidCreditCode("charset")
    if code[0] not in ORGANISATION_TYPES:
        raise InvalidCreditCode("authority")
    if code[1] not in ORGANISATION_TYPES[code[0]]:
        raise InvalidCreditCode("organisation_type")
    if not code[2:8].isdigit():
        raise InvalidCreditCode("division")
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidCreditCode("check")
    return CreditCode(code)


_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def is_valid_credit_code(code: str) -> bool:
    """``parse_credit_code`` without normalising or naming the fault, fast: for checking
    large lists from a provider (a code must arrive exactly as written)."""
    if not isinstance(code, str) or not _SHAPE.match(code):
        return False
    if code[1] not in ORGANISATION_TYPES.get(code[0], ""):
        return False
    total = sum(map(operator.mul, map(_VALUE.__getitem__, code[:17]), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31] == code[17]


def validate_credit_code(value: str) -> None:
    """Django field validator with a Chinese message per fault."""
    try:
        parse_credit_code(value)
    except InvalidCreditCode as exc:
        raise ValidationError(REASONS[exc.reason], code=f"credit_code_{exc.reason}") from None
