"""`Idempotency-Key` for write endpoints (after Stripe and pretix).

The first request with a key stores a row (user, scope, key, fingerprint of the body).
The work then runs in one transaction with the row locked, and its response is stored on
the row in that same transaction: the work and its recorded answer are committed together
or not at all. The same key from the same user within 24 hours replays that response
(same status, same body); with another body it is `409 idempotency_key_reused`; while the
first is still running (its row is locked), `409 request_in_progress`. Only 2xx answers and
domain refusals (4xx with a stable code) are stored.

When the first request died before committing (its process crashed, the database went
away mid-request), nothing of its work is kept and its row is unlocked: a retry with the
same key takes the row over at once and does the work, exactly once.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from core.db import prepared_cursor
from core.errors import DomainError, render

from . import errors
from .facts import RepeatWork, repeatable
from .models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"[\x20-\x7e]{1,64}")
TTL = timedelta(hours=24)
# A first request still unfinished after this long died with its process: take it over.
# How often work that a race undid (facts.RepeatWork: a claim's last place taken between
# its snapshot and its lock, a voucher code drawn twice) is run again in a new transaction;
# the run after the last repeat takes its savepoint and answers the race in place.
REPEATS = 3

# The header as the API schema documents it on every write that accepts it.
IDEMPOTENCY_PARAM = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="1–64 printable ASCII characters; the same key within 24 h replays the "
    "first response (409 idempotency_key_reused with another body, 409 request_in_progress "
    "while the first is still running).",
)


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _table() -> tuple[str, str]:
    return IdempotencyRecord._meta.db_table, connection.ops.quote_name("key")


def _insert(request: Request, scope: str, key: str, fingerprint: str) -> None:
    """Store the key's row if it is new, in one statement (outside a transaction it commits
    at once)."""
    table, key_column = _table()
    try:
        with prepared_cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (user_id, scope, {key_column}, fingerprint, created_at, "  # noqa: S608
                "completed) VALUES (%s, %s, %s, %s, %s, %s) "
                f"ON CONFLICT (user_id, scope, {key_column}) DO NOTHING",
                [
                    request.user.pk,
                    scope,
                    key,
                    fingerprint,
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                    False,
                ],
            )
    except IntegrityError:  # no such user (any more): the lock below finds no row
        pass


_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: FOR UPDATE NOWAIT met a lock


def _lock(request: Request, scope: str, key: str) -> IdempotencyRecord:
    """The key's row, locked until the transaction ends; 409 while another holds it."""
    table, key_column = _table()
    try:
        with prepared_cursor() as cur:
            cur.execute(
                "SELECT id, fingerprint, created_at, completed, response_status, response_body "  # noqa: S608
                f"FROM {table} WHERE user_id = %s AND scope = %s AND {key_column} = %s "
                "FOR UPDATE NOWAIT",
                [request.user.pk, scope, key],
            )
            row = cur.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise errors.REQUEST_IN_PROGRESS() from None
        raise
    if row is None:
        raise IdempotencyRecord.DoesNotExist
    pk, stored_fingerprint, created_at, completed, status, body = row
    user_id = request.user.pk
    assert user_id is not None  # the row was found under this (signed-in) user's id
    return IdempotencyRecord(
        pk=pk,
        user_id=user_id,
        scope=scope,
        key=key,
        fingerprint=stored_fingerprint,
        created_at=created_at,
        completed=bool(completed),
        response_status=status,
        response_body=json.loads(body) if isinstance(body, str) else body,
    )


def idempotent(request: Request, scope: str, work: Callable[[], Response]) -> Response:
    """Run `work` at most once per (user, scope, Idempotency-Key); without a key, run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    if not KEY_RE.fullmatch(key):
        raise DomainError(detail={HEADER: ["1–64 printable ASCII characters"]})
    fingerprint = _fingerprint(request)
    purged, repeats = 0, REPEATS
    while True:
        _insert(request, scope, key, fingerprint)
        try:
            return _run(request, scope, key, fingerprint, work, repeats > 0)
        except IdempotencyRecord.DoesNotExist:  # purged (expired) between insert and lock
            purged += 1
            if purged == 2:
                raise errors.REQUEST_IN_PROGRESS() from None
        except RepeatWork as race:  # a race undid the work, and nothing of it is kept: again
            repeats -= 1  # (at the last, the take keeps a savepoint and answers the race)
            logger.info("work repeated after a race scope=%s reason=%s", scope, race)


def _run(
    request: Request,
    scope: str,
    key: str,
    fingerprint: str,
    work: Callable[[], Response],
    may_repeat: bool,
) -> Response:
    refusal: DomainError | None = None
    with transaction.atomic():
        record = _lock(request, scope, key)
        now = timezone.now()
        if record.created_at >= now - TTL:
            if record.fingerprint != fingerprint:
                raise errors.IDEMPOTENCY_KEY_REUSED()
            if record.completed:
                return Response(record.response_body, status=record.response_status)
        # ours, or left by a first attempt that died uncommitted, or expired: (re)start it
        record.created_at, record.fingerprint = now, fingerprint
        try:
            with repeatable() if may_repeat else nullcontext():
                response = work()
        except DomainError as exc:
            refusal = exc
            _complete(record, exc.status, render(exc))
        else:
            if response.status_code < 500:
                _complete(record, response.status_code, response.data)
    if refusal is not None:
        raise refusal
    return response


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> str:
        return str(o)  # what is not JSON (a date, a lazy text) is stored as its text


def _complete(record: IdempotencyRecord, status: int, body: Any) -> None:
    """Store the answer on the key's row (in the work's transaction)."""
    table, _ = _table()
    with prepared_cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET created_at = %s, fingerprint = %s, completed = %s, "  # noqa: S608
            "response_status = %s, response_body = %s WHERE id = %s",
            [
                connection.ops.adapt_datetimefield_value(record.created_at),
                record.fingerprint,
                True,
                status,
                connection.ops.adapt_json_value(body, _Encoder),
                record.pk,
            ],
        )


def purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
