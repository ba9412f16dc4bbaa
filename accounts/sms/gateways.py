"""SMS gateways: one interface, the sandbox (an outbox table) and a signed HTTP client.

The HTTP gateway speaks the partner protocol (docs/sms-gateway-api.md) through the one
signed transport (``core.partner_http``): every request signed with the application
secret, every answer authenticated (signature, echoed nonce, timestamp), timeouts and 5xx
retried with exponential backoff, 4xx and unauthenticated answers never retried.
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol, runtime_checkable

import requests

from core import partner_protocol as protocol
from core.partner_http import Answer, PartnerClient, PartnerUnavailable

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

    def send_notice(self, *, phone: str, kind: str, text: str, request_id: str) -> str:
        """Send a notice to a resident (accounts.notices); `request_id` is the same on
        every try of one message. Return the gateway's message reference."""
        ...


class SandboxGateway:
    """Sends nothing: keeps each message in the database outbox (SmsOutboxMessage), where
    the demo, the admin and `manage.py sms_outbox` read it."""

    def send_code(self, *, phone: str, code: str, minutes: int, text: str) -> str:
        from .models import SmsOutboxMessage

        message = SmsOutboxMessage.objects.create(phone=phone, text=text[:300])
        logger.info("sandbox sms queued in the outbox id=%s", message.pk)
        return f"sandbox-{message.pk}"

    def send_notice(self, *, phone: str, kind: str, text: str, request_id: str) -> str:
        from .models import SmsOutboxMessage

        message = SmsOutboxMessage.objects.create(phone=phone, text=text[:300])
        logger.info("sandbox notice sms queued in the outbox id=%s", message.pk)
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
        notice_template: str = "notice",
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
    ) -> None:
        self.sign_name = sign_name
        self.template = template
        self.notice_template = notice_template
        self.http = PartnerClient(
            base_url,
            app_key,
            app_secret,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            session=session,
            max_skew=max_skew,
            name="sms",
        )

    def __repr__(self) -> str:
        return f"<HttpGateway {self.http.base_url}>"

    def send_code(self, *, phone: str, code: str, minutes: int, text: str) -> str:
        return self._send(phone, self.template, {"code": code, "minutes": minutes})

    def _send(self, phone: str, template: str, params: dict) -> str:
        request_id = uuid.uuid4().hex
        payload = {
            "phone": phone,
            "sign_name": self.sign_name,
            "template": template,
            "params": params,
            "request_id": request_id,
        }
        try:
            answer = self.http.post_json(SEND_PATH, payload)
            return self._accept(answer, request_id)
        except PartnerUnavailable as exc:
            raise SmsUnavailable(str(exc)) from exc

    def send_notice(self, *, phone: str, kind: str, text: str, request_id: str) -> str:
        """A notice: the template `notice_template` with the kind and the whole text; the
        request id is the message's own (the gateway takes a repeat as the same message)."""
        payload = {
            "phone": phone,
            "sign_name": self.sign_name,
            "template": self.notice_template,
            "params": {"kind": kind, "text": text},
            "request_id": request_id,
        }
        try:
            answer = self.http.post_json(SEND_PATH, payload)
            return self._accept(answer, request_id)
        except PartnerUnavailable as exc:
            raise SmsUnavailable(str(exc)) from exc

    def _accept(self, answer: Answer, request_id: str) -> str:
        if answer.status != 200:
            raise SmsUnavailable(f"HTTP {answer.status} {answer.response.text[:100]}")
        data = self.http.authentic_json(answer)
        if not isinstance(data, dict) or data.get("request_id") != request_id:
            raise SmsUnavailable("malformed answer")
        return str(data.get("message_id") or request_id)
