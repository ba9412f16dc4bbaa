"""The one signed HTTP transport of every partner: personal credit, enterprise credit,
identity and SMS (docs/partner-credit-api.md "Signing", spoken by all four).

Every request is signed anew (fresh timestamp and nonce, so a retry is never a replay);
timeouts, refused connections and 5xx answers are retried with exponential backoff
(``backoff * 2**(attempt - 1)`` seconds before each of ``retries`` extra attempts); any
other answer is returned, never retried, for the caller to read. An answer counts only
once authenticated: signature, the echo of our nonce, a timestamp within ``max_skew``.
Streamed lists (NDJSON with a signed trailer) are checked line by line and at the end.

What a failure means for a partner (an audit outcome, a 503, a breaker's count) is the
caller's: everything here raises ``PartnerUnavailable``, which each client translates
into its own error. No Django here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import requests

from core import partner_protocol as protocol

logger = logging.getLogger(__name__)

NDJSON_CHUNK = 64 * 1024


class PartnerUnavailable(Exception):
    """No usable answer from the partner: decide nothing, try again later."""


class Unreachable(PartnerUnavailable):
    """No answer below 500 after every attempt (timeouts, refused connections, 5xx), or a
    request that could not be sent at all."""


class Refused(PartnerUnavailable):
    """An answer that does not authenticate (signature, nonce, timestamp, list trailer)."""


@dataclass(frozen=True)
class Answer:
    """The partner's answer (status below 500) to one signed request, not yet
    authenticated: ``path`` is the request target we signed, ``nonce`` ours, which an
    authentic answer echoes."""

    response: requests.Response
    path: str
    nonce: str

    @property
    def status(self) -> int:
        return self.response.status_code

    def error_code(self) -> str:
        """The ``error`` of a JSON error body, or ""."""
        try:
            data = self.response.json()
        except ValueError:
            return ""
        return str(data.get("error", "")) if isinstance(data, dict) else ""


class Signer(requests.auth.AuthBase):
    """requests' authentication hook for the partner protocol: signs the prepared request
    (method, target as sent, body) with ``X-App-Key``, ``X-Timestamp``, ``X-Nonce`` and
    ``X-Signature``; each preparation gets a fresh timestamp and nonce."""

    def __init__(self, app_key: str, app_secret: str | bytes) -> None:
        self.app_key = app_key
        self.app_secret = app_secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):  # PartnerClient.send only ever sends bytes
            raise TypeError("a partner request's body must be bytes")
        request.headers.update(
            protocol.sign_request(
                self.app_key, self.app_secret, request.method or "GET", request.path_url, body
            )
        )
        return request


def _nonce_of(prepared: requests.PreparedRequest) -> str:
    """The nonce the Signer put in (a str; the stubs allow a header to be bytes)."""
    nonce = prepared.headers[protocol.H_NONCE]
    return nonce.decode() if isinstance(nonce, bytes) else nonce


class PartnerClient:
    """The client of one partner's signed HTTP API at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
        name: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_secret = app_secret
        self.signer = Signer(app_key, app_secret)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.session = session or requests.Session()
        self.max_skew = max_skew
        self.name = name or self.base_url

    def __repr__(self) -> str:
        return f"<PartnerClient {self.name} {self.base_url}>"

    # -- sending

    def send(
        self, method: str, endpoint: str, body: bytes = b"", *, stream: bool = False
    ) -> Answer:
        """Sign and send one request (retried as the module says); the first answer below
        500. Raises Unreachable."""
        request = requests.Request(
            method,
            self.base_url + endpoint,
            data=body or None,
            headers={"Content-Type": "application/json"} if body else {},
            auth=self.signer,
        )
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            prepared = self.session.prepare_request(request)  # signed anew: a fresh nonce
            try:
                response = self.session.send(prepared, timeout=self.timeout, stream=stream)
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = type(exc).__name__
            except requests.RequestException as exc:
                raise Unreachable(str(exc)) from exc
            else:
                if response.status_code < 500:
                    return Answer(response, prepared.path_url, _nonce_of(prepared))
                problem = f"HTTP {response.status_code}"
                response.close()
            logger.info("%s: attempt %d failed: %s", self.name, attempt + 1, problem)
        raise Unreachable(f"{problem} after {self.retries + 1} attempt(s)")

    def post_json(self, endpoint: str, payload: dict[str, Any]) -> Answer:
        """POST ``payload`` as compact UTF-8 JSON (see ``send``)."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return self.send("POST", endpoint, body)

    # -- reading

    def authenticate(self, answer: Answer, *, body_hash: str | None = None) -> None:
        """Check the answer's signature over its whole body (or over ``body_hash``), the
        echo of our nonce and its timestamp. Raises Refused (and closes the answer)."""
        response = answer.response
        try:
            protocol.verify_response(
                self.app_secret,
                response.status_code,
                answer.path,
                answer.nonce,
                response.headers,
                b"" if body_hash is not None else response.content,
                body_hash=body_hash,
                max_skew=self.max_skew,
            )
        except protocol.SignatureError as exc:
            response.close()
            raise Refused(f"answer refused ({exc}, HTTP {response.status_code})") from exc

    def authentic_json(self, answer: Answer) -> Any:
        """The answer's JSON body once authenticated. Raises Refused, or
        PartnerUnavailable if the authentic body is not JSON."""
        self.authenticate(answer)
        try:
            return json.loads(answer.response.content)
        except ValueError as exc:
            raise PartnerUnavailable(f"malformed JSON (HTTP {answer.status})") from exc

    def stream(self, endpoint: str) -> Generator[dict[str, Any], None, None]:
        """GET a streamed list and yield its items (JSON objects), as they arrive.

        The headers are signed over ``STREAMING-NDJSON`` and checked before any line is
        read; the last line is a signed trailer carrying the item count and the SHA-256 of
        every byte before it, checked after the last item. A missing, wrong or
        unauthenticated trailer raises Refused after the items were yielded: a consumer
        stages what it receives and applies it only when the iterator ends normally.
        """
        answer = self.send("GET", endpoint, stream=True)
        response = answer.response
        with response:
            if answer.status != 200:
                raise PartnerUnavailable(f"list HTTP {answer.status}")
            self.authenticate(answer, body_hash=protocol.STREAMING_BODY)
            timestamp = response.headers[protocol.H_TIMESTAMP]
            running = hashlib.sha256()
            count = 0
            trailer: dict[str, Any] | None = None
            try:
                for line in response.iter_lines(chunk_size=NDJSON_CHUNK, delimiter=b"\n"):
                    if not line:
                        continue  # iter_lines yields an empty piece at chunk boundaries
                    if trailer is not None:
                        raise Refused("data after the trailer")
                    try:
                        item = json.loads(line)
                    except ValueError as exc:
                        raise PartnerUnavailable("malformed line") from exc
                    if not isinstance(item, dict):
                        raise PartnerUnavailable("malformed line")
                    if item.get("kind") == "trailer":
                        trailer = item
                        continue
                    running.update(line + b"\n")
                    if item.get("kind") == "header":
                        continue
                    count += 1
                    yield item
            except requests.RequestException as exc:
                raise Unreachable(f"list stream broke: {exc}") from exc
        if trailer is None:
            raise Refused("list truncated (no trailer)")
        digest = running.hexdigest()
        try:
            if trailer.get("count") != count or trailer.get("sha256") != digest:
                raise protocol.SignatureError("bad_signature", "count or digest mismatch")
            protocol.verify_stream_trailer(
                self.app_secret,
                answer.path,
                timestamp,
                answer.nonce,
                count,
                digest,
                str(trailer.get("signature", "")),
            )
        except protocol.SignatureError as exc:
            raise Refused(f"list trailer refused ({exc})") from exc
