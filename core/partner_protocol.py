"""The partner protocol (docs/partner-credit-api.md "Signing"): signing and verification
of requests and responses, and the alliance's person hash. All four partners speak it
(personal credit, enterprise credit, identity, SMS); `core.partner_http` sends it.

Pure Python (no Django, no network). Both directions sign the same five-line string::

    request:   METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n BODY_SHA256
    response:  STATUS \\n PATH \\n TIMESTAMP \\n NONCE \\n BODY_SHA256

``X-Signature = base64(HMAC-SHA256(app_secret, that string))``. PATH is the request
target as sent on the wire (path plus ``?query``); a response repeats the PATH of the
request it answers and echoes its NONCE, so a signed response cannot be replayed as the
answer to another request. BODY_SHA256 is the lower-case hex SHA-256 of the body bytes
(of the empty string when there is no body), or the literal ``STREAMING-NDJSON`` for a
streamed list whose integrity is carried by its signed trailer line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping
from typing import TypeGuard

MAX_SKEW_SECONDS = 300
STREAMING_BODY = "STREAMING-NDJSON"

H_APP_KEY = "X-App-Key"
H_TIMESTAMP = "X-Timestamp"
H_NONCE = "X-Nonce"
H_SIGNATURE = "X-Signature"

_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_PERSON_HASH = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[0-9a-f]{16,64}$")


class SignatureError(Exception):
    """A request or response failed authentication; ``reason`` is a stable code:
    ``missing_headers``, ``bad_timestamp``, ``stale_timestamp``, ``future_timestamp``,
    ``bad_nonce``, ``nonce_mismatch``, ``replayed_nonce``, ``unknown_app_key``,
    ``bad_signature``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def person_hash(key: str | bytes, id_number: str) -> str:
    """The alliance's keyed person hash: hex(HMAC-SHA256(key, normalized ID number)).

    Normalized: stripped, 18 characters, upper-case X. Identical to
    ``accounts.identity.id_hash`` for a normalized number. ValueError if not ID-shaped.
    """
    normalized = (id_number or "").strip().upper()
    if not _ID_SHAPE.match(normalized):
        raise ValueError("an ID number is 17 digits and a digit or X")
    return hmac.new(_key(key), normalized.encode(), hashlib.sha256).hexdigest()


def is_person_hash(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(_PERSON_HASH.match(value))


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def _canonical(first: str, path: str, timestamp: str, nonce: str, body_hash: str) -> bytes:
    return "\n".join((first, path, timestamp, nonce, body_hash)).encode()


def _sign(secret: str | bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _check_time(timestamp: str, now: float | None, max_skew: int) -> None:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("bad_timestamp", repr(timestamp)) from None
    now = time.time() if now is None else now
    if ts < now - max_skew:
        raise SignatureError("stale_timestamp", f"{int(now - ts)} s old")
    if ts > now + max_skew:
        raise SignatureError("future_timestamp", f"{int(ts - now)} s ahead")


def _check_signature(secret: str | bytes, message: bytes, given: str) -> None:
    expected = _sign(secret, message)
    if not hmac.compare_digest(expected.encode(), (given or "").encode()):
        raise SignatureError("bad_signature")


def _required(h: dict[str, str], *names: str) -> list[str]:
    values = [h.get(n.lower(), "") for n in names]
    if not all(values):
        raise SignatureError("missing_headers", ", ".join(names))
    return values


def sign_request(
    app_key: str,
    app_secret: str | bytes,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers that authenticate a request (``X-App-Key``, ``X-Timestamp``, ``X-Nonce``,
    ``X-Signature``). ``path`` is the request target: path plus ``?query``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    message = _canonical(method.upper(), path, ts, nonce, body_sha256(body))
    return {
        H_APP_KEY: app_key,
        H_TIMESTAMP: ts,
        H_NONCE: nonce,
        H_SIGNATURE: _sign(app_secret, message),
    }


def verify_request(
    app_secret: str | bytes,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Check a request's signature and timestamp; return its nonce.

    Raises SignatureError. Replay protection is the caller's: remember the returned nonce
    for at least ``2 * max_skew`` seconds (``NonceCache``, or Redis ``SET NX EX``) and
    refuse it a second time.
    """
    h = _headers(headers)
    ts, nonce, signature = _required(h, H_TIMESTAMP, H_NONCE, H_SIGNATURE)
    if not _NONCE.match(nonce):
        raise SignatureError("bad_nonce")
    _check_time(ts, now, max_skew)
    _check_signature(
        app_secret, _canonical(method.upper(), path, ts, nonce, body_sha256(body)), signature
    )
    return nonce


def sign_response(
    app_key: str,
    app_secret: str | bytes,
    status: int,
    path: str,
    request_nonce: str,
    body: bytes = b"",
    *,
    body_hash: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers that authenticate a response to the request (``path``, ``request_nonce``).

    Pass ``body_hash=STREAMING_BODY`` for a streamed list (then ``body`` is ignored).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = body_hash if body_hash is not None else body_sha256(body)
    message = _canonical(str(int(status)), path, ts, request_nonce, digest)
    return {
        H_APP_KEY: app_key,
        H_TIMESTAMP: ts,
        H_NONCE: request_nonce,
        H_SIGNATURE: _sign(app_secret, message),
    }


def verify_response(
    app_secret: str | bytes,
    status: int,
    path: str,
    request_nonce: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    body_hash: str | None = None,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> int:
    """Check a response's signature, freshness and that it answers our request (echoed
    nonce). Return its timestamp. Raises SignatureError."""
    h = _headers(headers)
    ts, nonce, signature = _required(h, H_TIMESTAMP, H_NONCE, H_SIGNATURE)
    if not hmac.compare_digest(nonce.encode(), request_nonce.encode()):
        raise SignatureError("nonce_mismatch")
    _check_time(ts, now, max_skew)
    digest = body_hash if body_hash is not None else body_sha256(body)
    _check_signature(app_secret, _canonical(str(int(status)), path, ts, nonce, digest), signature)
    return int(ts)


def _trailer_message(path: str, timestamp: str, nonce: str, count: int, digest: str) -> bytes:
    return "\n".join(("TRAILER", path, timestamp, nonce, str(count), digest)).encode()


def sign_stream_trailer(
    app_secret: str | bytes, path: str, timestamp: str, nonce: str, count: int, digest: str
) -> str:
    """Signature of a streamed list's trailer: binds the item count and the SHA-256 of
    every body byte before the trailer line to the response's timestamp and nonce."""
    return _sign(app_secret, _trailer_message(path, timestamp, nonce, count, digest))


def verify_stream_trailer(
    app_secret: str | bytes,
    path: str,
    timestamp: str,
    nonce: str,
    count: int,
    digest: str,
    signature: str,
) -> None:
    _check_signature(app_secret, _trailer_message(path, timestamp, nonce, count, digest), signature)


class NonceCache:
    """Remembers nonces for ``ttl`` seconds, thread-safe, in memory: for tests and
    single-process servers. A multi-process server uses Redis ``SET nonce 1 NX EX ttl``."""

    def __init__(self, ttl: int = 2 * MAX_SKEW_SECONDS) -> None:
        self.ttl = ttl
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, nonce: str) -> bool:
        """Remember ``nonce``; False if it was already seen (a replay)."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {n: t for n, t in self._seen.items() if t > now}
            expires = self._seen.get(nonce)
            if expires is not None and expires > now:
                return False
            self._seen[nonce] = now + self.ttl
            return True
