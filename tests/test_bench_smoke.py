"""Benchmarks that cannot rot: every script in bench/ runs in its smoke mode (tiny sizes,
one short round, nothing timed against a target or recorded), each on a database of its
own created on the suite's server and dropped after. A change that breaks a benchmark
fails here, not in the hands of the next person who times it.

Not here: bench/cluster/cluster_test.py (it drives `make cluster`, which CI's machine
does not give; bench/cluster/balance.py's smoke needs no cluster: its direct rows only)
and bench/embedded_wheels.sh (it downloads wheels)."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scratch_database_url():
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"bench_smoke_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_smoke(script: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    results = ROOT / "bench" / "RESULTS.md"
    before = results.read_bytes() if results.exists() else b""
    done = subprocess.run(
        [sys.executable, script, "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"{script} --smoke failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )
    after = results.read_bytes() if results.exists() else b""
    assert after == before, f"{script} --smoke wrote to bench/RESULTS.md"
    return done


@pytest.mark.xdist_group("bench-smoke")
@pytest.mark.parametrize(
    "script",
    [
        "bench/credit.py",
        "bench/enterprise_credit.py",
        "bench/offers.py",
        "bench/offline_batch.py",
        "bench/dashboard.py",
        "bench/risk.py",
        "bench/redeem/run.py",
        "bench/redeem/pass_checks.py",
    ],
)
def test_every_benchmark_runs_in_smoke_mode(script, scratch_database_url):
    run_smoke(script, scratch_database_url)


@pytest.mark.xdist_group("bench-smoke")
def test_the_statements_benchmark_runs_in_smoke_mode(scratch_database_url):
    """It plants a tiny month, closes it, checks the statements against the planted rows
    (and the corrections of the month before as adjustments) and streams a CSV."""
    done = run_smoke("bench/statements.py", scratch_database_url)
    assert "smoke ok: 4 statements, (400, 20, 2), conflicts corrected -2" in done.stdout


@pytest.mark.xdist_group("bench-smoke")
@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_the_peak_benchmark_runs_in_smoke_mode(scratch_database_url):
    """The open-model load at two tiny rates through the cluster's HAProxy configuration,
    in front of one web node started on the scratch database (`--target local`); every
    answer a 2xx, claims, redemptions and pass checks counted against the database."""
    done = run_smoke("bench/peak.py", scratch_database_url)
    assert '"exact": true' in done.stdout


@pytest.mark.xdist_group("bench-smoke")
def test_the_balance_benchmark_runs_in_smoke_mode(scratch_database_url):
    """Its direct rows against gunicorns of its own (no cluster), each run's statuses
    counted, and the table with the production verdict's rule: VOID on any answer but 201."""
    done = run_smoke("bench/cluster/balance.py", scratch_database_url)
    assert "smoke ok: direct {201: " in done.stdout
    assert "| gunicorn (2 sync workers) → PostgreSQL directly |" in done.stdout
    assert "load average (1, 5, 15 min) before the run" in done.stdout


@pytest.mark.outage  # it stops and restarts the suite's own Redis and PostgreSQL
def test_the_outage_benchmark_runs_in_smoke_mode(scratch_database_url):
    done = run_smoke("bench/outages.py", scratch_database_url)
    assert "PostgreSQL stopped" in done.stdout
