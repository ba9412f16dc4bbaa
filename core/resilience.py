"""Degrade, never fail: what the service does while Redis is away.

Redis holds only what may be lost or rebuilt (cache entries, throttle counters, short
locks, breaker state) and carries the Celery queue. While it is unreachable:

- the cache (`FallbackRedisCache`) answers from an in-process local-memory cache: throttle
  counters, single-flight locks and cached values then count per process, not per cluster;
- the credit breaker lets calls through (`accounts.credit.breaker`);
- work that should go to a worker is run here and now (`enqueue`), or dropped when a
  periodic task will do it anyway.

A failure marks the dependency down for `REDIS_RETRY_SECONDS` (5 s): until then nothing
tries Redis again, so no request waits on it more than once per interval, and never longer
than the socket timeouts of settings. Going down and coming back are logged as warnings.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger("xinyou.resilience")

# What an unreachable or stalled Redis raises (django-redis re-raises the cause of its
# ConnectionInterrupted; kombu wraps connection errors on publish).
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionInterrupted,
    socket.timeout,
    ConnectionError,
)
QUEUE_ERRORS: tuple[type[BaseException], ...] = (*REDIS_ERRORS, KombuOperationalError, OSError)


def is_queue_error(exc: BaseException) -> bool:
    """A broker or result-store connection failure (Celery's result consumer wraps a
    failed reconnect in a RuntimeError)."""
    return isinstance(exc, QUEUE_ERRORS) or (
        isinstance(exc, RuntimeError) and isinstance(exc.__cause__, QUEUE_ERRORS)
    )


class Dependency:
    """Whether a dependency may be tried now: after a failure, not for `retry_seconds`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._last_warning = 0.0

    @property
    def retry_seconds(self) -> float:
        return float(getattr(settings, "REDIS_RETRY_SECONDS", 5.0))

    def available(self) -> bool:
        """True unless it failed less than `retry_seconds` ago."""
        return time.monotonic() >= self._retry_at

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._retry_at = now + self.retry_seconds
            warn = first or now - self._last_warning >= 60
            if warn:
                self._last_warning = now
        if warn:
            cause = exc.__cause__ if isinstance(exc, RuntimeError) and exc.__cause__ else exc
            text = (str(cause).strip().splitlines() or [""])[0]
            logger.warning(
                "%s unavailable (%s: %s: %s): degrading in-process, next try in %.0f s",
                self.name,
                what,
                type(cause).__name__,
                text,
                self.retry_seconds,
            )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            since, self._down_since, self._retry_at = self._down_since, None, 0.0
        if since is not None:
            logger.warning("%s reachable again after %.1f s", self.name, time.monotonic() - since)

    def reset(self) -> None:
        """Forget past failures (tests, after a known restart)."""
        with self._lock:
            self._down_since, self._retry_at, self._last_warning = None, 0.0, 0.0


# The cache's Redis (also the breaker's); the Celery broker (often the same server).
redis_dependency = Dependency("redis")
queue_dependency = Dependency("queue")


class FallbackRedisCache(RedisCache):
    """django-redis, answering from a process-local cache while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        options = params.get("OPTIONS", {})
        # One local store per process (LocMemCache shares storage by name across threads).
        self._local = LocMemCache(
            f"xinyou-redis-fallback:{server}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "OPTIONS": {"MAX_ENTRIES": int(options.get("FALLBACK_MAX_ENTRIES", 10_000))},
            },
        )


def _degrading(name: str):
    on_redis = getattr(RedisCache, name)

    def method(self: FallbackRedisCache, *args: Any, **kwargs: Any) -> Any:
        if redis_dependency.available():
            try:
                result = on_redis(self, *args, **kwargs)
            except REDIS_ERRORS as exc:
                redis_dependency.failed(f"cache.{name}", exc)
            else:
                redis_dependency.succeeded()
                return result
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"`{name}` on Redis, or on the process-local cache while Redis is away."
    return method


def _clear(self: FallbackRedisCache) -> None:
    """Clear Redis (when reachable) and always the process-local stand-in."""
    self._local.clear()
    _degrading_clear(self)


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "set_many",
    "delete_many",
    "has_key",
    "incr",
    "decr",
):
    setattr(FallbackRedisCache, _name, _degrading(_name))
_degrading_clear = _degrading("clear")
FallbackRedisCache.clear = _clear


def ping_redis() -> None:
    """Raise unless the cache's Redis answers now (readiness; ignores the retry interval)."""
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()


def queue_of_tasks() -> Dependency:
    """The broker's health: the cache's own when both are the same Redis (the usual
    deployment), so that whichever notices an outage first spares the other a wait."""
    same = getattr(settings, "CELERY_BROKER_URL", None) == getattr(settings, "REDIS_URL", None)
    return redis_dependency if same else queue_dependency


def enqueue(task, *args: Any, inline_when_down: bool = True, **options: Any):
    """`task.apply_async(args, **options)`; when the queue cannot take it, run it here
    and now (`inline_when_down`) or drop it with a warning (for work a periodic task
    repeats anyway). Returns the result handle, or None when dropped."""
    queue = queue_of_tasks()
    if queue.available():
        try:
            result = task.apply_async(args=args, **options)
        except Exception as exc:
            if not is_queue_error(exc):
                raise
            queue.failed(f"queue {task.name}", exc)
        else:
            queue.succeeded()
            return result
    if inline_when_down:
        logger.warning("queue unavailable: running %s in this process", task.name)
        return task.apply(args=args)
    logger.warning("queue unavailable: %s not queued (a periodic run will redo it)", task.name)
    return None
