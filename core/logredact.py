"""Nothing personal in the logs: query strings lose the values of personal fields before
a line is written (issue 24, point 8). Used by the logging filter of every Django log
handler (`RedactQueryFilter`, in LOGGING) and by gunicorn's access and error logs
(`core.gunicorn_worker.RedactingLogger`).

A value is replaced by `[redacted]` when its key names something personal (`q`, `phone`,
`id_number`, `name`, ...: admin search, filters) or when the value looks like a mainland
mobile number or a citizen ID number, whatever its key.
"""

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
PERSONAL_KEYS = frozenset(
    {
        *("q", "search", "query", "term", "keyword"),
        *("phone", "mobile", "tel", "username", "user", "holder", "resident"),
        *("id_number", "id_no", "idno", "idcard", "id_card", "identity", "id_masked"),
        *("name", "real_name", "realname", "full_name", "email", "address", "sms_code", "code"),
    }
)
# a query string: after `?`, up to whitespace, a quote or the end
_QUERY = re.compile(r"\?([^\s\"'<>]*)")
_PERSONAL_VALUE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9}|[0-9]{17}[0-9Xx])(?![0-9])")


def _personal_key(key: str) -> bool:
    name = unquote_plus(key).strip().lower()
    base = name.split("__", 1)[0]  # admin lookups: real_name__icontains
    return name in PERSONAL_KEYS or base in PERSONAL_KEYS or "phone" in name or "name" in name


def redact_query(query: str) -> str:
    """`query` (without the `?`) with personal values replaced."""
    parts = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and value and (_personal_key(key) or _PERSONAL_VALUE.search(unquote_plus(value))):
            value = REDACTED
        parts.append(key + sep + value)
    return "&".join(parts)


def redact_text(text: str) -> str:
    """Every query string in `text` (a request line, a URL, a log message) redacted."""
    if "?" not in text:
        return text
    return _QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text)


class RedactQueryFilter(logging.Filter):
    """A logging filter: the record's message with its query strings redacted (runserver's
    request lines, Django's request warnings, anything logging a URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
