"""`make run`'s own commands on a fresh SQLite file, as a newcomer runs them: migrate and
seed print no warning (no Redis needed), and the demo's dashboard history is there."""

import os
import sqlite3
import subprocess
import sys

from config.settings import BASE_DIR


def manage(db: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_migrate_and_seed_a_fresh_database_without_warnings(tmp_path):
    db = str(tmp_path / "db.sqlite3")
    for args in (("migrate", "--noinput"), ("seed_demo",)):
        done = manage(db, *args)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "WARNING" not in done.stderr + done.stdout, (done.stderr + done.stdout)[-2000:]
    with sqlite3.connect(db) as conn:
        history = conn.execute(
            "SELECT COUNT(*) FROM incentives_voucher WHERE key_id = 'demo-history'"
        ).fetchone()[0]
        refreshed = conn.execute("SELECT COUNT(*) FROM incentives_rolluprefresh").fetchone()[0]
    assert history == 3000
    assert refreshed == 1
