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

A use case whose work is one writing statement records its answer in that statement
(`recorded_in_work`, the claim: issue 27): the key's row is read with the work's facts and
written, complete, by the statement that does the work, so the key costs no statement of
its own. The answer is decided before the statement runs (the claim's voucher id is drawn
by its read); a refusal is stored by one INSERT. The first answer stored wins: a repeat
that finds the key answered at its read replays it; one whose own statement meets the
first's row (committed after the repeat's read: the first was still running when the
repeat came) waits for it, undoes whatever its statement did and answers `409
request_in_progress`, as api.md says, and its retry replays. A row of a first attempt
that runs under the locking protocol above (not complete) is left to it.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
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


def _valid_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is not None and not KEY_RE.fullmatch(key):
        raise DomainError(detail={HEADER: ["1–64 printable ASCII characters"]})
    return key


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
    key = _valid_key(request)
    if key is None:
        return work()
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


# --------------------------------------------------------------------------- in the work


@dataclass(frozen=True)
class Keyed:
    """A request under an Idempotency-Key whose work stores its own answer (in its one
    writing statement, or by `store_refusal`)."""

    user_id: int
    scope: str
    key: str
    fingerprint: str

    def params(self, now: datetime) -> dict[str, Any]:
        """The parameters of `RECORD_CTE` (and of the read's LEFT JOIN: `scope`, `key`)."""
        return {
            "scope": self.scope,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "stale": now - TTL,
        }


@dataclass(frozen=True)
class Prior:
    """The key's row as a read found it."""

    fingerprint: str
    created_at: datetime
    completed: bool
    status: int | None
    body: Any

    @classmethod
    def of(cls, row: tuple | None) -> "Prior | None":
        """From (fingerprint, created_at, completed, response_status, response_body); None
        for no row (a LEFT JOIN's NULLs)."""
        if row is None or row[0] is None:
            return None
        fingerprint, created_at, completed, status, body = row
        body = json.loads(body) if isinstance(body, str) else body
        return cls(fingerprint, created_at, bool(completed), status, body)

    def live(self, now: datetime) -> bool:
        return self.created_at >= now - TTL


class Recorded(Exception):
    """The key is already answered (`prior`, or None when only the writing statement found
    the row): the work did nothing and the answer is the one stored."""

    def __init__(self, prior: Prior | None = None) -> None:
        super().__init__("idempotency key already answered")
        self.prior = prior


# The key's row, complete, written by the work's own statement (`{record}` its table):
# a row older than the TTL is taken over, any other row of the key is left alone and the
# statement finds none inserted (then it undoes itself: Recorded). `{source}` is the CTE
# whose row says the work was done.
RECORD_CTE = """recorded AS (
    INSERT INTO {record} (user_id, scope, "key", fingerprint, created_at, completed,
                          response_status, response_body)
    SELECT %(resident)s, %(scope)s::text, %(key)s::text, %(fingerprint)s::text, %(now)s, TRUE,
           %(answer_status)s, %(answer)s::jsonb
    FROM {source} WHERE %(key)s::text IS NOT NULL
    ON CONFLICT (user_id, scope, "key") DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at, completed = TRUE,
        response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body
    WHERE {record}.created_at < %(stale)s
    RETURNING id
)"""

# The read's columns and join of the key's row (`{record}` its table; alias `ir`).
PRIOR_COLUMNS = "ir.fingerprint, ir.created_at, ir.completed, ir.response_status, ir.response_body"
PRIOR_JOIN = (
    "LEFT JOIN {record} ir ON ir.user_id = %(resident)s AND ir.scope = %(scope)s::text "
    'AND ir."key" = %(key)s::text'
)


def answer_json(body: Any) -> str:
    """A body as the key's row stores it (what is not JSON, a date or a lazy text, as text)."""
    return json.dumps(body, cls=_Encoder)


def store_refusal(keyed: Keyed, refusal: DomainError, now: datetime) -> None:
    """Store a refusal as the key's answer, in one statement; Recorded when the key is
    already answered (the caller's transaction, if any, is then rolled back by it)."""
    table, key_column = _table()
    with prepared_cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (user_id, scope, {key_column}, fingerprint, created_at, "  # noqa: S608
            "completed, response_status, response_body) VALUES (%s, %s, %s, %s, %s, TRUE, %s, "
            f"%s::jsonb) ON CONFLICT (user_id, scope, {key_column}) DO UPDATE "
            "SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at, "
            "completed = TRUE, response_status = EXCLUDED.response_status, "
            f"response_body = EXCLUDED.response_body WHERE {table}.created_at < %s RETURNING id",
            [
                keyed.user_id,
                keyed.scope,
                keyed.key,
                keyed.fingerprint,
                now,
                refusal.status,
                answer_json(render(refusal)),
                now - TTL,
            ],
        )
        if cur.fetchone() is None:
            raise Recorded()


def _read_prior(keyed: Keyed) -> Prior | None:
    table, key_column = _table()
    with prepared_cursor() as cur:
        cur.execute(
            "SELECT fingerprint, created_at, completed, response_status, response_body "  # noqa: S608
            f"FROM {table} WHERE user_id = %s AND scope = %s AND {key_column} = %s",
            [keyed.user_id, keyed.scope, keyed.key],
        )
        return Prior.of(cur.fetchone())


def recorded_in_work(
    request: Request,
    scope: str,
    work: Callable[[Keyed | None], Response],
    locking_work: Callable[[], Response],
) -> Response:
    """Run `work` at most once per (user, scope, Idempotency-Key), the work storing its own
    answer: `work(keyed)` raises Recorded when the key is already answered (nothing done)
    and stores its refusals itself. Without a key, `work(None)`. A key whose row a first
    attempt of the locking protocol holds (not complete) goes that way: `idempotent` with
    `locking_work` (409 request_in_progress while that attempt runs)."""
    key = _valid_key(request)
    if key is None:
        return work(None)
    user_id = request.user.pk
    assert user_id is not None  # the view lets only signed-in callers through
    keyed = Keyed(int(user_id), scope, key, _fingerprint(request))
    for _attempt in range(REPEATS):
        try:
            return work(keyed)
        except Recorded as found:
            # found by the writing statement only: the first attempt's answer was committed
            # after this request's read, so the first was still running when it came
            in_flight = found.prior is None
            prior = found.prior or _read_prior(keyed)
        now = timezone.now()
        if prior is None or not prior.live(now):
            continue  # purged, or taken over as stale, since: the work again
        if prior.fingerprint != keyed.fingerprint:
            raise errors.IDEMPOTENCY_KEY_REUSED()
        if in_flight:  # api.md: a repeat while the first is processed (retry: the replay)
            raise errors.REQUEST_IN_PROGRESS()
        if prior.completed:
            return Response(prior.body, status=prior.status)
        return idempotent(request, scope, locking_work)
    raise errors.REQUEST_IN_PROGRESS()
