"""The balancer sheds load past its bounded queue (issue 27, point 4): the cluster's HAProxy
(its configuration rendered by scripts/cluster.sh, a real haproxy on loopback) in front of
a web node that holds every request until the test lets it go.

The node takes `maxconn` requests (2 per worker), HAProxy queues `QUEUE_MAX` more, and
every request beyond those is answered at once, while the others are still held, with
`503 service_unavailable`, `Retry-After` and the JSON envelope (`detail.retry_after_ms`):
not left to wait for a timeout. Once the node answers, every admitted request is served.
Nothing is timed: the queue's own timeout is set far beyond the test's guard.
"""

import contextlib
import json
import select
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.slow_clients import _process, free_port, haproxy_config, wait_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("real-servers"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed"),
]
ROOT = Path(__file__).resolve().parent.parent
SERVED = 2  # NODE_MAXCONN, set below: requests the node is handed at once
QUEUED = 8  # QUEUE_MAX, set below
EXTRA = 5
GUARD = 30.0  # seconds; the queue's timeout is 120 s, so a queued answer cannot come first


class HeldNode(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        self.release = threading.Event()
        self.held = threading.Semaphore(0)
        super().__init__(("127.0.0.1", port), Handler)


class Handler(BaseHTTPRequestHandler):
    server: HeldNode
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path not in ("/readyz", "/healthz"):
            self.server.held.release()
            self.server.release.wait(60)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


@pytest.fixture
def balancer(tmp_path, monkeypatch, request):
    monkeypatch.setenv("NODE_MAXCONN", str(SERVED))
    monkeypatch.setenv("QUEUE_MAX", str(QUEUED))
    monkeypatch.setenv("QUEUE_TIMEOUT", getattr(request, "param", "120s"))
    web_port, port = free_port(), free_port()
    node = HeldNode(web_port)
    threading.Thread(target=node.serve_forever, daemon=True).start()
    cfg = haproxy_config(tmp_path, port, web_port)
    try:
        with _process(["haproxy", "-db", "-f", str(cfg)], tmp_path / "haproxy.log") as proxy:
            wait_ready(port, False, proxy)
            yield port, node
    finally:
        node.release.set()
        node.shutdown()
        node.server_close()


def send(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    s.sendall(b"GET /api/v1/offers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    return s


def read_all(s: socket.socket) -> bytes:
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, body


def test_a_full_queue_is_answered_at_once_with_503_and_retry_after(balancer):
    port, node = balancer
    admitted = []
    for _ in range(SERVED):
        admitted.append(send(port))
    for _ in range(SERVED):  # the node holds these
        assert node.held.acquire(timeout=GUARD)
    admitted += [send(port) for _ in range(QUEUED)]
    extra = [send(port) for _ in range(EXTRA)]
    everyone = admitted + extra
    answered: list[socket.socket] = []
    while len(answered) < EXTRA:
        ready, _, _ = select.select([s for s in everyone if s not in answered], [], [], GUARD)
        assert ready, f"only {len(answered)} of {EXTRA} requests past the queue were answered"
        answered += ready
    # exactly the requests past the bounded queue were answered, while the node still holds
    # the others; each with the envelope, Retry-After and the wait in milliseconds
    assert len(answered) == EXTRA
    for s in answered:
        status, headers, body = parse(read_all(s))
        assert status == 503
        assert int(headers["retry-after"]) >= 1
        assert headers["content-type"] == "application/json"
        error = json.loads(body)["error"]
        assert error["code"] == "service_unavailable"
        assert error["detail"]["retry_after_ms"] == 1000 * int(headers["retry-after"])
        assert error["detail"]["reason"] == "overloaded"
    waiting = [s for s in everyone if s not in answered]
    assert len(waiting) == SERVED + QUEUED
    assert not select.select(waiting, [], [], 0)[0]
    # the node answers: every admitted request is served
    node.release.set()
    for s in waiting:
        status, _headers, _body = parse(read_all(s))
        assert status == 200
        s.close()
    for s in answered:
        s.close()


@pytest.mark.parametrize("balancer", ["200ms"], indirect=True)
def test_a_request_queued_past_the_queue_timeout_is_shed_while_the_node_still_holds(balancer):
    """The queue bounds the wait as well as the length: a request that found room in the
    queue but no free worker within `timeout queue` is answered by the balancer with the
    503 envelope and Retry-After, while the node still holds the admitted ones (nothing
    here is timed: the node holds them until the test lets go)."""
    port, node = balancer
    admitted = [send(port) for _ in range(SERVED)]
    for _ in range(SERVED):
        assert node.held.acquire(timeout=GUARD)
    queued = send(port)
    ready, _, _ = select.select([queued, *admitted], [], [], GUARD)
    assert ready == [queued], "the queued request was not answered while the node held"
    status, headers, body = parse(read_all(queued))
    assert status == 503 and int(headers["retry-after"]) >= 1
    error = json.loads(body)["error"]
    assert error["code"] == "service_unavailable"
    assert error["detail"]["retry_after_ms"] == 1000 * int(headers["retry-after"])
    node.release.set()
    for s in admitted:
        assert parse(read_all(s))[0] == 200
        s.close()
    queued.close()


def test_the_queue_timeout_answer_carries_retry_after_too():
    """A request that waited `timeout queue` out (or found no node up) gets HAProxy's 503
    errorfile: the same envelope and Retry-After."""
    status, headers, body = parse((ROOT / "deploy/haproxy/errors/503.http").read_bytes())
    assert status == 503 and int(headers["retry-after"]) >= 1
    error = json.loads(body)["error"]
    assert error["code"] == "service_unavailable"
    assert error["detail"]["retry_after_ms"] == 1000 * int(headers["retry-after"])
