"""A real local HTTP server that speaks the partner open-platform protocol
(docs/partner-credit-api.md), with switchable failure modes for the clients' tests.

It serves personal credit (query, dishonest list, honours) and enterprise credit (query,
graded list); ``routes`` adds any other signed POST endpoint, ``path -> handler(body:
dict) -> (status, dict)`` (the identity service, the SMS gateway), so one server checks
the signatures of all four partners' requests.

Modes: ``normal``, ``slow`` (sleeps ``slow_seconds`` before answering), ``error500``,
``malformed_json``, ``bad_signature`` (signs with a wrong secret), ``stale_timestamp``,
``future_timestamp``, ``not_found``, ``truncated_list`` (list without its trailer),
``tampered_list`` (an item altered after the trailer was computed), ``wrong_person``
(a correctly signed answer about another person hash), ``unsigned`` (JSON answers carry
no signature headers). ``fail_next = n`` answers the next ``n`` requests with 500
whatever the mode. ``requests_received`` counts every request that reached the server,
``unauthorized`` those refused for their signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from accounts.credit.providers import DISHONEST_LIST_PATH, HONOURS_PATH, QUERY_PATH
from core import partner_protocol as protocol
from merchants.credit.providers import LIST_PATH as ENTERPRISE_LIST_PATH
from merchants.credit.providers import QUERY_PATH as ENTERPRISE_QUERY_PATH

MODES = {
    "normal",
    "slow",
    "error500",
    "malformed_json",
    "bad_signature",
    "stale_timestamp",
    "future_timestamp",
    "not_found",
    "truncated_list",
    "tampered_list",
    "wrong_person",
    "unsigned",
}


class PartnerServer:
    """The partner's open platform, on 127.0.0.1 and an ephemeral port."""

    def __init__(self, app_key: str = "xinyou-test", app_secret: str = "s3cret-test-key") -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.scheme = "钱江分"
        self.persons: dict[str, dict] = {}  # person hash -> {"score", "seriously_dishonest"}
        self.list_source: Callable[[], Iterable[str]] | None = None
        # enterprise credit (docs/partner-enterprise-credit-api.md): code -> answer fields,
        # served as stored (so a test can plant a malformed grade or code)
        self.enterprises: dict[str, dict] = {}
        # honour lists: items {"person_hash", "kind", "valid_until"}, served as stored
        self.honours: list[dict] = []
        self.routes: dict[str, Callable[[dict], tuple[int, dict]]] = {}
        self.received: list[dict] = []  # bodies of the authenticated requests to `routes`
        self.nonces = protocol.NonceCache()
        self._lock = threading.Lock()
        self.reset()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- control

    def reset(self) -> None:
        with self._lock:
            self.mode = "normal"
            self.slow_seconds = 1.5
            self.fail_next = 0
            self.requests_received = 0
            self.paths: list[str] = []
            self.unauthorized = 0
            self.received = []

    def set_mode(self, mode: str, *, slow_seconds: float | None = None) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        if slow_seconds is not None:
            self.slow_seconds = slow_seconds

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PartnerServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _count(self, path: str) -> bool:
        """Count a request; True if it must fail with 500 (``fail_next``)."""
        with self._lock:
            self.requests_received += 1
            self.paths.append(path)
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def list_hashes(self) -> Iterable[str]:
        if self.list_source is not None:
            return self.list_source()
        return [h for h, p in self.persons.items() if p.get("seriously_dishonest")]


def _make_handler(server: PartnerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        # -- response helpers

        def _sign(self, status: int, nonce: str, body: bytes, *, body_hash=None) -> dict:
            mode = server.mode
            secret = "not-the-shared-secret" if mode == "bad_signature" else server.app_secret
            ts = int(time.time())
            if mode == "stale_timestamp":
                ts -= 6 * 60
            elif mode == "future_timestamp":
                ts += 6 * 60
            return protocol.sign_response(
                server.app_key,
                secret,
                status,
                self.path,
                nonce,
                body,
                body_hash=body_hash,
                timestamp=ts,
            )

        def _send(self, status: int, body: bytes, nonce: str | None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if nonce and server.mode != "unsigned":
                    for name, value in self._sign(status, nonce, body).items():
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout): nothing to do

        def _json(self, status: int, data: dict, nonce: str | None) -> None:
            self._send(status, json.dumps(data, ensure_ascii=False).encode(), nonce)

        def _authenticate(self, body: bytes) -> str | None:
            """The request's nonce, or None after answering 401."""
            if self.headers.get(protocol.H_APP_KEY) != server.app_key:
                server.unauthorized += 1
                self._json(401, {"error": "unknown_app_key"}, None)
                return None
            try:
                nonce = protocol.verify_request(
                    server.app_secret, self.command, self.path, dict(self.headers), body
                )
            except protocol.SignatureError as exc:
                server.unauthorized += 1
                nonce = self.headers.get(protocol.H_NONCE) or None
                self._json(401, {"error": exc.reason}, nonce)
                return None
            if not server.nonces.add(nonce):
                server.unauthorized += 1
                self._json(401, {"error": "replayed_nonce"}, nonce)
                return None
            return nonce

        def _common(self, body: bytes) -> str | None:
            if server._count(self.path):
                self._json(500, {"error": "internal"}, None)
                return None
            nonce = self._authenticate(body)
            if nonce is None:
                return None
            if server.mode == "slow":
                time.sleep(server.slow_seconds)
            if server.mode == "error500":
                self._json(500, {"error": "internal"}, None)
                return None
            return nonce

        # -- endpoints

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            nonce = self._common(body)
            if nonce is None:
                return
            if self.path == ENTERPRISE_QUERY_PATH:
                self._enterprise_query(body, nonce)
                return
            if self.path in server.routes:
                self._route(server.routes[self.path], body, nonce)
                return
            if self.path != QUERY_PATH:
                self._json(404, {"error": "no_such_endpoint"}, nonce)
                return
            try:
                request = json.loads(body)
                digest = request["person_hash"]
                assert protocol.is_person_hash(digest)
                assert request["purpose"] and request["consent_id"] and request["request_id"]
            except (ValueError, KeyError, TypeError, AssertionError):
                self._json(400, {"error": "bad_request"}, nonce)
                return
            if server.mode == "malformed_json":
                self._send(200, b'{"person_hash": "' + digest.encode() + b'", "score": ', nonce)
                return
            person = server.persons.get(digest)
            if person is None or server.mode == "not_found":
                self._json(404, {"error": "person_not_found"}, nonce)
                return
            if server.mode == "wrong_person":
                digest = "e" * 64
            self._json(
                200,
                {
                    "person_hash": digest,
                    "score": person.get("score"),
                    **({"grade": person["grade"]} if "grade" in person else {}),
                    "seriously_dishonest": bool(person.get("seriously_dishonest")),
                    "scheme": server.scheme,
                    "queried_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "request_id": request["request_id"],
                    "query_id": f"q-{uuid.uuid4().hex}",
                },
                nonce,
            )

        def _route(self, handler: Callable[[dict], tuple[int, dict]], body: bytes, nonce: str):
            try:
                request = json.loads(body)
                assert isinstance(request, dict)
            except (ValueError, AssertionError):
                self._json(400, {"error": "bad_request"}, nonce)
                return
            server.received.append(request)
            status, answer = handler(request)
            self._json(status, answer, nonce)

        def _enterprise_query(self, body: bytes, nonce: str) -> None:
            try:
                request = json.loads(body)
                code = request["credit_code"]
                assert isinstance(code, str) and request["purpose"] and request["request_id"]
            except (ValueError, KeyError, TypeError, AssertionError):
                self._json(400, {"error": "bad_request"}, nonce)
                return
            entry = server.enterprises.get(code)
            if entry is None or server.mode == "not_found":
                self._json(404, {"error": "enterprise_not_found"}, nonce)
                return
            answer = {"credit_code": code, **entry, "request_id": request["request_id"]}
            self._json(200, {**answer, "query_id": f"e-{uuid.uuid4().hex}"}, nonce)

        def do_GET(self) -> None:
            nonce = self._common(b"")
            if nonce is None:
                return
            path = self.path.split("?")[0]
            if path == ENTERPRISE_LIST_PATH:
                items = ({"credit_code": c, **e} for c, e in server.enterprises.items())
            elif path == HONOURS_PATH:
                items = iter(server.honours)
            elif path == DISHONEST_LIST_PATH:
                items = ({"person_hash": h} for h in server.list_hashes())
            else:
                self._json(404, {"error": "no_such_endpoint"}, nonce)
                return
            headers = self._sign(200, nonce, b"", body_hash=protocol.STREAMING_BODY)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self._stream(headers[protocol.H_TIMESTAMP], nonce, items)
            except OSError:
                pass

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        def _stream(self, timestamp: str, nonce: str, items: Iterable[dict]) -> None:
            running = hashlib.sha256()
            buffer: list[bytes] = []
            generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            header = json.dumps({"kind": "header", "generated_at": generated}).encode() + b"\n"
            running.update(header)
            buffer.append(header)
            count = 0
            for item in items:
                line = json.dumps(item, ensure_ascii=False).encode() + b"\n"
                running.update(line)
                if server.mode == "tampered_list" and count == 0:
                    line = json.dumps({**item, "person_hash": "f" * 64}).encode() + b"\n"
                buffer.append(line)
                count += 1
                if len(buffer) >= 512:
                    self._chunk(b"".join(buffer))
                    buffer.clear()
            if server.mode != "truncated_list":
                digest = running.hexdigest()
                signature = protocol.sign_stream_trailer(
                    server.app_secret, self.path, timestamp, nonce, count, digest
                )
                trailer = {"kind": "trailer", "count": count, "sha256": digest}
                trailer["signature"] = signature
                buffer.append(json.dumps(trailer).encode() + b"\n")
            if buffer:
                self._chunk(b"".join(buffer))
            self.wfile.write(b"0\r\n\r\n")

    return Handler
