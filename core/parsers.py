"""The API's JSON parser: DRF's, refusing what no endpoint accepts and what would crash or
reach the database as an error. Nesting deeper than `MAX_DEPTH` (a 20,000-deep array
exhausts the decoder's recursion) and NUL characters in any string or key (PostgreSQL
text cannot hold them) are `400 invalid_request`."""

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
