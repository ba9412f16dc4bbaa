"""Prepared statements for the hot paths (issue 18).

Django's PostgreSQL cursors bind parameters on the client and never prepare, so the
server plans every statement anew. For a short OLTP statement with a few joins the plan
costs more than the execution: a redemption spent 0.35 ms of its 0.5 ms in PostgreSQL on
parsing and planning (bench/RESULTS.md). `prepared_cursor()` is a cursor that binds on
the server and asks psycopg to prepare each statement it runs: the first execution on a
connection prepares it (a named prepared statement, psycopg's cache of up to 100 per
connection), later ones only bind and execute.

It goes through Django's cursor wrapper, so query logging (`django_assert_num_queries`),
execute wrappers and the translation of database errors (the 503 of an outage) hold as
for any other statement. Behind PgBouncer in transaction pooling (`DATABASE_POOLER`) a
server connection is shared between clients, so named statements cannot be kept:
`prepare_threshold` is then None (config/settings/base.py) and psycopg prepares nothing; the
statements still run, planned each time.

Parameters are bound with types on the server: a Python `None` or `str` is sent as an
untyped value, so a statement must cast those where PostgreSQL cannot infer the type (for
example `%(device_id)s::text` in a SELECT list).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper


class _PreparingCursor(psycopg.Cursor):
    """A server-binding psycopg cursor that prepares whatever it executes."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kw):
        return super().execute(query, params, prepare=True if prepare is None else prepare, **kw)


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A Django cursor (wrapper) whose statements PostgreSQL prepares once per connection."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _PreparingCursor(connection.connection)
    # django-stubs type the argument of make_cursor/make_debug_cursor as Django's
    # CursorWrapper; Django passes (and wraps) the driver's own cursor, as here.
    wrapped: CursorWrapper
    if connection.queries_logged:
        wrapped = connection.make_debug_cursor(raw)  # type: ignore[arg-type]  # stubs: see above
    else:
        wrapped = connection.make_cursor(raw)  # type: ignore[arg-type]  # stubs: see above
    with wrapped as cursor:
        yield cursor
