"""Shared helpers of the benchmarks: Django setup against the rig's PostgreSQL, machine
facts, percentiles, and appending results to bench/RESULTS.md."""

import argparse
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime
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
