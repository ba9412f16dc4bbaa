"""The read replica (issue 17), on a real PostgreSQL streaming replica of the test server:
marked reads (anonymous offer lists, dashboards) go to it, a resident's own reads never
do, a lagging or dead replica sends reads back to the primary, and /readyz reports it."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.reference import load_reference_data
from core import replica as replica_mod
from tests.incentives.conftest import client_for, make_resident, publish
from tests.merchants.factories import MerchantFactory, city_staff

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES"),
]

ROUTERS = ["core.replica.PrimaryReplicaRouter"]


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def streaming_replica(transactional_db, settings):
    """A hot standby of the test server, registered as the `replica` alias."""
    pg_bin = os.environ.get("XINYOU_PG_BIN")
    if not pg_bin:
        pytest.fail("XINYOU_PG_BIN unset: run through scripts/with-services.sh")
    primary = connections["default"].settings_dict
    folder = tempfile.mkdtemp(prefix="xinyou-replica-")
    os.chmod(folder, 0o755)
    data = os.path.join(folder, "data")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    # A replication slot made before the backup starts keeps every WAL segment the clone
    # needs: without one, the busy test server (other xdist workers writing) recycled a
    # segment between the backup's start and its WAL stream, one run in a few.
    slot = f"test_replica_{port}"
    subprocess.run(
        _as_pg([f"{pg_bin}/pg_basebackup", "-h", primary["HOST"], "-p", str(primary["PORT"]),
                "-U", primary["USER"], "-D", data, "-R", "-X", "stream", "-c", "fast",
                "--create-slot", "--slot", slot]),
        check=True, capture_output=True,
    )  # fmt: skip
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW max_connections")  # a hot standby needs at least the primary's
        (max_connections,) = cursor.fetchone()
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c hot_standby=on "
        f"-c max_connections={max_connections}"
    )
    started = subprocess.run(
        _as_pg([f"{pg_bin}/pg_ctl", "-D", data, "-l", f"{folder}/log", "-w", "-t", "60", "start",
                "-o", options]),
        capture_output=True, text=True,
    )  # fmt: skip
    if started.returncode:
        log = Path(folder, "log")
        text = log.read_text() if log.exists() else ""
        pytest.fail(f"replica did not start: {started.stdout}{started.stderr}{text}")
    # The alias is made by hand rather than through connections.settings: the test case
    # only lets through connections to aliases it was not told about at its start.
    alias = {**primary, "PORT": str(port)}
    # A test that pauses replay must fail, not hang, if the standby ever holds a lock its
    # queries need (see the vacuum_truncate note in scripts/with-services.sh).
    connect = primary.get("OPTIONS", {})
    alias["OPTIONS"] = {
        **connect,
        "options": f"{connect.get('options', '')} -c lock_timeout=15s -c statement_timeout=30s",
    }
    settings.DATABASES = {**settings.DATABASES, "replica": alias}
    wrapper = type(connections["default"])(alias, "replica")
    setattr(connections._connections, "replica", wrapper)
    settings.DATABASE_ROUTERS = ROUTERS
    replica_mod.forget_replica_state()
    state = {"data": data, "pg_bin": pg_bin, "port": port}
    yield state
    wrapper.close()
    delattr(connections._connections, "replica")
    replica_mod.forget_replica_state()
    subprocess.run(
        _as_pg([f"{pg_bin}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True
    )
    with connections["default"].cursor() as cursor:  # the slot would keep WAL for ever
        cursor.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            [slot],
        )
    shutil.rmtree(folder, ignore_errors=True)


def _replica_sql(sql: str):
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone() if cursor.description else None


def _caught_up(timeout: float = 30, lsn: str = "pg_last_wal_replay_lsn()") -> None:
    """Wait until the replica has replayed (or, with `lsn="pg_last_wal_receive_lsn()"`,
    received) everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (done,) = _replica_sql(f"SELECT {lsn} >= '{target}'::pg_lsn")
        if done:
            return
        time.sleep(0.1)
    raise AssertionError(f"replica did not catch up ({lsn})")


def _offer(title: str):
    return publish(merchant=MerchantFactory(city_id="330100"), title=title)


def _titles(client, **extra) -> set[str]:
    response = client.get("/api/v1/offers?page_size=100", **extra)
    assert response.status_code == 200, response.content
    return {o["title"] for o in response.json()["results"]}


def test_anonymous_lists_read_the_replica_and_a_resident_the_primary(streaming_replica):
    load_reference_data()
    resident = make_resident()
    _caught_up()
    _replica_sql("SELECT pg_wal_replay_pause()")
    _offer("只在主库上")
    anonymous = APIClient()
    # the replica has not replayed the new offer: an anonymous caller does not see it yet
    assert "只在主库上" not in _titles(anonymous)
    # a resident reads the primary and never misses what was just written
    assert "只在主库上" in _titles(client_for(resident))
    _replica_sql("SELECT pg_wal_replay_resume()")
    # (That the replica then shows it is checked by make cluster-test: here, after other
    # tests' transactions, the cloned standby's snapshot sometimes lags behind its replay.)


def test_dashboards_read_the_replica(streaming_replica):
    load_reference_data()
    _caught_up()
    staff = client_for(city_staff("330100"))
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = staff.get("/api/v1/dashboard/summary")
    assert response.status_code == 200, response.content
    assert len(on_replica) >= 3  # the figures; the login was resolved on the primary


def test_a_lagging_replica_sends_reads_to_the_primary_and_readyz_says_so(
    streaming_replica, settings
):
    load_reference_data()
    _caught_up()
    _replica_sql("SELECT pg_wal_replay_pause()")
    _offer("延迟期间的新优惠")
    # The replica knows it lags only once it has received what it has not replayed: on a
    # busy machine (synchronous_commit=off, other workers writing) the WAL of the offer
    # could still be on its way after a fixed sleep, and a replica that has replayed all it
    # received rightly reports no lag.
    _caught_up(lsn="pg_last_wal_receive_lsn()")
    time.sleep(1.5)  # the replica falls behind by more than the allowed lag below
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    replica_mod.forget_replica_state()
    assert "延迟期间的新优惠" in _titles(APIClient())
    ready = APIClient().get("/readyz").json()
    assert ready["status"] == "ok"  # reported, not required
    assert ready["replica"]["status"] == "lagging"
    assert ready["replica"]["lag_seconds"] > 0.5
    _replica_sql("SELECT pg_wal_replay_resume()")


def test_a_dead_replica_sends_reads_to_the_primary(streaming_replica):
    load_reference_data()
    _offer("主库兜底")
    subprocess.run(
        _as_pg([f"{streaming_replica['pg_bin']}/pg_ctl", "-D", streaming_replica["data"],
                "-m", "immediate", "stop"]),
        check=True, capture_output=True,
    )  # fmt: skip
    connections["replica"].close()
    replica_mod.forget_replica_state()
    assert "主库兜底" in _titles(APIClient())
    ready = APIClient().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["replica"] == {"lag_seconds": None, "status": "unreachable"}
