"""A local SMS gateway for the notices tests: the suite's partner server
(tests/credit/partner_server.py, the signed protocol) on its own port, answering
/open/v1/sms/send, and able to go down and come back on the same port."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

from accounts.sms.gateways import SEND_PATH
from tests.credit.partner_server import PartnerServer, _make_handler


class SmsGatewayServer(PartnerServer):
    def __init__(self) -> None:
        super().__init__()
        self.routes[SEND_PATH] = self._send
        self.running = False

    def _send(self, body: dict) -> tuple[int, dict]:
        return 200, {"request_id": body["request_id"], "message_id": f"m-{body['request_id']}"}

    def start(self) -> SmsGatewayServer:
        super().start()
        self.running = True
        return self

    def stop(self) -> None:
        super().stop()
        self.running = False

    def restart(self) -> None:
        """Serve again on the same port (a gateway back after an outage)."""
        port = self.httpd.server_address[1]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        self.running = True

    def settings(self, **extra: object) -> dict:
        return {
            "kind": "http",
            "base_url": self.base_url,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "timeout": 1.0,
            "retries": 0,
            "backoff": 0.01,
            **extra,
        }

    def sent_request_ids(self) -> list[str]:
        return [b["request_id"] for b in self.received if b.get("template") == "notice"]
