"""`Idempotency-Key` for write endpoints (after Stripe and pretix).

The first request with a key stores a row (user, scope, key, fingerprint of the body)
before the work; when the work is done its response is stored on the row. The same key
from the same user within 24 hours replays that response (same status, same body); with
another body it is `409 idempotency_key_reused`; while the first is still running,
`409 request_in_progress`. Only 2xx answers and domain refusals (4xx with a stable code)
are stored: after anything else (a crash, a 5xx) the row is removed and a retry does the
work.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import DomainError, render

from . import errors
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"^[\x20-\x7e]{1,64}$")
TTL = timedelta(hours=24)
# A first request still unfinished after this long died with its process: take it over.
STALE_IN_PROGRESS = timedelta(minutes=2)


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim_record(request: Request, scope: str, key: str) -> IdempotencyRecord | Response:
    """Our own fresh record, or the stored response to replay; raises 409s."""
    fingerprint = _fingerprint(request)
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=request.user, scope=scope, key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(user=request.user, scope=scope, key=key)
    expired = record.created_at < now - TTL
    if not expired:
        if record.fingerprint != fingerprint:
            raise errors.IDEMPOTENCY_KEY_REUSED()
        if record.completed:
            return Response(record.response_body, status=record.response_status)
        if record.created_at > now - STALE_IN_PROGRESS:
            raise errors.REQUEST_IN_PROGRESS()
    # expired key, or an abandoned first attempt: take the row over, once
    taken = IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).update(
        created_at=now,
        fingerprint=fingerprint,
        completed=False,
        response_status=None,
        response_body=None,
    )
    if not taken:
        raise errors.REQUEST_IN_PROGRESS()
    record.refresh_from_db()
    return record


def idempotent(request: Request, scope: str, work: Callable[[], Response]) -> Response:
    """Run `work` at most once per (user, scope, Idempotency-Key); without a key, run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    if not KEY_RE.match(key):
        raise DomainError(detail={HEADER: ["1–64 printable ASCII characters"]})
    claimed = _claim_record(request, scope, key)
    if isinstance(claimed, Response):
        return claimed
    try:
        response = work()
    except DomainError as exc:
        _complete(claimed, exc.status, render(exc))
        raise
    except BaseException:
        claimed.delete()
        raise
    if response.status_code >= 500:
        claimed.delete()
    else:
        _complete(claimed, response.status_code, response.data)
    return response


def _complete(record: IdempotencyRecord, status: int, body) -> None:
    record.completed = True
    record.response_status = status
    record.response_body = json.loads(json.dumps(body, default=str))
    record.save(update_fields=["completed", "response_status", "response_body"])


def purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
