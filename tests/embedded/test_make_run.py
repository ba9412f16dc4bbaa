"""`make run`'s own commands on a fresh embedded PostgreSQL, as a newcomer runs them: the
first command makes the cluster and starts the server, migrate and seed print no warning
(no Redis, no system PostgreSQL needed), the demo's dashboard history is there, two
commands at once share one server, and the last command to end stops it."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from config import embedded_pg
from config.settings import BASE_DIR

COUNTS = (
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute(\"SELECT COUNT(*) FROM incentives_voucher WHERE key_id = 'demo-history'\")\n"
    "    history = c.fetchone()[0]\n"
    "    c.execute('SELECT COUNT(*) FROM incentives_rolluprefresh')\n"
    "    print(history, c.fetchone()[0])\n"
)
STARTED = (
    "import time\n"
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute('SELECT pg_postmaster_start_time()')\n"
    "    print(c.fetchone()[0].isoformat())\n"
    "time.sleep(2)\n"
)


@pytest.fixture
def fresh_data():
    """A data folder of its own (the server runs as `postgres` when we are root: the folder
    must be reachable by that user, so not under pytest's private tmp_path)."""
    parent = Path(tempfile.mkdtemp(prefix="xinyou-embedded-"))
    parent.chmod(0o755)
    yield parent / "pgdata"
    server = embedded_pg.EmbeddedPostgres(parent / "pgdata")
    if server.is_running():
        server.stop()
    shutil.rmtree(parent, ignore_errors=True)


def manage(data: Path, *args: str, background: bool = False):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(XINYOU_PGDATA=str(data), DJANGO_SETTINGS_MODULE="config.settings.embedded")
    command = [sys.executable, "manage.py", *args]
    if background:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
    return subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )


def test_migrate_and_seed_a_fresh_server_without_warnings_then_it_stops(fresh_data):
    for args in (("migrate", "--noinput"), ("seed_demo",)):
        done = manage(fresh_data, *args)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "WARNING" not in done.stderr + done.stdout, (done.stderr + done.stdout)[-2000:]
    assert (fresh_data / "PG_VERSION").exists()
    counts = manage(fresh_data, "shell", "-v", "0", "-c", COUNTS)
    assert counts.returncode == 0, counts.stderr[-2000:]
    assert counts.stdout.split() == ["3000", "1"]
    # the last command to end stopped the server; the data stays for the next run
    assert not embedded_pg.EmbeddedPostgres(fresh_data).is_running()


def test_two_commands_at_once_share_one_server(fresh_data):
    command = ("shell", "-v", "0", "-c", STARTED)
    both = [manage(fresh_data, *command, background=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=600)[0].split() for proc in both]
    assert [proc.returncode for proc in both] == [0, 0]
    assert outputs[0] == outputs[1], outputs  # one postmaster, started once
    assert not embedded_pg.EmbeddedPostgres(fresh_data).is_running()
