"""The API's JSON parser: DRF's, refusing what no endpoint accepts and what would crash or
reach the database as an error. Nesting deeper than `MAX_DEPTH` (a 20,000-deep array
exhausts the decoder's recursion) and NUL characters in any string or key (PostgreSQL
text cannot hold them) are `400 invalid_request`.

Also the strict reading of query-string values (`query_value_error`): dates exactly
`YYYY-MM-DD`, numbers in ASCII digits only, used by `core.api.QuerySerializer` and the
filter sets (`merchants.api.StrictFilterSet`)."""

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def _too_deep(depth: int) -> ParseError:
    return ParseError(_("JSON 嵌套层级过深（最多 %(depth)s 层）。") % {"depth": depth})


def check_json(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise ParseError for nesting deeper than `max_depth` or a NUL in a string or key."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(_("请求内容含有空字符（NUL）。"))
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise _too_deep(max_depth)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise ParseError(_("请求内容含有空字符（NUL）。"))
                stack.append((item, depth + 1))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep(MAX_DEPTH) from None
        check_json(data)
        return data


# --------------------------------------------------------------------------- query strings
# Query parameters are ASCII: Python's `\d`, `int()` and `strptime` also take full-width
# (`２`) and other scripts' digits (Arabic-Indic `٢`), and `strptime`/`parse_date` take
# `2026-1-1`; what docs/outages.md promises is `YYYY-MM-DD` and ASCII digits.
ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
ASCII_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
ASCII_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def non_ascii_digit(value: str) -> bool:
    """Whether `value` holds a digit that is not 0-9 (full-width, Arabic-Indic, ...)."""
    return any(not c.isascii() and (c.isdigit() or c.isnumeric()) for c in value)


def query_value_error(kind: str, value: str) -> str | None:
    """Why a query parameter's raw value is refused, or None. `kind` is "date" (exactly
    YYYY-MM-DD), "integer" (ASCII digits, an optional leading minus), "number" (also a
    decimal point) or "code" (anything, but no digit outside 0-9)."""
    if kind == "date" and not ASCII_DATE.fullmatch(value):
        return _("日期格式应为 YYYY-MM-DD（半角数字）。")
    if kind == "integer" and not ASCII_INTEGER.fullmatch(value):
        return _("应为半角数字（0-9）组成的整数。")
    if kind == "number" and not ASCII_NUMBER.fullmatch(value):
        return _("应为半角数字（0-9）组成的数。")
    if non_ascii_digit(value):
        return _("数字只能用半角 0-9。")
    return None
