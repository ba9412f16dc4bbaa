"""A circuit breaker whose state lives in Redis, so every web and worker process shares it.

Keys (``<p>`` is ``xinyou:breaker:<name>``, e.g. ``xinyou:breaker:330100``):

- ``<p>:failures`` consecutive failures (INCR; expires ``failure_window`` seconds after the
  last failure, so old isolated failures fade away);
- ``<p>:open``     present while the breaker is open (SET with PX ``reset_timeout``);
- ``<p>:tripped``  present from the moment the breaker opens until a success: once
  ``:open`` has expired, ``:tripped`` alone means half-open;
- ``<p>:trial``    the half-open trial slot (SET NX PX ``trial_timeout``): exactly one
  caller, in any process, wins it and makes the trial request.

States: ``open`` (``:open`` present), ``half_open`` (``:tripped`` without ``:open``),
``closed`` (neither). Redis expires the keys, so no clocks are compared between processes.
If Redis itself fails, the breaker lets calls through (it protects partners, it must not
become a second point of failure) and logs a warning; after a failure it does not try Redis
again for `REDIS_RETRY_SECONDS` (`core.resilience.redis_dependency`, shared with the
cache), so a stalled Redis costs a call one socket timeout at most once per interval.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.resilience import redis_dependency

logger = logging.getLogger(__name__)


def breaker_store() -> redis.Redis:
    """The Redis every process's breakers share (the cache's): a partner reached over HTTP
    needs REDIS_URL."""
    if "redis" not in str(settings.CACHES["default"]["BACKEND"]).lower():
        raise ImproperlyConfigured(
            "An http partner provider needs REDIS_URL: its circuit breaker lives in Redis."
        )
    from django_redis import get_redis_connection

    return get_redis_connection("default")


CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_timeout``
    seconds lets one trial call through (half-open); a success closes it, a failure
    re-opens it for another ``reset_timeout``."""

    def __init__(
        self,
        name: str,
        client: redis.Redis,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        trial_timeout: float = 10.0,
        failure_window: float = 300.0,
        key_prefix: str = "xinyou:breaker",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.redis = client
        self.failure_threshold = failure_threshold
        self.reset_ms = max(1, int(reset_timeout * 1000))
        self.trial_ms = max(1, int(trial_timeout * 1000))
        self.window_ms = max(1, int(failure_window * 1000))
        # How long a tripped breaker waits for its first trial before forgetting itself.
        self.tripped_ms = max(self.reset_ms * 10, 86_400_000)
        base = f"{key_prefix}:{name}"
        self.k_failures = f"{base}:failures"
        self.k_open = f"{base}:open"
        self.k_tripped = f"{base}:tripped"
        self.k_trial = f"{base}:trial"

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name}>"

    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if not redis_dependency.available():
            return CLOSED
        try:
            is_open, tripped = self.redis.exists(self.k_open), self.redis.exists(self.k_tripped)
        except redis.RedisError as exc:
            redis_dependency.failed(f"breaker {self.name}: state, reporting closed", exc)
            return CLOSED
        if is_open:
            return OPEN
        return HALF_OPEN if tripped else CLOSED

    def allow(self) -> bool:
        """May a call go out now? In half-open, True for exactly one caller at a time."""
        if not redis_dependency.available():
            return True
        try:
            if self.redis.exists(self.k_open):
                return False
            if not self.redis.exists(self.k_tripped):
                return True
            return bool(self.redis.set(self.k_trial, "1", nx=True, px=self.trial_ms))
        except redis.RedisError as exc:
            redis_dependency.failed(f"breaker {self.name}: letting the call through", exc)
            return True

    def record_success(self) -> None:
        """The partner answered properly: close the breaker and forget past failures."""
        if not redis_dependency.available():
            return
        try:
            self.redis.delete(self.k_failures, self.k_open, self.k_tripped, self.k_trial)
        except redis.RedisError as exc:
            redis_dependency.failed(f"breaker {self.name}: success not recorded", exc)

    def record_failure(self) -> None:
        """The partner failed: count it; open at the threshold, or re-open if half-open."""
        if not redis_dependency.available():
            return
        try:
            if self.redis.exists(self.k_tripped):
                if not self.redis.exists(self.k_open):  # the half-open trial failed
                    self._open()
                return
            pipe = self.redis.pipeline()
            pipe.incr(self.k_failures)
            pipe.pexpire(self.k_failures, self.window_ms)
            failures, _ = pipe.execute()
            if int(failures) >= self.failure_threshold:
                self._open()
                logger.warning(
                    "breaker %s: open after %s consecutive failures", self.name, failures
                )
        except redis.RedisError as exc:
            redis_dependency.failed(f"breaker {self.name}: failure not recorded", exc)

    def _open(self) -> None:
        pipe = self.redis.pipeline()
        pipe.set(self.k_open, "1", px=self.reset_ms)
        pipe.set(self.k_tripped, "1", px=self.tripped_ms)
        pipe.delete(self.k_failures, self.k_trial)
        pipe.execute()

    def reset(self) -> None:
        """Forget everything (admin action, tests)."""
        self.record_success()
