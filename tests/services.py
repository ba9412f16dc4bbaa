"""Stop and restart the throwaway PostgreSQL and Redis servers of scripts/with-services.sh
mid-run, for the outage tests. Each comes back on the same port with the same data (Redis
starts empty: it keeps nothing on disk)."""

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is unset: run the suite with scripts/with-services.sh (make test)")
    return value


def _as_pg() -> list[str]:
    user = os.environ.get("XINYOU_PG_RUNAS")
    return ["runuser", "-u", user, "--"] if user else []


def _wait(predicate, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} within {seconds:.0f} s")


# --------------------------------------------------------------------------- Redis


def _redis_answers() -> bool:
    port = _env("XINYOU_REDIS_PORT")
    done = subprocess.run(
        ["redis-cli", "-p", port, "ping"], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.strip() == "PONG"


def _redis_pid() -> int | None:
    try:
        return int((Path(_env("XINYOU_SERVICES_DIR")) / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _gone(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop_redis() -> None:
    """Shut Redis down and wait until its process is gone (and its port free)."""
    port = _env("XINYOU_REDIS_PORT")
    pid = _redis_pid()
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True)
    _wait(lambda: not _redis_answers() and _gone(pid), "Redis did not stop")


def start_redis() -> None:
    work = Path(_env("XINYOU_SERVICES_DIR"))
    port = _env("XINYOU_REDIS_PORT")
    subprocess.run(
        [
            "redis-server",
            "--port",
            port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(work / "redis.pid"),
            "--logfile",
            str(work / "redis.log"),
            "--dir",
            str(work),
        ],
        check=True,
    )
    _wait(_redis_answers, "Redis did not answer")


@contextlib.contextmanager
def redis_stopped() -> Iterator[None]:
    stop_redis()
    try:
        yield
    finally:
        start_redis()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_ctl(*args: str) -> list[str]:
    return [*_as_pg(), f"{_env('XINYOU_PG_BIN')}/pg_ctl", "-D", _env("XINYOU_PG_DATA"), *args]


def stop_postgres() -> None:
    """Stop the server the way an outage does: every session is cut at once."""
    subprocess.run(_pg_ctl("-m", "fast", "-w", "-t", "60", "stop"), check=True, capture_output=True)


def start_postgres() -> None:
    log = str(Path(_env("XINYOU_SERVICES_DIR")) / "pg" / "postgres.log")
    subprocess.run(
        _pg_ctl("-l", log, "-w", "-t", "60", "-o", _env("XINYOU_PG_OPTS"), "start"),
        check=True,
        capture_output=True,
    )
    port = _env("XINYOU_PG_PORT")
    pg_isready = f"{_env('XINYOU_PG_BIN')}/pg_isready"
    _wait(
        lambda: (
            subprocess.run(
                [pg_isready, "-h", "127.0.0.1", "-p", port], capture_output=True, check=False
            ).returncode
            == 0
        ),
        "PostgreSQL did not accept connections",
    )


@contextlib.contextmanager
def postgres_stopped() -> Iterator[None]:
    """PostgreSQL down for the block; afterwards this process's connections are closed so
    that the next query reconnects (a served process does so itself at each request)."""
    from django.db import connections

    stop_postgres()
    try:
        yield
    finally:
        start_postgres()
        for conn in connections.all():
            conn.close()
