"""What the balancer and the pooler cost, and whether the production path keeps up
(issue 17; issue 27, points 2 and 6): redemptions under wrk, every row in the same run,

1. direct: a gunicorn started here (sync workers, as a plain deployment would run it),
   talking to the PostgreSQL primary directly with prepared statements: the reference;
2. the same with the cluster's web worker (core.gunicorn_worker.BufferingWorker, one
   thread, from gunicorn.conf.py): what the buffering front costs against sync workers;
3. the database paths one by one, each behind a sync gunicorn: no prepared statements
   (what transaction pooling forces), PgBouncer in transaction pooling, PgBouncer in
   session pooling (prepared statements kept; its `xinyou_session` database), and
   Django's own psycopg pool per process (bench/cluster/pool_settings.py; only when
   psycopg_pool is installed);
4. the first web node straight from wrk, without the balancer: what the node itself costs
   beside a gunicorn started here;
5. HAProxy with 1, 2 and 3 of the cluster's web nodes enabled (its runtime API turns the
   others off), the nodes on whatever database path the cluster gives them
   (scripts/cluster.sh WEB_DATABASE). The row with every node enabled is the production
   path: its ratio to row 1 of the same round is the target (≥ 0.85, PASS or FAIL).

Each row also shows the CPU time per answered request of each part of its path (the
balancer, the pooler, the gunicorn processes, the PostgreSQL primary's processes, wrk),
read from /proc around each timed run: where the cores went; and the disk's worst mean
write latency in any 0.25 s of each run (bench/_common.DiskWatch): the primary commits
with fsync on, so a spike of the machine's shared disk falls on whichever row is timed.

Rows run in `--rounds` rounds, the production path next to the direct row and the order
reversed every other round; a row's figure is the mean over its rounds, and each round's
production ratio (from those adjacent runs) is shown. Every request is a
distinct valid voucher token; the clerk's access token is minted to outlive the run. A
timed run that gets any answer other than 201 (or a socket error) is VOID: it is shown as
such and never counted as throughput.

Needs the cluster up (`scripts/cluster.sh up`). `--smoke` needs no cluster: on the
database of DATABASE_URL (scratch, tests/test_bench_smoke.py) it runs the direct rows for a
second each and checks the table's verdicts; the pooler and HAProxy rows are left out.
Prints the table with the machine and its load average at start and end; with --record
(and not BENCH_NO_RECORD=1) appends it to bench/RESULTS.md. On one 2-core machine more
nodes cannot add cores: the 1/2/3-node rows show what each hop and process costs, not how
a real cluster scales.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bench"))

from _common import (  # type: ignore[import-not-found]  # noqa: E402
    CLUSTER_PRIMARY,
    DiskWatch,
    add_smoke,
    beats_paused,
    checkpoint,
    cluster_balancer,
    cluster_pid,
    cpu_of,
    cpu_spent,
    lasting_token,
    machine,
    record,
    token_lifetime,
    unasked,
    wrk,
)
from cluster_test import (  # type: ignore[import-not-found]  # noqa: E402
    CLUSTER_DIR,
    cluster_env,
    prepare,
    web_nodes,
)

TARGET = 0.85  # issue 27, point 2: the production path ≥ 0.85 × direct gunicorn
PRIMARY = CLUSTER_PRIMARY
POOLED = "postgres://xinyou@127.0.0.1:6432/xinyou"
POOLED_SESSION = "postgres://xinyou@127.0.0.1:6432/xinyou_session"
PATH = "/api/v1/merchant/redemptions"
WEB_1_PORT = 8101  # scripts/cluster.sh's first web node


@dataclass
class Row:
    name: str
    label: str
    # a gunicorn of our own: (database URL, DATABASE_POOLER, worker class or None for
    # gunicorn.conf.py's, settings module or None for the profile of the environment)
    server: tuple[str, str, str | None, str | None] | None = None
    nodes: int = 0  # HAProxy rows: how many of the cluster's web nodes are enabled
    bypass: bool = False  # straight to web-1's port: the node without the balancer
    extra: tuple[str, ...] = ()  # more gunicorn options
    runs: list[dict] = field(default_factory=list)


CPU_PARTS = ("balancer", "pooler", "web", "database", "wrk")


def pid_file(name: str) -> int | None:
    return cluster_pid(CLUSTER_DIR, name)


def cpu_parts(row: Row, server: subprocess.Popen | None) -> dict[str, list[int]]:
    """The processes (roots of their trees) of each part of row's path."""
    parts: dict[str, list[int]] = {name: [] for name in CPU_PARTS if name != "wrk"}
    if server is not None:
        parts["web"] = [server.pid]
        if row.server and row.server[0] in (POOLED, POOLED_SESSION):
            parts["pooler"] = [p for p in [pid_file("pgbouncer")] if p]
    else:
        parts["balancer"] = [] if row.bypass else [p for p in [pid_file("haproxy")] if p]
        nodes = [pid_file(f"web-{i}") for i in range(1, row.nodes + 1)]
        parts["web"] = [node for node in nodes if node]
    primary = pid_file("postgres-primary")
    parts["database"] = [primary] if primary else []
    return parts


def in_service() -> int:
    """How many requests the cluster's balancer hands its nodes at once."""
    found = cluster_balancer(CLUSTER_DIR) or {}
    return int(found["nodes"]) * int(found["maxconn"]) if "maxconn" in found else 6


def haproxy(command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(CLUSTER_DIR / "haproxy.sock"))
        s.sendall(command.encode() + b"\n")
        return s.recv(65536).decode()


def gunicorn(port: int, row: Row, workers: int, env_base: dict) -> subprocess.Popen:
    database_url, pooler, worker_class, settings = row.server  # type: ignore[misc]
    env = dict(env_base, DATABASE_URL=database_url, DATABASE_POOLER=pooler, PYTHONPATH=str(ROOT))
    env.pop("DATABASE_REPLICA_URL", None)
    if settings:
        env.pop("DJANGO_ENV", None)  # else config.wsgi selects the production profile
        env["DJANGO_SETTINGS_MODULE"] = settings
    env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--no-control-socket"]  # fmt: skip
    # gunicorn.conf.py (read from the project folder) gives the buffering worker and
    # WEB_THREADS (4) threads, with which gunicorn turns "sync" into gthread: every row
    # runs one thread, as the cluster's nodes do; a sync row names its class
    command += ["--threads", "1"]
    command += ["--worker-class", worker_class] if worker_class else []
    proc = subprocess.Popen([*command, *row.extra], cwd=ROOT, env=env)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn for {row.name} did not start")


def node_environment() -> dict[str, str]:
    """The web nodes' own environment (the cluster's env file: JSON logs at INFO, one line
    per redemption), not this process's (cluster_env() quiets its logging)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "DJANGO_"))}
    for line in (CLUSTER_DIR / "env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = value.strip("'")
    return env


def rows_for(args, workers: int, node_workers: int, web_database: str, nodes: int) -> list[Row]:
    sync = f"gunicorn ({workers} sync workers)"
    rows = [
        Row("direct", f"{sync} → PostgreSQL directly", (PRIMARY, "", "sync", None)),
        Row(
            "direct-buffering",
            f"gunicorn ({workers} BufferingWorker, 1 thread: gunicorn.conf.py's) → "
            "PostgreSQL directly",
            (PRIMARY, "", None, None),
        ),
        Row(
            "direct-unprepared",
            f"{sync} → PostgreSQL directly, no prepared statements (DATABASE_POOLER=transaction)",
            (PRIMARY, "transaction", "sync", None),
        ),
    ]
    if args.smoke:
        return rows
    try:
        import psycopg_pool  # noqa: F401

        rows.append(
            Row(
                "psycopg-pool",
                f"{sync}, Django's psycopg pool per process → PostgreSQL",
                (PRIMARY, "", "sync", "bench.cluster.pool_settings"),
            )
        )
    except ImportError:
        print("psycopg_pool not installed: no row for Django's own pool", file=sys.stderr)
    rows += [
        Row(
            "pooler-session",
            f"{sync} → PgBouncer (session pooling, prepared statements kept) → PostgreSQL",
            (POOLED_SESSION, "", "sync", None),
        ),
        Row(
            "pooler",
            f"{sync} → PgBouncer (transaction pooling, no prepared statements) → PostgreSQL",
            (POOLED, "transaction", "sync", None),
        ),
    ]
    nodes_db = (
        "PostgreSQL directly" if web_database == "direct" else "PgBouncer (transaction pooling)"
    )
    rows.append(
        Row(
            "node-1",
            f"web-1 without the balancer ({node_workers} BufferingWorker, 1 thread) → {nodes_db}",
            nodes=1,
            bypass=True,
        )
    )
    for n in range(1, nodes + 1):
        what = "1 web node" if n == 1 else f"{n} web nodes"
        label = f"HAProxy → {what} ({node_workers} BufferingWorker, 1 thread, each) → {nodes_db}"
        if n == nodes:
            label = f"**production path**: {label}"
        rows.append(Row(f"haproxy-{n}", label, nodes=n))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    # default: as many as the balancer has in service (scripts/cluster.sh: NODE_MAXCONN per
    # node), so none waits in its queue, whose 35 ms timeout sheds on any hiccup of the
    # machine; more measures the shedding, not the path
    parser.add_argument("--connections", type=int, default=0)
    parser.add_argument(
        "--per-run", type=int, default=12_000, help="vouchers for each timed run (distinct)"
    )
    parser.add_argument(
        "--rows", default="", help="only these rows (comma-separated names; direct is kept)"
    )
    parser.add_argument(
        "--direct-workers", type=int, default=0, help="the direct rows' workers (the cores)"
    )
    parser.add_argument("--record", action="store_true")
    add_smoke(parser, seconds=1, rounds=1, per_run=300, connections=4)
    args = parser.parse_args()
    # a plain deployment sizes its gunicorn to the machine: a worker per core
    workers = args.direct_workers or (2 if args.smoke else os.cpu_count() or 2)
    # the cluster's web nodes: what scripts/cluster.sh gave them (its env file)
    node_workers = 2 if args.smoke else int(node_environment().get("WEB_WORKERS", "2"))
    if args.smoke:
        smoke_env()
        web_database = "direct"
    else:
        cluster_env()
        web_database = os.environ.get("WEB_DATABASE", "direct")  # scripts/cluster.sh's default
    if not args.connections:
        args.connections = 4 if args.smoke else in_service()
    # the cluster's web nodes (scripts/cluster.sh: one per core, 2 to 3)
    nodes = 0 if args.smoke else web_nodes()
    rows = rows_for(args, workers, node_workers, web_database, nodes)
    if args.rows:
        wanted = {"direct", *args.rows.split(",")}
        rows = [row for row in rows if row.name in wanted]
    # the production path runs right after the direct row (right before it in reversed
    # rounds): their ratio is taken from adjacent runs, which the machine's drift (other
    # work on the same cores) touches least
    production = [row for row in rows if row.nodes and row.label.startswith("**production")]
    first = [rows[0], *production]
    sequence = first + [row for row in rows if row not in first]
    order = [sequence if r % 2 == 0 else sequence[::-1] for r in range(args.rounds)]
    runs = sum(len(o) for o in order)
    # the access token outlives the whole run (setup, every timed run and its pauses)
    estimate = 600 + runs * (args.seconds + 15)
    lifetime = token_lifetime(estimate)
    started = time.monotonic()
    data = prepare(residents=1, vouchers=args.per_run * runs)
    if not args.smoke:
        checkpoint(PRIMARY)
    clerk = clerk_token(estimate)
    print(f"{runs} timed runs; {len(data['tokens'])} vouchers; clerk token for {lifetime}")

    folder = Path(tempfile.mkdtemp())
    env_base = dict(os.environ) if args.smoke else node_environment()
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    try:
        for n, row in enumerate(rows):
            if row.server:
                port = 18200 + os.getpid() % 500 + n * 1000
                servers[row.name] = (port, gunicorn(port, row, workers, env_base))
        tokens = iter(data["tokens"])
        held = contextlib.nullcontext([]) if args.smoke else beats_paused(CLUSTER_DIR)
        with held as paused, DiskWatch(CLUSTER_DIR) as disk:
            print(f"held while timing: {paused}")
            for r, ordered in enumerate(order):
                for row in ordered:
                    bodies = folder / f"{row.name}-{r}.txt"
                    part = [next(tokens) for _ in range(args.per_run)]
                    bodies.write_text(
                        "".join(f"Bearer {clerk}\t-\t{json.dumps({'token': t})}\n" for t in part)
                    )
                    if row.server:
                        url = f"http://127.0.0.1:{servers[row.name][0]}{PATH}"
                    elif row.bypass:
                        url = f"http://127.0.0.1:{WEB_1_PORT}{PATH}"
                    else:
                        for i in range(1, nodes + 1):
                            state = "enable" if i <= row.nodes else "disable"
                            haproxy(f"{state} server web/web-{i}")
                        url = f"http://127.0.0.1:{os.environ.get('HAPROXY_PORT', '8080')}{PATH}"
                    time.sleep(1)  # requests still in flight from the last run finish first
                    parts = cpu_parts(row, servers[row.name][1] if row.server else None)
                    before = {name: cpu_of(pids) for name, pids in parts.items()}
                    client = resource.getrusage(resource.RUSAGE_CHILDREN)
                    began = time.time()
                    # a row with fewer nodes than the cluster: as many connections as those
                    # nodes have in service (more would only measure the queue's shedding)
                    conns = args.connections
                    if row.nodes and not row.bypass and not args.smoke:
                        conns = max(1, args.connections * row.nodes // nodes)
                    run = wrk(
                        url,
                        bodies,
                        threads=min(args.threads, conns),
                        connections=conns,
                        seconds=args.seconds,
                    )
                    run["round"] = r
                    # the disk's worst 0.25 s in the run: the primary's commits wait on it
                    run["disk_ms"] = disk.worst_ms(began, time.time())
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    spent = {n: cpu_spent(before[n], cpu_of(pids)) for n, pids in parts.items()}
                    spent["wrk"] = (after.ru_utime + after.ru_stime) - (
                        client.ru_utime + client.ru_stime
                    )
                    answered = sum(run["statuses"].values()) or 1
                    run["cpu_us"] = {
                        name: spent[name] * 1e6 / answered if parts.get(name, True) else None
                        for name in CPU_PARTS
                    }
                    row.runs.append(run)
                    print(f"round {r} {row.name}: {run['rps']:.0f} req/s {run['statuses']}")
    finally:
        if not args.smoke:
            for i in range(1, nodes + 1):
                haproxy(f"enable server web/web-{i}")
        for _port, proc in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.monotonic() - started
    assert elapsed < lifetime.total_seconds(), "the run outlived its access token"
    lines = table(rows, args, workers, elapsed)
    if args.record:
        record("Cluster: balancer and pooler cost (bench/cluster/balance.py)", lines)
    else:
        print("\n".join([f"Machine: {machine()}", "", *lines]))
    if args.smoke:
        smoke_check(rows)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def table(rows: list[Row], args, workers: int, elapsed: float) -> list[str]:
    direct = rows[0]
    lines = [
        f"POST {PATH}, wrk {args.threads} threads / {args.connections} connections / "
        f"{args.seconds} s per timed run, {args.rounds} rounds (the production path run next "
        "to the direct row, the order reversed every other round; a HAProxy row with fewer "
        "nodes than the cluster gets as many connections as those nodes have in service), "
        f"{elapsed:.0f} s in all; "
        "every request a distinct valid voucher token, the clerk's access token minted to "
        "outlive the run; production settings with the web nodes' environment (JSON logs at "
        "INFO, metrics middleware), one thread per gunicorn worker. A run with any answer but "
        "201 is VOID and not counted.",
        "",
        "| path | req/s (mean of rounds) | ratio to direct | p50 ms | p99 ms | CPU µs per "
        "request: balancer / pooler / web / database / wrk (total) | disk: worst ms per "
        "write, per round | statuses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        voids = [(run["round"], run["void"]) for run in row.runs if run["void"]]
        statuses: Counter[int] = sum(
            (Counter({int(c): n for c, n in run["statuses"].items()}) for run in row.runs),
            Counter(),
        )
        shown = " ".join(f"{c}={n}" for c, n in sorted(statuses.items()))
        if voids:
            why = "; ".join(f"round {r}: {reason}" for r, reason in voids)
            lines.append(
                f"| {row.label} | VOID ({why}) | – | – | – | – | {disk_cell(row)} | {shown} |"
            )
            continue
        rps = mean([run["rps"] for run in row.runs])
        base = ratio_base(direct)
        ratio = f"{rps / base:.2f}" if base else "–"
        lines.append(
            f"| {row.label} | {rps:.0f} | {ratio} | {mean([r['p50'] for r in row.runs]):.1f} | "
            f"{mean([r['p99'] for r in row.runs]):.1f} | {cpu_cell(row)} | {disk_cell(row)} | "
            f"{shown} |"
        )
    production = next((row for row in rows if row.label.startswith("**production")), None)
    if production:
        lines += ["", verdict(direct, production)]
    for buffering in (row for row in rows if row.name == "direct-buffering"):
        lines.append(
            "- The web nodes' worker (BufferingWorker, 1 thread) / sync workers, same database "
            f"path, per round: {paired(buffering, direct)}."
        )
        if production:
            lines.append(
                "- Production path / a direct gunicorn with the nodes' own worker, per round: "
                f"{paired(production, buffering)}."
            )
    return lines


def cpu_cell(row: Row) -> str:
    """Mean CPU time per answered request of each part of the path ("–": not on it), and
    their sum: on one machine whose cores are all busy, what bounds the throughput."""
    means = {}
    for name in CPU_PARTS:
        values = [run["cpu_us"][name] for run in row.runs if run.get("cpu_us")]
        present = [v for v in values if v is not None]
        means[name] = mean(present) if present else None
    shown = " / ".join("–" if v is None else f"{v:,.0f}" for v in means.values())
    return f"{shown} ({sum(v for v in means.values() if v is not None):,.0f})"


def disk_cell(row: Row) -> str:
    """The disk's worst mean write latency (ms per write, over any 0.25 s) in each of the
    row's runs ("–": not sampled): a slow round set beside the machine's disk."""
    return ", ".join(
        "–" if run.get("disk_ms") is None else f"{run['disk_ms']:g}" for run in row.runs
    )


def ratio_base(direct: Row) -> float | None:
    if any(run["void"] for run in direct.runs):
        return None
    return mean([run["rps"] for run in direct.runs])


def paired(row: Row, direct: Row) -> str:
    """Each round's ratio of row to direct (a VOID run gives no ratio)."""
    out = []
    for run, base in zip(row.runs, direct.runs, strict=True):
        if run["void"] or base["void"]:
            out.append(f"round {run['round']}: VOID")
        else:
            out.append(f"{run['rps'] / base['rps']:.2f}")
    return ", ".join(out)


def verdict(direct: Row, production: Row) -> str:
    """PASS when the production path's mean is ≥ TARGET × direct's mean over the same
    rounds (a VOID run voids the verdict); each round's ratio is shown beside it."""
    if any(run["void"] for run in production.runs + direct.runs):
        return f"- Production path / direct: VOID in some round ({paired(production, direct)})."
    ratio = mean([r["rps"] for r in production.runs]) / mean([r["rps"] for r in direct.runs])
    result = "PASS" if ratio >= TARGET else "FAIL"
    return (
        f"- Production path / direct gunicorn: {ratio:.2f} (per round "
        f"{paired(production, direct)}; target ≥ {TARGET}): **{result}**."
    )


def clerk_token(run_seconds: float) -> str:
    """The demo merchant clerk's access token, dated to outlive a run of about
    `run_seconds` (ACCESS_TOKEN_LIFETIME is 10 minutes, and an expired token answers 401)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    return lasting_token(AccessToken.for_user(User.objects.get(phone="13600000001")), run_seconds)


def smoke_env() -> None:
    """--smoke: the scratch database of DATABASE_URL, the demo data seeded there, servers
    on the test settings (no cluster)."""
    global PRIMARY
    PRIMARY = os.environ["DATABASE_URL"]
    os.environ.pop("DJANGO_ENV", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)


def smoke_check(rows: list[Row]) -> None:
    """The smoke's own check: every row ran, counted its 201s and got a verdict."""
    for row in rows:
        assert row.runs and all(run["statuses"] for run in row.runs), row.name
        # each run set beside the disk (None where /proc/diskstats does not name it)
        assert all("disk_ms" in run for run in row.runs), row.name
    # a run that got anything but 201 is VOID, never throughput
    assert unasked({"201": 5, "401": 1}, {"201"}) == "401=1"
    assert unasked({"201": 5}, {"201"}) == ""
    print(
        "smoke ok:",
        ", ".join(
            f"{row.name} { ({int(c): n for c, n in row.runs[0]['statuses'].items()}) }"
            for row in rows
        ),
    )


if __name__ == "__main__":
    main()
