"""A real local HTTP server speaking the partner protocol's signing (docs/partner-credit-
api.md "Signing"): for the SMS gateway and identity provider clients' tests.

`routes` maps a POST path to `handler(body: dict) -> (status, dict)`. Modes: `normal`,
`error500`, `bad_signature` (answers signed with a wrong secret), `slow` (sleeps
`slow_seconds`), `unsigned`. `fail_next = n` answers the next n requests with 500.
`received` keeps every authenticated request body.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core import partner_protocol as protocol

Handler = Callable[[dict], tuple[int, dict]]


class SignedServer:
    def __init__(
        self, routes: dict[str, Handler], app_key: str = "xinyou-test", app_secret: str = "s3cret"
    ) -> None:
        self.routes = routes
        self.app_key = app_key
        self.app_secret = app_secret
        self.mode = "normal"
        self.fail_next = 0
        self.slow_seconds = 1.0
        self.hits = 0
        self.received: list[dict] = []
        self.nonces = protocol.NonceCache()
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> SignedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: SignedServer):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, payload: dict, nonce: str, *, sign: bool = True) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if sign and nonce:
                secret = "wrong-secret" if server.mode == "bad_signature" else server.app_secret
                for k, v in protocol.sign_response(
                    server.app_key, secret, status, self.path, nonce, body
                ).items():
                    self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with server._lock:
                server.hits += 1
                failing = server.fail_next > 0
                if failing:
                    server.fail_next -= 1
            if failing or server.mode == "error500":
                self._send(500, {"error": "internal"}, "", sign=False)
                return
            if server.mode == "slow":
                time.sleep(server.slow_seconds)
            try:
                if self.headers.get(protocol.H_APP_KEY) != server.app_key:
                    raise protocol.SignatureError("unknown_app_key")
                nonce = protocol.verify_request(
                    server.app_secret, "POST", self.path, dict(self.headers), body
                )
                if not server.nonces.add(nonce):
                    raise protocol.SignatureError("replayed_nonce")
            except protocol.SignatureError as exc:
                self._send(401, {"error": exc.reason}, "", sign=False)
                return
            route = server.routes.get(self.path)
            if route is None:
                self._send(404, {"error": "no_such_endpoint"}, nonce)
                return
            try:
                data = json.loads(body)
            except ValueError:
                self._send(400, {"error": "bad_request"}, nonce)
                return
            server.received.append(data)
            status, payload = route(data)
            self._send(status, payload, nonce, sign=server.mode != "unsigned")

    return H
