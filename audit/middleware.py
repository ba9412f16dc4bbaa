"""The audit trail's context: who (user id), from where (the client address as the
throttles and the lockout see it: accounts.security.services.client_ip) and which path,
attached to every trail row the request's writes produce.

pghistory's own middleware, with two differences:
- the address is added;
- statements run through a server-binding (prepared) cursor get no context: pghistory
  prepends `SELECT set_config(...);` to a statement, and PostgreSQL cannot prepare two
  statements at once. Only the hot paths use such cursors (core.db.prepared_cursor), and
  they write no tracked table (audit.models says which are tracked).

Only writes carry context (POST, PUT, PATCH, DELETE): reads change nothing tracked.
"""

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from django.core.handlers.asgi import ASGIRequest as DjangoASGIRequest
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from pghistory import runtime

from accounts.security.services import client_ip

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _inject_unless_prepared(execute, sql, params, many, context):
    raw = getattr(context["cursor"], "cursor", None)
    # (executemany: pghistory would prepend its parameters to the list of rows)
    if many or (raw is not None and not isinstance(raw, psycopg.ClientCursor)):
        return execute(sql, params, many, context)
    return runtime._inject_history_context(execute, sql, params, many, context)


class trail_context:
    """pghistory.context, but leaving prepared statements alone (see the module)."""

    def __init__(self, **metadata: Any) -> None:
        self.metadata = metadata
        self._hook: Any = None

    def __enter__(self) -> "trail_context":
        if hasattr(runtime._tracker, "value"):
            runtime._tracker.value.metadata.update(self.metadata)
            return self
        self._hook = connection.execute_wrapper(_inject_unless_prepared)
        self._hook.__enter__()
        runtime._tracker.value = runtime.Context(id=uuid.uuid4(), metadata=self.metadata)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._hook is not None:
            del runtime._tracker.value
            self._hook.__exit__(*exc)


def _user_id(user: Any) -> Any:
    """The id of a signed-in user, whatever user class the view set (the hot paths set a
    light user object of their own); None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None) or getattr(user, "id", None)


class _TrailRequest:
    """A request whose `user`, when the view sets it (DRF's JWT authentication does so
    after the middleware ran), is put on the trail's context."""

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr == "user" and hasattr(runtime._tracker, "value"):
            runtime._tracker.value.metadata["user"] = _user_id(value)
        super().__setattr__(attr, value)


class WSGIRequest(_TrailRequest, DjangoWSGIRequest):
    pass


class ASGIRequest(_TrailRequest, DjangoASGIRequest):
    pass


class AuditContextMiddleware:
    """Put user, address and path on the trail rows of a write request. The user of an
    API request is known only in the view (JWT): pghistory's request class updates the
    context when DRF sets `request.user` (_TrailRequest)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in WRITE_METHODS:
            return self.get_response(request)
        user_id = _user_id(getattr(request, "user", None))
        with trail_context(user=user_id, ip=client_ip(request), url=request.path):
            if isinstance(request, DjangoWSGIRequest):
                request.__class__ = WSGIRequest
            elif isinstance(request, DjangoASGIRequest):
                request.__class__ = ASGIRequest
            return self.get_response(request)


# Celery tasks (list syncs, expiry, revocations…) write with no request: their trail rows
# name the task instead of a user (a task run eagerly inside a request keeps the
# request's context).
_task_contexts: dict[str, trail_context] = {}


def task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None or hasattr(runtime._tracker, "value"):
        return
    ctx = trail_context(task=getattr(task, "name", None), user=None, ip=None)
    ctx.__enter__()
    _task_contexts[task_id] = ctx


def task_finished(task_id: str | None = None, **_: Any) -> None:
    ctx = _task_contexts.pop(task_id or "", None)
    if ctx is not None:
        ctx.__exit__(None, None, None)
