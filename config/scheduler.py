"""The periodic jobs of the embedded default, run in the web process.

Production runs `celery beat` beside the workers; the embedded default of `make run`
(no `REDIS_URL`: eager Celery, local-memory cache) has no beat, so without this the
dashboard roll-ups would never move, vouchers would never expire and lists would never
sync. `config/wsgi.py` starts one daemon thread that runs every task of
`CELERY_BEAT_SCHEDULE` in-process (eagerly) on the same intervals: once at start, then
each time its interval has passed. `EMBEDDED_SCHEDULER=0` turns it off; it never starts
when `REDIS_URL` is set (beat's job then).

The first round (every job once, at start) runs with its INFO lines held back (warnings
and errors still show), then logs one line (later rounds hold back only Celery's "Task …
succeeded" lines: the jobs' own INFO lines show); `make run` sets XINYOU_RUN_BANNER="HOST PORT"
so that the demo logins and the links are printed after that round, last on the screen
(scripts/devserver.py `banner`), instead of scrolling away under the jobs' start-up lines.
"""

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

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


class _QuietThread(logging.Filter):
    """Drops records below WARNING logged by one thread (the first round's); with `names`,
    only those of these loggers (Celery's "Task … succeeded in …" of every later round)."""

    def __init__(self, ident: int, names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.ident = ident
        self.names = names

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or record.thread != self.ident:
            return True
        return bool(self.names) and record.name not in self.names


def _quiet_handlers() -> list[logging.Handler]:
    """Every handler a record of any logger may reach (root's and each logger's own)."""
    handlers = list(logging.getLogger().handlers)
    for item in logging.Logger.manager.loggerDict.values():
        if isinstance(item, logging.Logger):
            handlers += item.handlers
    return list(dict.fromkeys(handlers))


def announce() -> None:
    """`make run`: print the demo logins and the links (scripts/devserver.py `banner`) when
    XINYOU_RUN_BANNER="HOST PORT" is set; nothing otherwise."""
    spec = os.environ.get("XINYOU_RUN_BANNER", "").split()
    if len(spec) < 2:
        return
    _load_devserver().banner(spec[0], spec[1])


def _load_devserver() -> ModuleType:
    """scripts/devserver.py (not a package: loaded from its path)."""
    path = settings.BASE_DIR / "scripts" / "devserver.py"
    module_spec = importlib.util.spec_from_file_location("xinyou_devserver", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _import_tasks() -> None:
    """Find every task now, as a worker does at start. (Celery's Django fix-up configures
    logging again while it imports them: done before the first round's filters go on.)"""
    from config.celery import app

    app.loader.import_default_modules()


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
    # called before the first round (importing the tasks) and once it is done (make
    # run's logins and links)
    before_first_round: Callable[[], None] | None = None
    after_first_round: Callable[[], None] | None = None
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

    def first_round(self) -> list[str]:
        """Every job once, their INFO lines held back; then one line and the hook."""
        if self.before_first_round is not None:
            self.before_first_round()
        started = self.clock()
        quiet = _QuietThread(threading.get_ident())
        handlers = _quiet_handlers()
        for handler in handlers:
            handler.addFilter(quiet)
        try:
            ran = self.run_due()
        finally:
            for handler in handlers:
                handler.removeFilter(quiet)
                # from now on only Celery's per-task success lines are held back
                handler.addFilter(_QuietThread(quiet.ident, names=("celery.app.trace",)))
        logger.info(
            "embedded scheduler: first round done (%d jobs, %.1fs)",
            len(ran),
            self.clock() - started,
        )
        if self.after_first_round is not None:
            try:
                self.after_first_round()
            except Exception:
                logger.exception("embedded scheduler: the start-up banner failed")
        return ran

    def start(self) -> None:
        def loop() -> None:
            close_old_connections()
            try:
                self.first_round()
            finally:
                connections.close_all()
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
        announce()  # nothing to wait for
        return None
    with _start_lock:
        if _started is None:
            _started = Scheduler.from_beat_schedule(
                settings.CELERY_BEAT_SCHEDULE,
                before_first_round=_import_tasks,
                after_first_round=announce,
            )
            _started.start()
            logger.info(
                "embedded scheduler: %s",
                ", ".join(f"{j.name} every {j.every:g}s" for j in _started.jobs),
            )
    return _started
