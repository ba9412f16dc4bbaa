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

psycopg turns a statement's `%(name)s` placeholders into PostgreSQL's `$1` by parsing its
text, and caches the result only for a text up to 4,096 bytes (`MAX_CACHED_STATEMENT_LENGTH`,
against ORMs' ever-different long INSERTs). The hot paths' statements are a fixed handful,
and the longest exceed it: the pass check's (7.5 kB) was parsed again at every check,
82 µs of the web worker's CPU, the claim's read (5.3 kB) 42 µs (issue 27). The cursor here
keeps its own cache of the conversion, whatever the length, for its fixed statements.

Parameters are bound with types on the server: a Python `None` or `str` is sent as an
untyped value, so a statement must cast those where PostgreSQL cannot infer the type (for
example `%(device_id)s::text` in a SELECT list).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper
from psycopg import _queries


@lru_cache(maxsize=64)
def _converted(query: str, encoding: str) -> tuple:
    """psycopg's own conversion of a statement's placeholders (`_queries._query2pg` is the
    same function behind a cache that skips texts over 4,096 bytes). Keyed by the text: the
    hot paths' texts are built once (functools.cache), so their hash is computed once. 64
    entries hold every statement of the hot paths (a dozen) with room."""
    return _queries._query2pg_nocache(query.encode(encoding), encoding)


class _StatementQuery(_queries.PostgresQuery):
    """psycopg's server-binding query, with the placeholders' conversion cached whatever
    the statement's length (psycopg caches up to 4,096 bytes)."""

    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, str):
            return super().convert(query, vars)
        converted = _converted(query, self._tx.encoding)
        self.query, self._want_formats, self._order, self._parts = converted
        self.dump(vars)
        return None


class _PreparingCursor(psycopg.Cursor):
    """A server-binding psycopg cursor that prepares whatever it executes, converting each
    statement's placeholders once per process."""

    _query_cls = _StatementQuery

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
