"""scripts/ensure-system-deps.sh waits for the package manager's lock (another install
running) instead of failing at once, and still fails at once on any other apt error. A
stand-in `apt-get` on a PATH without the packages plays the locked and the free apt."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ensure-system-deps.sh"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the script installs only as root")

FAKE_APT = """#!/bin/bash
echo "$*" >> "$CALLS"
if [[ " $* " == *" update "* ]]; then
  n=$(grep -c " update" "$CALLS")
  if [ "$n" -le "${LOCKED_TIMES:-0}" ]; then
    echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
    exit 100
  fi
  if [ -n "$OTHER_ERROR" ]; then echo "E: The repository is not signed." >&2; exit 100; fi
fi
exit 0
"""


def which(tool: str) -> str:
    found = shutil.which(tool)
    assert found is not None, tool
    return found


def run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "grep", "sleep", "id", "cat"):
        os.symlink(which(tool), bin_dir / tool)
    fake = bin_dir / "apt-get"
    fake.write_text(FAKE_APT)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    done = subprocess.run(
        [which("bash"), str(SCRIPT)],
        env={"PATH": str(bin_dir), "CALLS": str(calls), "APT_LOCK_POLL": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines()


def test_it_waits_for_the_lock_then_installs(tmp_path):
    done, calls = run(tmp_path, LOCKED_TIMES="2")
    assert done.returncode == 0, done.stderr
    assert "waiting for another package install" in done.stdout
    updates = [c for c in calls if " update" in c]
    installs = [c for c in calls if " install " in c]
    assert len(updates) == 3 and len(installs) == 1, calls
    assert all(c.startswith("-o DPkg::Lock::Timeout=600 ") for c in calls), calls
    assert "redis-server" in installs[0]


def test_any_other_error_fails_at_once(tmp_path):
    done, calls = run(tmp_path, OTHER_ERROR="1")
    assert done.returncode != 0
    assert "not signed" in done.stderr
    assert len(calls) == 1, calls


def test_the_wait_has_an_end(tmp_path):
    done, calls = run(tmp_path, LOCKED_TIMES="99", APT_LOCK_TIMEOUT="0")
    assert done.returncode != 0 and "Could not get lock" in done.stderr
    assert len(calls) == 1
