"""`make run` prints the demo logins and the links last: the embedded scheduler's first
round holds its jobs' INFO lines back (warnings still show), logs one line, and then
prints the banner (scripts/devserver.py `banner`, XINYOU_RUN_BANNER="HOST PORT")."""

import io
import logging
import threading

import pytest

from config import scheduler as sched
from config.scheduler import Job, Scheduler


@pytest.fixture(autouse=True)
def _no_filters_left():
    """The scheduler leaves its thread's filters on the handlers: take them off again."""
    yield
    for handler in sched._quiet_handlers():
        for f in list(handler.filters):
            if isinstance(f, sched._QuietThread):
                handler.removeFilter(f)


def noisy_job(name: str) -> None:
    log = logging.getLogger("incentives.tasks")
    for n in range(70):
        log.info("start-up line %s of %s", n, name)
    log.warning("a real warning from %s", name)
    logging.getLogger("celery.app.trace").info("Task %s succeeded in 0.01s", name)


def test_the_first_round_is_quiet_then_the_banner_comes_last(tmp_path, monkeypatch, capsys):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    logins = tmp_path / "demo-logins.txt"
    logins.write_text(
        "demo data loaded: accounts\nDemo logins (password for all: pw):\n"
        "  13800000000  superuser\nSMS codes go to the sandbox outbox\n",
        encoding="utf-8",
    )
    printed = threading.Event()

    def banner() -> None:
        sched.announce()
        printed.set()

    monkeypatch.setenv("XINYOU_RUN_BANNER", "127.0.0.1 8123")
    real = sched._load_devserver
    monkeypatch.setattr(sched, "_load_devserver", lambda: _devserver_with(real, logins))
    job = Scheduler(jobs=[Job("a", 3600), Job("b", 3600)], run=noisy_job, after_first_round=banner)
    try:
        job.start()
        assert printed.wait(30)
    finally:
        job.stop()
        root.removeHandler(handler)
        root.setLevel(old_level)
    log = stream.getvalue()
    assert "start-up line" not in log  # the 140 INFO lines are held back
    assert log.count("a real warning") == 2  # warnings still show
    assert "first round done (2 jobs" in log
    assert "Task a succeeded" not in log
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("-" * 20)
    text = "\n".join(out)
    assert text.index("13800000000") < text.index("http://127.0.0.1:8123/m/")
    assert "dashboard: http://127.0.0.1:8123/dashboard/" in text


def test_later_rounds_show_the_jobs_lines_but_not_celerys():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    job = Scheduler(jobs=[Job("a", 3600)], run=noisy_job)
    try:
        job.first_round()  # in this thread, as the scheduler's own thread does
        assert "start-up line" not in stream.getvalue()
        job.run_due(now=10.0**9)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    log = stream.getvalue()
    assert log.count("start-up line") == 70
    assert "Task a succeeded" not in log


def test_without_the_first_round_nothing_is_held_back():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    job = Scheduler(jobs=[Job("a", 3600)], run=noisy_job)
    try:
        job.run_due(now=0.0)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert stream.getvalue().count("start-up line") == 70
    assert "Task a succeeded" in stream.getvalue()


def _devserver_with(load, logins):
    module = load()  # the real scripts/devserver.py, reading this test's logins
    module.DEMO_LOGINS = logins
    return module
