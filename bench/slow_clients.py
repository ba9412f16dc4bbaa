"""The slow-client probe of issue 24 (point 1): N connections send the headers of
`POST /api/v1/auth/token` with `Content-Length: 1000`, one body byte, and then nothing;
meanwhile `GET /healthz` is timed.

    scripts/with-services.sh .venv/bin/python bench/slow_clients.py [--smoke]
        [--shape run-https|run-https-gthread|haproxy|haproxy-unbuffered] [-n 50]

Shapes: `run-https` is `make run-https`'s gunicorn (scripts/devserver.py with
gunicorn.conf.py: the buffering worker); `run-https-gthread` the same command with the
plain gthread worker (what it was before); `haproxy` the cluster's HAProxy (rendered by
`scripts/cluster.sh haproxy-config`) in front of one gunicorn node of 2 one-thread
workers of gunicorn.conf.py's class, as `make cluster` runs them; `haproxy-unbuffered`
the same without `option http-buffer-request` and with the old 10 s `timeout
http-request`. The helpers are used by tests/test_security_server.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOW_HEAD = (
    b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port: int, tls: bool, timeout: float) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if not tls:
        return raw
    return _client_context().wrap_socket(raw, server_hostname="127.0.0.1")


def slow_connections(port: int, n: int, tls: bool) -> list[socket.socket]:
    """`n` stalled requests (headers, one body byte, silence); those a stalled server did
    not even accept in time are skipped."""
    held = []
    for _ in range(n):
        try:
            s = connect(port, tls, timeout=2.0)
            s.sendall(SLOW_HEAD)
            held.append(s)
        except OSError:
            pass
    return held


def request(port: int, tls: bool, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send `raw` (a whole request), return everything the server answers."""
    with contextlib.closing(connect(port, tls, timeout)) as s:
        s.sendall(raw)
        chunks = []
        with contextlib.suppress(TimeoutError, OSError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def healthz_seconds(port: int, tls: bool, timeout: float = 60.0) -> float | None:
    """Seconds until `GET /healthz` is answered 200, or None (no answer within `timeout`)."""
    started = time.monotonic()
    try:
        answer = request(
            port, tls, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            timeout=timeout,
        )  # fmt: skip
    except OSError:
        return None
    if not answer.startswith(b"HTTP/1.1 200"):
        return None
    return time.monotonic() - started


def wait_ready(port: int, tls: bool, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        if healthz_seconds(port, tls, timeout=2) is not None:
            return
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def server_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    env.pop("DJANGO_ENV", None)
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    env["DEBUG"] = "0"  # as deployed: no technical error pages
    return env


@contextlib.contextmanager
def run_https(folder: Path, *, gthread: bool = False) -> Iterator[int]:
    """`make run-https`'s gunicorn on a free port (its own certificate in `folder`)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import devserver  # scripts/devserver.py

    cert, key = devserver.ensure_certificate("127.0.0.1", folder / "certs")
    port = free_port()
    argv = devserver.gunicorn_argv("127.0.0.1", str(port), cert, key)
    if gthread:  # what it was before: gunicorn's plain gthread worker
        argv += ["--worker-class", "gthread"]
    with _process(argv, folder / "gunicorn.log") as proc:
        wait_ready(port, True, proc)
        yield port


@contextlib.contextmanager
def _process(argv: list[str], log: Path, env: dict | None = None):
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env or server_env(), stdout=out, stderr=out)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def web_node(port: int) -> list[str]:
    """A cluster web node's command line (scripts/cluster.sh start_app): gunicorn.conf.py's
    worker (read from the project folder), two workers of one thread each."""
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "1",
        "--graceful-timeout",
        "5",
        "--timeout",
        "60",
        "--no-control-socket",
    ]


def haproxy_config(folder: Path, port: int, web_port: int, *, buffered: bool = True) -> Path:
    """The cluster's HAProxy configuration, rendered by scripts/cluster.sh itself, for one
    node of web_node's 2 workers; the queue's timeout 2 s unless the caller's environment
    says (the cluster's 35 ms is for a measured peak: a test on a busy machine must not
    shed its own requests)."""
    env = {
        "WEB_WORKERS": "2",
        "QUEUE_TIMEOUT": "2s",
        **os.environ,
        "XINYOU_CLUSTER_DIR": str(folder),
        "HAPROXY_PORT": str(port),
        "WEB_PORTS_LIST": str(web_port),
        "WEB_NODES": "1",
        "STATS_PORT": str(free_port()),
    }
    (folder / "pids").mkdir(parents=True, exist_ok=True)
    text = subprocess.run(
        ["bash", str(ROOT / "scripts/cluster.sh"), "haproxy-config"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    text = text.replace("    daemon\n", "").replace("    stats socket", "    # stats socket")
    if not buffered:
        text = text.replace("    option http-buffer-request\n", "")
        text = text.replace("timeout http-request 5s", "timeout http-request 10s")
    cfg = folder / "haproxy.cfg"
    cfg.write_text(text)
    return cfg


@contextlib.contextmanager
def run_haproxy(folder: Path, *, buffered: bool = True) -> Iterator[int]:
    """HAProxy with the cluster's configuration in front of one gunicorn web node."""
    web_port, port = free_port(), free_port()
    cfg = haproxy_config(folder, port, web_port, buffered=buffered)
    with _process(web_node(web_port), folder / "web.log") as web:
        wait_ready(web_port, False, web)
        with _process(["haproxy", "-db", "-f", str(cfg)], folder / "haproxy.log") as proxy:
            wait_ready(port, False, proxy)
            yield port


def probe(shape: str, n: int) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tls = shape.startswith("run-https")
        if tls:
            server = run_https(folder, gthread=shape == "run-https-gthread")
        else:
            server = run_haproxy(folder, buffered=shape == "haproxy")
        with server as port:
            baseline = healthz_seconds(port, tls)
            held = slow_connections(port, n, tls)
            time.sleep(0.5)
            took = healthz_seconds(port, tls, timeout=60)
            for s in held:
                s.close()
        print(
            f"{shape}: {len(held)}/{n} slow connections held; /healthz "
            f"{baseline:.3f} s alone, "
            + (f"{took:.3f} s with them" if took is not None else "no answer within 60 s")
        )
        return took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="run-https")
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="5 connections, run-https only")
    args = parser.parse_args()
    if args.smoke:
        return 0 if probe("run-https", 5) is not None else 1
    probe(args.shape, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
