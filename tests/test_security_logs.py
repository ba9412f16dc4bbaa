"""Nothing personal in logs (issue 24, point 8): query strings lose the values of personal
fields (admin search `?q=`, phone, ID number, name) in every log: Django's handlers
(runserver's request lines, request warnings) through `core.logredact.RedactQueryFilter`,
gunicorn's access log through `RedactingLogger` (tests/test_security_server.py)."""

import logging

from django.conf import settings

from core.logredact import RedactQueryFilter, redact_text

NAME = "%E6%AC%A7%E9%98%B3%E6%98%8E%E6%9C%88"  # 欧阳明月, as a browser sends it


def test_personal_values_leave_query_strings():
    line = '"GET /admin/accounts/user/?q=13700000001&o=1 HTTP/1.1" 200 512'
    assert redact_text(line) == '"GET /admin/accounts/user/?q=[redacted]&o=1 HTTP/1.1" 200 512'
    assert "欧阳" not in redact_text("/admin/?q=欧阳明月") and NAME not in redact_text(
        f"/a?q={NAME}"
    )
    assert (
        redact_text("/x?real_name__icontains=王&page=3")
        == "/x?real_name__icontains=[redacted]&page=3"
    )
    # a phone or an ID number under any key
    assert "13700000001" not in redact_text("/x?anything=13700000001")
    assert "11010519491231002X" not in redact_text("/x?v=11010519491231002X")
    assert redact_text("/api/v1/offers?page=2&city=330100") == "/api/v1/offers?page=2&city=330100"


def test_every_django_log_handler_redacts():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_queries" in handler.get("filters", []), name
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /admin/accounts/user/?q=13700000001 HTTP/1.1", "200", "77"), None,
    )  # fmt: skip
    assert RedactQueryFilter().filter(record)
    assert "13700000001" not in record.getMessage() and "[redacted]" in record.getMessage()
