"""`make run`'s server on a fresh embedded PostgreSQL prints the logins and links last:
after Django's start-up lines and the in-process scheduler's first round (whose jobs'
INFO lines are held back), nothing follows the banner while the server idles."""

import os
import socket
import subprocess
import sys
import time

from config.settings import BASE_DIR

from .test_make_run import fresh_data, manage  # noqa: F401 (a fixture)

RULE = "-" * 72


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_banner_comes_last(fresh_data):  # noqa: F811
    done = manage(fresh_data, "migrate", "--noinput")
    assert done.returncode == 0, done.stderr[-2000:]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        XINYOU_PGDATA=str(fresh_data),
        DJANGO_SETTINGS_MODULE="config.settings.embedded",
        XINYOU_RUN_BANNER=f"127.0.0.1 {port}",
        PYTHONUNBUFFERED="1",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        os.set_blocking(server.stdout.fileno(), False)
        deadline = time.monotonic() + 240
        rules = 0
        while time.monotonic() < deadline and rules < 2:
            line = server.stdout.readline()
            if not line:
                time.sleep(0.1)
                continue
            lines.append(line.rstrip("\n"))
            rules += line.startswith(RULE)
        assert rules == 2, "\n".join(lines[-40:])
        time.sleep(3)  # the server idles: nothing more comes
        rest = "".join(iter(lambda: server.stdout.readline() or "", ""))
    finally:
        server.terminate()
        server.wait(timeout=60)
    text = "\n".join(lines)
    first_round = text.index("embedded scheduler: first round done")
    banner = text.index(RULE)
    assert text.index("Starting WSGI development server") < first_round < banner
    between = text[text.index("Quit the server") : text.rfind("\n", 0, first_round)]
    assert "celery.app.trace" not in between and " INFO " not in between, between
    assert f"Serving on http://127.0.0.1:{port}" in text[banner:]
    assert f"dashboard: http://127.0.0.1:{port}/dashboard/" in text[banner:]
    assert lines[-1].startswith(RULE)
    assert rest.strip() == "", rest
