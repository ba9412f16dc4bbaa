"""SMS gateways: one interface, the sandbox (an outbox table) and a signed HTTP client.

The HTTP gateway speaks the partner protocol's signing (accounts/credit/protocol.py,
docs/sms-gateway-api.md): every request signed with the application secret, every answer
authenticated (signature, echoed nonce, timestamp), timeouts and 5xx retried with
exponential backoff, 4xx and unauthenticated answers never retried.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Protocol, runtime_checkable

import requests

from accounts.credit import protocol
from accounts.signed_http import Unreachable, post_signed

logger = logging.getLogger(__name__)

SEND_PATH = "/open/v1/sms/send"


class SmsUnavailable(Exception):
    """The message could not be handed to the gateway (timeouts, 5xx after retries,
    refused or unauthenticated answers)."""


@runtime_checkable
class SmsGateway(Protocol):
    def send_code(self, *, phone: str, code: str, minutes: int, text: str) -> str:
        """Send a verification code; return the gateway's message reference."""
        ...


class SandboxGateway:
    """Sends nothing: keeps each message in the database outbox (SmsOutboxMessage), where
    the demo, the admin and `manage.py sms_outbox` read it."""

    def send_code(self, *, phone: str, code: str, minutes: int, text: str) -> str:
        from .models import SmsOutboxMessage

        message = SmsOutboxMessage.objects.create(phone=phone, text=text[:300])
        logger.info("sandbox sms queued in the outbox id=%s", message.pk)
        return f"sandbox-{message.pk}"


class HttpGateway:
    """Client of an SMS provider's signed HTTP API (docs/sms-gateway-api.md)."""

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        *,
        sign_name: str = "信游",
        template: str = "verification_code",
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_key = app_key
        self.app_secret = app_secret
        self.sign_name = sign_name
        self.template = template
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.session = session or requests.Session()
        self.max_skew = max_skew

    def __repr__(self) -> str:
        return f"<HttpGateway {self.base_url}>"

    def send_code(self, *, phone: str, code: str, minutes: int, text: str) -> str:
        request_id = uuid.uuid4().hex
        body = json.dumps(
            {
                "phone": phone,
                "sign_name": self.sign_name,
                "template": self.template,
                "params": {"code": code, "minutes": minutes},
                "request_id": request_id,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        url = self.base_url + SEND_PATH
        try:
            response, path, nonce = post_signed(
                self.session,
                url,
                body,
                app_key=self.app_key,
                app_secret=self.app_secret,
                timeout=self.timeout,
                retries=self.retries,
                backoff=self.backoff,
                who=self,
            )
        except Unreachable as exc:
            raise SmsUnavailable(str(exc)) from exc
        return self._accept(response, path, nonce, request_id)

    def _accept(self, response: requests.Response, path: str, nonce: str, request_id: str) -> str:
        if response.status_code != 200:
            raise SmsUnavailable(f"HTTP {response.status_code} {response.text[:100]}")
        try:
            protocol.verify_response(
                self.app_secret,
                response.status_code,
                path,
                nonce,
                response.headers,
                response.content,
                max_skew=self.max_skew,
            )
        except protocol.SignatureError as exc:
            raise SmsUnavailable(f"answer refused ({exc})") from exc
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            raise SmsUnavailable("malformed JSON") from exc
        if not isinstance(data, dict) or data.get("request_id") != request_id:
            raise SmsUnavailable("malformed answer")
        return str(data.get("message_id") or request_id)
