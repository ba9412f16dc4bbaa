"""What the balancer and the pooler cost (issue 17): redemptions under wrk, in one run,

1. direct: a gunicorn started here, talking to the PostgreSQL primary directly (with
   and without prepared statements, which transaction pooling rules out);
2. pooler: the same gunicorn, through PgBouncer (transaction pooling);
3. HAProxy with 1, 2 and 3 of the cluster's web nodes enabled (its runtime API turns
   the others off), everything through PgBouncer.

Every request is a distinct valid voucher token. Needs the cluster up
(`scripts/cluster.sh up`); prints a table and, with --record, appends it to
bench/RESULTS.md. On one 2-core machine more nodes cannot add cores: the 1/2/3-node rows
show what each extra hop and process costs, not how a real cluster scales.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "redeem"))

from cluster_test import CLUSTER_DIR, cluster_env, prepare  # noqa: E402


def haproxy(command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(CLUSTER_DIR / "haproxy.sock"))
        s.sendall(command.encode() + b"\n")
        return s.recv(65536).decode()


def wrk(url: str, bodies: Path, token: str, args) -> dict:
    from run import wrk as run_wrk  # bench/redeem/run.py (lines: auth, key, body)

    return run_wrk(url, bodies, args, args.seconds)


def gunicorn(port: int, database_url: str, pooler: str, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url, DATABASE_POOLER=pooler, PYTHONPATH=str(ROOT))
    # (importing bench/redeem/run.py changes it)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env.pop("DATABASE_REPLICA_URL", None)
    env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "--worker-class", "sync", "--no-control-socket",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--vouchers", type=int, default=60_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    cluster_env()
    data = prepare(residents=1, vouchers=args.vouchers)
    tokens = data["tokens"]
    runs = ["direct", "direct-unprepared", "pooler", "haproxy-1", "haproxy-2", "haproxy-3"]
    share = len(tokens) // len(runs)
    folder = Path(tempfile.mkdtemp())
    results: dict[str, dict] = {}
    workers = int(os.environ.get("WEB_WORKERS", "2"))
    primary = "postgres://xinyou@127.0.0.1:5541/xinyou"
    pooled = "postgres://xinyou@127.0.0.1:6432/xinyou"
    for n, name in enumerate(runs):
        bodies = folder / f"{name}.txt"
        part = tokens[n * share : (n + 1) * share]
        auth = f"Bearer {data['clerk']}"
        bodies.write_text("\n".join(f"{auth}\t-\t{json.dumps({'token': t})}" for t in part) + "\n")
        if name in ("direct", "direct-unprepared", "pooler"):
            # DATABASE_POOLER=transaction turns prepared statements off (core/db.py): the
            # unprepared direct row tells PgBouncer's own cost from the lost preparation
            port = 18200 + n
            server = gunicorn(port, pooled if name == "pooler" else primary,
                              "" if name == "direct" else "transaction", workers)  # fmt: skip
            try:
                results[name] = wrk(f"http://127.0.0.1:{port}/api/v1/merchant/redemptions",
                                    bodies, data["clerk"], args)  # fmt: skip
            finally:
                server.terminate()
                server.wait(timeout=30)
        else:
            nodes = int(name[-1])
            for i in (1, 2, 3):
                haproxy(f"{'enable' if i <= nodes else 'disable'} server web/web-{i}")
            time.sleep(1)
            results[name] = wrk("http://127.0.0.1:8080/api/v1/merchant/redemptions",
                                bodies, data["clerk"], args)  # fmt: skip
    for i in (1, 2, 3):
        haproxy(f"enable server web/web-{i}")
    base = results["direct"]["rps"]
    labels = {
        "direct": f"gunicorn ({workers} workers) → PostgreSQL directly",
        "direct-unprepared": f"gunicorn ({workers} workers) → PostgreSQL directly, "
        "no prepared statements (DATABASE_POOLER=transaction)",
        "pooler": f"gunicorn ({workers} workers) → PgBouncer → PostgreSQL",
        "haproxy-1": f"HAProxy → 1 web node ({workers} workers) → PgBouncer",
        "haproxy-2": f"HAProxy → 2 web nodes ({workers} workers each) → PgBouncer",
        "haproxy-3": f"HAProxy → 3 web nodes ({workers} workers each) → PgBouncer",
    }
    lines = [
        f"POST /api/v1/merchant/redemptions, wrk {args.threads} threads / {args.connections} "
        f"connections / {args.seconds} s per row, distinct valid tokens, production settings "
        "(JSON logs, metrics middleware), one run on this machine.",
        "",
        "| path | req/s | ratio to direct | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
    ]
    for name in runs:
        r = results[name]
        lines.append(
            f"| {labels[name]} | {r['rps']:.0f} | {r['rps'] / base:.2f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {r['status']} |"
        )
    print("\n".join(lines))
    if args.record:
        from _common import record

        record("Cluster: balancer and pooler cost (bench/cluster/balance.py)", lines)


if __name__ == "__main__":
    main()
