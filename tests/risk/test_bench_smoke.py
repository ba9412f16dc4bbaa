"""bench/risk.py cannot rot: its smoke mode (tiny sizes, one round, nothing timed or
recorded) runs on a database of its own, created on the test server and dropped after."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_database_url():
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = f"bench_smoke_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_risk_benchmark_runs_in_smoke_mode(scratch_database_url):
    env = {**os.environ, "DATABASE_URL": scratch_database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "bench/risk.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "planted {'incentives_voucher': 600" in done.stdout
    assert "compute_day(city)" in done.stdout
