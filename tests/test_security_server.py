"""Against the real servers (issue 24, points 1, 4 and 6): `make run-https`'s gunicorn and
the cluster's HAProxy (its configuration rendered by scripts/cluster.sh, a real haproxy
process on loopback, in front of a web node as `make cluster` starts it).

- 50 connections that send a request's headers, one byte of the announced body and then
  nothing do not delay `GET /healthz` by more than a second;
- every error the server or the balancer answers itself is the JSON envelope with a
  stable code (414 uri_too_long, 431 headers_too_large, 400 invalid_request, 408
  request_timeout, a foreign Host);
- `/metrics` does not leak through `/%6detrics` past the balancer.
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from bench.slow_clients import (
    _process,
    connect,
    free_port,
    healthz_seconds,
    request,
    run_haproxy,
    run_https,
    server_env,
    slow_connections,
    wait_ready,
    web_node,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("real-servers")]
ROOT = Path(__file__).resolve().parent.parent


def envelope(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, json.loads(body)["error"]


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def _no_stall(port: int, tls: bool) -> None:
    held = slow_connections(port, 50, tls)
    try:
        assert len(held) == 50
        took = healthz_seconds(port, tls, timeout=10)
        assert took is not None and took < 1.0, took
    finally:
        for s in held:
            s.close()


def _server_errors(port: int, tls: bool, *, balancer: bool = False) -> None:
    long_uri = request(port, tls, b"GET /api/v1/offers?q=" + b"a" * 5000 + b" HTTP/1.1\r\n"
                       b"Host: 127.0.0.1\r\n\r\n")  # fmt: skip
    status, err = envelope(long_uri)
    assert (status, err["code"]) in {(414, "uri_too_long"), (400, "invalid_request")}
    big_header = request(port, tls, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"X-Big: " + b"b" * 9000 + b"\r\n\r\n")  # fmt: skip
    status, err = envelope(big_header)
    assert (status, err["code"]) in {(431, "headers_too_large"), (400, "invalid_request")}
    bad = request(port, tls, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
    if balancer:
        # HAProxy 2.6 answers a request it cannot parse with its built-in page (its
        # errorfiles do not reach the HTTP/1 parser's own 400): the status is right
        assert bad.startswith(b"HTTP/1.1 400 ")
    else:
        status, err = envelope(bad)
        assert (status, err["code"]) == (400, "invalid_request")
    foreign = request(port, tls, b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\n"
                      b"Connection: close\r\n\r\n")  # fmt: skip
    status, err = envelope(foreign)
    assert (status, err["code"]) == (400, "invalid_request") and "host" in err["detail"]


def _times_out_with_408(port: int, tls: bool) -> None:
    held = slow_connections(port, 1, tls)[0]
    held.settimeout(15)
    answer = b""
    try:
        while chunk := held.recv(65536):
            answer += chunk
    finally:
        held.close()
    status, err = envelope(answer)
    assert (status, err["code"]) == (408, "request_timeout")


# --------------------------------------------------------------------------- make run-https


@pytest.fixture(scope="module")
def https_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("run-https")


@pytest.fixture(scope="module")
def https_port(https_folder):
    os.environ.setdefault("GUNICORN_REQUEST_TIMEOUT", "3")
    with run_https(https_folder) as port:
        yield port


def test_run_https_access_log_keeps_no_personal_query_values(https_port, https_folder):
    name = "%E6%AC%A7%E9%98%B3%E6%98%8E%E6%9C%88"  # 欧阳明月
    for query in ("q=13700000001&page=2", f"q={name}", "phone=13700000002", "x=110105194912310021"):
        request(https_port, True, f"GET /api/v1/offers?{query} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())  # fmt: skip
    time.sleep(0.5)  # the access log line is written after the answer
    log = (https_folder / "gunicorn.log").read_text(errors="replace")
    assert "/api/v1/offers?" in log and "page=2" in log
    for secret in ("13700000001", name, "13700000002", "110105194912310021"):
        assert secret not in log


def test_run_https_is_not_stalled_by_50_slow_clients(https_port):
    _no_stall(https_port, tls=True)


def test_run_https_answers_its_own_errors_in_json(https_port):
    _server_errors(https_port, tls=True)


def test_run_https_times_out_a_stalled_request_with_408(https_port):
    _times_out_with_408(https_port, tls=True)


# ------------------------------------------------------- a cluster web node without its balancer
# One thread per worker, as scripts/cluster.sh runs them: a whole request is answered on
# the worker's event-loop thread, one still streaming (a body over BUFFER_LIMIT) on its
# pool's thread. Nothing may stall the loop: not stalled clients, not pipelined requests.


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    folder = tmp_path_factory.mktemp("node")
    port = free_port()
    env = {**server_env(), "GUNICORN_REQUEST_TIMEOUT": "3"}
    with _process(web_node(port), folder / "web.log", env) as proc:
        wait_ready(port, False, proc)
        yield port


def test_a_web_node_is_not_stalled_by_50_slow_clients(node):
    _no_stall(node, tls=False)


def test_a_web_node_answers_its_own_errors_in_json(node):
    _server_errors(node, tls=False)


def test_a_web_node_times_out_a_stalled_request_with_408(node):
    _times_out_with_408(node, tls=False)


def _statuses(sock, n: int) -> list[int]:
    """The statuses of the next `n` answers on `sock` (each framed by its Content-Length)."""
    buf, statuses = b"", []
    while len(statuses) < n:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").lower().split("\r\n")
            length = next(int(h.split(":")[1]) for h in head if h.startswith("content-length:"))
            if len(buf) >= end + 4 + length:
                statuses.append(int(head[0].split(" ")[1]))
                buf = buf[end + 4 + length :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {statuses}"
        buf += chunk
    assert buf == b"", buf[:200]
    return statuses


def test_a_web_node_answers_kept_alive_and_pipelined_requests_in_order(node):
    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    missing = b"GET /api/v1/no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with connect(node, False, timeout=10) as s:
        s.sendall(get)  # kept alive: a second request on the same connection, later
        assert _statuses(s, 1) == [200]
        s.sendall(get + missing + get + last)  # four at once, in one segment
        assert _statuses(s, 4) == [200, 404, 200, 200]
        assert s.recv(65536) == b""  # closed, as the last one asked


def test_a_web_node_refuses_a_body_too_large_to_buffer_with_413(node):
    body = b"{" + b" " * (1536 * 1024) + b"}"  # over BUFFER_LIMIT: streamed to the pool
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    status, err = envelope(request(node, False, head + body, timeout=15))
    assert (status, err["code"]) == (413, "request_too_large")
    assert healthz_seconds(node, False, timeout=5) is not None  # and the worker serves on


# --------------------------------------------------------------------------- make cluster

needs_haproxy = pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install haproxy)"
)


@pytest.fixture(scope="module")
def balancer(tmp_path_factory):
    with run_haproxy(tmp_path_factory.mktemp("cluster")) as port:
        yield port


@needs_haproxy
def test_the_cluster_balancer_is_not_stalled_by_50_slow_clients(balancer):
    _no_stall(balancer, tls=False)


@needs_haproxy
def test_the_cluster_answers_every_error_in_json(balancer):
    _server_errors(balancer, tls=False, balancer=True)


@needs_haproxy
@pytest.mark.parametrize(
    "path", ["/metrics", "/%6detrics", "/%6D%65trics", "//metrics", "/METRICS", "/metrics/"]
)
def test_metrics_do_not_pass_the_balancer_however_spelled(balancer, path):
    answer = request(balancer, False, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
    status, err = envelope(answer)
    assert (status, err["code"]) == (404, "not_found")
    assert b"xinyou_http_requests_total" not in answer


@needs_haproxy
def test_the_balancer_times_out_a_stalled_request_with_a_json_408(balancer):
    started = time.monotonic()
    _times_out_with_408(balancer, tls=False)
    assert time.monotonic() - started < 12


def test_every_haproxy_error_file_is_a_json_envelope_with_a_declared_code():
    from core.errors import CODES

    files = sorted((ROOT / "deploy/haproxy/errors").glob("*.http"))
    assert len(files) >= 10
    for path in files:
        raw = path.read_bytes()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {path.stem} ".encode())
        length = int(
            next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        assert length == len(body)
        assert json.loads(body)["error"]["code"] in CODES
