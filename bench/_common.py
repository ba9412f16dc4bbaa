"""Shared helpers of the benchmarks: Django setup against the rig's PostgreSQL, machine
facts, percentiles, and appending results to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("run benchmarks through scripts/with-services.sh (PostgreSQL + Redis)")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def unused_codes(cursor: Any, count: int) -> list[str]:
    """`count` distinct voucher codes no voucher in the database has yet, for a bench that
    COPYs vouchers in: the cluster's primary keeps every run's vouchers (millions), and a
    fresh draw among 29⁹ codes then meets the unique code now and then (a run failed so).
    The service itself draws again on a taken code (incentives/vouchers/services.py)."""
    from incentives import signing

    codes: set[str] = set()
    while len(codes) < count:
        drawn = {signing.new_code() for _ in range(count - len(codes))} - codes
        cursor.execute("SELECT code FROM incentives_voucher WHERE code = ANY(%s)", [list(drawn)])
        codes |= drawn - {code for (code,) in cursor.fetchall()}
    return list(codes)


# The machine's load when the benchmark started (its own load comes after).
LOAD_AT_START = os.getloadavg()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    # The server's own version (scripts/with-services.sh names its binaries), not psql's.
    server = Path(os.environ.get("XINYOU_PG_BIN", ""), "postgres")
    command = [str(server), "--version"] if server.is_file() else ["psql", "--version"]
    pg = subprocess.run(command, capture_output=True, text=True).stdout.strip()
    before, after = (
        " / ".join(f"{v:.2f}" for v in load) for load in (LOAD_AT_START, os.getloadavg())
    )
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}; Python {platform.python_version()}; "
        f"{pg or 'PostgreSQL'}; {platform.system()} {platform.release()}; "
        f"load average (1, 5, 15 min) before the run {before}, after it {after}"
    )


# Set by add_smoke's parser in --smoke mode: nothing is recorded.
SMOKE = False


def add_smoke(parser: argparse.ArgumentParser, **tiny: Any) -> None:
    """`--smoke`: the script's whole path at tiny sizes (`tiny`: argument -> value), one
    short round, nothing timed against a target or recorded. The suite runs every
    benchmark this way (tests/test_bench_smoke.py) so that a change that breaks one fails
    CI instead of the next person who times it."""
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one short round, nothing recorded"
    )
    parse = parser.parse_args

    def parse_args(*args: Any, **kwargs: Any) -> argparse.Namespace:
        global SMOKE
        parsed = parse(*args, **kwargs)
        if parsed.smoke:
            SMOKE = True
            for name, value in tiny.items():
                setattr(parsed, name, value)
        return parsed

    parser.parse_args = parse_args  # type: ignore[method-assign]


def unasked(statuses: dict[str, int], asked: AbstractSet[str], socket_errors: int = 0) -> str:
    """Why a timed round is void, or "" if it is not: any answer other than the statuses the
    round asked for (`asked`, e.g. {"201"}), or any request without an answer (wrk's socket
    errors and timeouts). A void round's requests are not throughput: a run that outlived
    its access tokens once counted 93,496 `401`s as redemptions (issue 27)."""
    found = [f"{code}={n}" for code, n in sorted(statuses.items()) if code not in asked and n]
    if socket_errors:
        found.append(f"{socket_errors} socket errors/timeouts")
    if not found and not any(statuses.get(code) for code in asked):
        found.append("no answer at all")  # a round with nothing to count counts for nothing
    return ", ".join(found)


def wrk(
    url: str,
    bodies: Path,
    *,
    threads: int,
    connections: int,
    seconds: int,
    asked: frozenset[str] = frozenset({"201"}),
) -> dict[str, Any]:
    """One timed wrk run with bench/redeem/wrk.lua (a line of `bodies` per request): req/s,
    p50/p99 ms, every status and socket error it saw, and `void`, why it does not count
    (`unasked`, or a body line used twice: a replay, not a new redemption or claim)."""
    env = dict(os.environ, BENCH_BODIES=str(bodies), BENCH_THREADS=str(threads))
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-s", str(ROOT / "bench/redeem/wrk.lua"), url],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    out = done.stdout

    def found(pattern: str) -> re.Match[str]:
        match = re.search(pattern, out)
        if match is None:
            raise RuntimeError(f"wrk said no {pattern!r}: {out}")
        return match

    status = found("STATUS (.*)")[1]
    statuses = {code: int(n) for code, n in re.findall(r"(\d+)=(\d+)", status)}
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(n) for n in socket.groups()) if socket else 0
    wrapped = int(found(r"WRAPPED (\d+)")[1])
    void = unasked(statuses, asked, errors)
    if wrapped:
        void = ", ".join(filter(None, [void, f"{wrapped} requests reused a body (too few)"]))
    lat = found(r"LAT p50=([\d.]+) p99=([\d.]+)")
    return {
        "rps": float(found(r"Requests/sec:\s+([\d.]+)")[1]),
        "status": status,
        "statuses": statuses,
        "socket_errors": errors,
        "void": void,
        "p50": float(lat[1]),
        "p99": float(lat[2]),
    }


def fail_smoke_if_void(results: dict[str, dict]) -> None:
    """In smoke mode a void round fails the run (and so CI): a benchmark whose requests
    stopped being answered as asked has rotted, whatever its req/s say."""
    void = {name: r["void"] for name, r in results.items() if r.get("void")}
    if SMOKE and void:
        sys.exit(f"void rounds in smoke mode: {void}")


def lasting_token(token: Any, run_seconds: float) -> str:
    """A simplejwt access token re-dated to outlive the run: three times its estimated
    length and at least an hour (the product's access tokens live 10 minutes). The
    benchmark still signs it with the product's key and the caller's claims."""
    token.set_exp(lifetime=token_lifetime(run_seconds))
    return str(token)


def token_lifetime(run_seconds: float) -> timedelta:
    """How long `lasting_token` dates a token for a run of about `run_seconds`."""
    return timedelta(seconds=max(3600.0, 3 * run_seconds))


def mean_of(runs: list[dict]) -> dict:
    """The rounds of one target as one figure: mean req/s and latencies of the rounds that
    count, summed statuses, and each round's req/s (to show the spread). A void round (an
    answer it did not ask for: `_common.unasked`) shows as "void" and is left out of the
    mean; with no round left the target's figure is None (and its ratios are void)."""
    statuses: dict[str, int] = {}
    for run in runs:
        for code, count in run["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    valid = [r for r in runs if not r["void"]]
    mean = (lambda key: sum(r[key] for r in valid) / len(valid)) if valid else (lambda key: None)
    return {
        "rps": mean("rps"),
        "p50": mean("p50"),
        "p99": mean("p99"),
        "status": " ".join(f"{code}={n}" for code, n in sorted(statuses.items())),
        "rounds": " / ".join("void" if r["void"] else f"{r['rps']:.0f}" for r in runs),
        "void": "; ".join(f"round {i}: {r['void']}" for i, r in enumerate(runs, 1) if r["void"]),
    }


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "void" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "void" if a is None or b is None else f"{a / b:.2f}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {pct(ms, 50):.2f} ms, p95 {pct(ms, 95):.2f} ms, p99 {pct(ms, 99):.2f} ms, "
        f"mean {statistics.fmean(ms):.2f} ms (n={len(ms)})"
    )


def record(title: str, lines: list[str]) -> None:
    """Append a dated section to bench/RESULTS.md and print it."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    block = [f"### {title} — {stamp}", "", f"Machine: {machine()}", "", *lines, ""]
    text = "\n".join(block)
    print(text)
    if SMOKE or os.environ.get("BENCH_NO_RECORD") == "1":  # smoke or exploratory: printed
        return
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach section is appended by its script.\n\n")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(text + "\n")


@contextlib.contextmanager
def beats_paused(cluster_dir: Path) -> Iterator[list[str]]:
    """The cluster's periodic work held while a benchmark times its path: Celery beat and
    beat-2 stopped (SIGSTOP) and resumed after (SIGCONT). Every 5 minutes the beat sends
    the dashboards' roll-up refresh and the list revocation, which took 4-15 s of both
    cores each over the vouchers a benchmark creates: whichever timed run they met lost up
    to 90% of its rate. Nothing is lost: the schedule runs what fell due once beat resumes
    (a beat whose lock in Redis expired meanwhile exits and its supervisor starts it
    again). Yields the names held."""
    held = []
    for name in ("beat", "beat-2"):
        try:
            pid = int((cluster_dir / "pids" / name).read_text())
            os.kill(pid, signal.SIGSTOP)
            held.append((name, pid))
        except (OSError, ValueError):
            continue
    try:
        yield [name for name, _ in held]
    finally:
        for _name, pid in held:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)


def checkpoint(url: str) -> None:
    """Write what the preparation left dirty before timing starts: a checkpoint that
    falls inside a timed run (hundreds of thousands of fresh vouchers flushed) made the
    commits' fsyncs wait on the disk (75% iowait seen) and cut whole runs by half."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


# make cluster's PostgreSQL primary (scripts/cluster.sh)
CLUSTER_PRIMARY = "postgres://xinyou@127.0.0.1:5541/xinyou"


def cluster_balancer(folder: Path) -> dict[str, int | str] | None:
    """What `make cluster`'s balancer admits, read from the files scripts/cluster.sh wrote
    in `folder` at `up`: its web nodes, `maxconn` per node, the queue's bound and timeout,
    and the nodes' workers (each key only when found); None without a cluster."""
    try:
        text = (folder / "haproxy.cfg").read_text()
    except OSError:
        return None
    found: dict[str, int | str] = {"nodes": len(re.findall(r"^\s+server web-", text, re.M))}
    patterns = {
        "maxconn": r"default-server .*?maxconn (\d+)",
        "queue_max": r"queue\(web\) ge (\d+)",
        "queue_timeout": r"timeout queue (\S+)",
    }
    for key, pattern in patterns.items():
        if match := re.search(pattern, text):
            found[key] = int(match.group(1)) if key != "queue_timeout" else match.group(1)
    with contextlib.suppress(OSError):
        if match := re.search(r"WEB_WORKERS=(\d+)", (folder / "env").read_text()):
            found["workers"] = int(match.group(1))
    return found


class DiskWatch:
    """The write latency of the disk under `path` (the cluster's PostgreSQL, which waits
    for its WAL on every commit), sampled from /proc/diskstats every 0.25 s in a thread:
    a slow step (bench/peak.py) or timed run (bench/cluster/balance.py) set beside the
    machine's disk (the temporary folder's where `path` is absent: no cluster). Nothing
    where /proc/diskstats does not name the device (another system, a RAM disk)."""

    PERIOD = 0.25

    def __init__(self, path: Path) -> None:
        import tempfile

        dev = os.stat(path if path.exists() else tempfile.gettempdir()).st_dev
        self.device = (str(os.major(dev)), str(os.minor(dev)))
        self.samples: list[tuple[float, int, int]] = []  # (wall time, writes, ms writing)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> tuple[int, int] | None:
        try:
            with open("/proc/diskstats") as stats:
                for line in stats:
                    f = line.split()
                    if (f[0], f[1]) == self.device:
                        return int(f[7]), int(f[10])
        except OSError:
            pass
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.PERIOD):
            read = self._read()
            if read is not None:
                self.samples.append((time.time(), *read))

    def __enter__(self) -> DiskWatch:
        if self._read() is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def worst_ms(self, start: float, end: float) -> float | None:
        """The highest mean write latency (ms per write) of a 0.25 s sample in [start, end]."""
        worst = None
        for (_t0, w0, ms0), (t1, w1, ms1) in itertools.pairwise(self.samples):
            if start <= t1 <= end + self.PERIOD and w1 > w0:
                mean = (ms1 - ms0) / (w1 - w0)
                worst = mean if worst is None else max(worst, mean)
        return None if worst is None else round(worst, 1)


# --- where the cores went (/proc) ---------------------------------------------------


def tree(pid: int) -> list[int]:
    """pid and its descendants (a gunicorn's workers, a postmaster's backends)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in (Path("/proc") / str(p) / "task").iterdir():
                kids = (task / "children").read_text().split()
                todo += [int(k) for k in kids]
    return out


def cpu_of(roots: list[int]) -> dict[int, int]:
    """Clock ticks (user + system) each process of the roots' trees has used so far."""
    out = {}
    for p in {q for root in roots for q in tree(root)}:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (Path("/proc") / str(p) / "stat").read_text().rsplit(")", 1)[1].split()
            out[p] = int(fields[11]) + int(fields[12])
    return out


def cpu_spent(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds between two readings: what each process still there used (a process
    started between them counts whole; one that ended takes its last moments with it)."""
    ticks = sum(t - before.get(p, 0) for p, t in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


def cluster_pid(cluster_dir: Path, name: str) -> int | None:
    """The pid `scripts/cluster.sh` wrote for one of its processes (haproxy, web-1, …)."""
    try:
        return int((cluster_dir / "pids" / name).read_text())
    except (OSError, ValueError):
        return None
