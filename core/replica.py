"""Reads that may lag go to the streaming replica; everything else to the primary.

Only what is marked reads the replica: the city dashboards (figures a few seconds old are
fine, and they show the time they were computed) and offer lists for anonymous callers.
A resident's own vouchers, standing and eligibility always read the primary, so a
resident never misses their own write. With no replica configured, or the replica
unreachable or lagging more than `DATABASE_REPLICA_MAX_LAG_SECONDS`, the marked reads go
to the primary too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
_reads_on_replica: ContextVar[bool] = ContextVar("reads_on_replica", default=False)

# Per process: when the replica was last found unusable, and the last lag measured.
_RECHECK_SECONDS = 5.0
_state: dict[str, float | None] = {"down_until": 0.0, "lag": None, "lag_at": 0.0}

# Behind: since the last transaction it replayed or, when it has replayed none since it
# started (PostgreSQL 18 then has no replay timestamp), since it started: a standby with
# WAL it has not replayed is never taken for one that is current.
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - COALESCE(pg_last_xact_replay_timestamp(), "
    "pg_postmaster_start_time())) END"
)


def configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """Seconds the replica is behind the primary (0 when it has replayed all it received);
    None when there is no replica or it cannot be asked."""
    if not configured():
        return None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA].close()
        return None
    return float(lag or 0)


def replica_usable() -> bool:
    """True when the replica answers and is not lagging too far (checked at most every
    few seconds per process; a failure sends reads to the primary for a while)."""
    if not configured():
        return False
    now = time.monotonic()
    if now < (_state["down_until"] or 0.0):
        return False
    if now - (_state["lag_at"] or 0.0) >= _RECHECK_SECONDS:
        _state["lag"], _state["lag_at"] = replica_lag(), now
    lag = _state["lag"]
    if lag is None or lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        _state["down_until"] = now + _RECHECK_SECONDS
        logger.warning("replica unusable (lag=%s): reading from the primary", lag)
        return False
    return True


def forget_replica_state() -> None:
    """Tests and operators: look at the replica afresh on the next read."""
    _state.update(down_until=0.0, lag=None, lag_at=0.0)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside, reads the router sees go to the replica when it is usable."""
    token = _reads_on_replica.set(True)
    try:
        yield
    finally:
        _reads_on_replica.reset(token)


def on_replica(view: Callable[..., Any]) -> Callable[..., Any]:
    """A function view whose reads may lag. The caller's session and user are read first,
    on the primary: a login that just happened is never missed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        getattr(request.user, "pk", None)  # resolve the session on the primary
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


class ReplicaReadsMixin:
    """For DRF views: authentication, permissions and throttles run on the primary, then
    the handler's reads may go to the replica. `replica_for(request)` narrows it."""

    def replica_for(self, request) -> bool:
        return True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.replica_for(request):
            self._replica_token = _reads_on_replica.set(True)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_replica_token", None)
        if token is not None:
            _reads_on_replica.reset(token)
            self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)


class PrimaryReplicaRouter:
    """Writes, migrations and unmarked reads: the primary. Marked reads: the replica."""

    def db_for_read(self, model, **hints) -> str | None:
        if _reads_on_replica.get() and replica_usable():
            return REPLICA
        return None

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db != REPLICA
