"""The periodic jobs of the embedded default, run in the web process.

Production runs `celery beat` beside the workers; the embedded default of `make run`
(no `REDIS_URL`: eager Celery, local-memory cache) has no beat, so without this the
dashboard roll-ups would never move, vouchers would never expire and lists would never
sync. `config/wsgi.py` starts one daemon thread that runs every task of
`CELERY_BEAT_SCHEDULE` in-process (eagerly) on the same intervals: once at start, then
each time its interval has passed. `EMBEDDED_SCHEDULER=0` turns it off; it never starts
when `REDIS_URL` is set (beat's job then).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_started: "Scheduler | None" = None
_start_lock = threading.Lock()


@dataclass
class Job:
    name: str  # the Celery task name
    every: float  # seconds
    next_at: float = 0.0  # on the scheduler's clock; 0: due at once


def _run_task(name: str) -> None:
    from config.celery import app

    if name not in app.tasks:
        app.loader.import_default_modules()  # what a worker does at start: find the tasks
    app.tasks[name].apply(throw=True)


@dataclass
class Scheduler:
    """Runs due jobs; `run_due(now)` is the whole logic (the thread only calls it)."""

    jobs: list[Job]
    run: Callable[[str], None] = _run_task
    clock: Callable[[], float] = time.monotonic
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def from_beat_schedule(cls, schedule: dict, **kwargs) -> "Scheduler":
        jobs = [
            Job(name=entry["task"], every=float(entry["schedule"]))
            for entry in schedule.values()
            if isinstance(entry.get("schedule"), int | float)
        ]
        return cls(jobs=jobs, **kwargs)

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every job whose time has come (each at most once); returns their names.
        A failing job is logged and tried again at its next time."""
        now = self.clock() if now is None else now
        ran = []
        for job in self.jobs:
            if now < job.next_at:
                continue
            job.next_at = now + job.every
            try:
                self.run(job.name)
            except Exception:
                logger.exception("embedded scheduler: %s failed", job.name)
            ran.append(job.name)
        return ran

    def seconds_to_next(self, now: float) -> float:
        return max(0.0, min((j.next_at for j in self.jobs), default=60.0) - now)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    self.run_due()
                finally:
                    connections.close_all()  # this thread's own
                self._stop.wait(min(max(self.seconds_to_next(self.clock()), 0.5), 30.0))

        self._thread = threading.Thread(target=loop, name="embedded-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def enabled() -> bool:
    return bool(getattr(settings, "EMBEDDED_SCHEDULER", False)) and not settings.REDIS_URL


def start_embedded_scheduler() -> Scheduler | None:
    """Start the scheduler thread once per process, when the embedded default wants it."""
    global _started
    if not enabled():
        return None
    with _start_lock:
        if _started is None:
            _started = Scheduler.from_beat_schedule(settings.CELERY_BEAT_SCHEDULE)
            _started.start()
            logger.info(
                "embedded scheduler: %s",
                ", ".join(f"{j.name} every {j.every:g}s" for j in _started.jobs),
            )
    return _started
