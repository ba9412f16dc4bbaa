"""bench/statements.py cannot rot: its smoke mode plants a tiny month, closes it, checks the
statements against the planted rows (and the corrections of the month before as
adjustments) and streams a CSV (nothing timed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_the_statements_bench_runs_in_smoke_mode():
    from django.db import connection

    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    env = {**os.environ, "DATABASE_URL": url, "BENCH_NO_RECORD": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "bench/statements.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "smoke ok: 4 statements, (400, 20, 2), conflicts corrected -2" in result.stdout
