"""One signed POST with retries, for the peers that speak the partner protocol
(docs/partner-credit-api.md): the SMS gateway and the identity provider.

Timeouts, refused connections and 5xx answers are retried with exponential backoff; any
other answer is returned for the caller to verify and read."""

from __future__ import annotations

import logging
import time

import requests

from accounts.credit import protocol

logger = logging.getLogger(__name__)


class Unreachable(Exception):
    """The peer gave no usable answer after every attempt."""


def post_signed(
    session: requests.Session,
    url: str,
    body: bytes,
    *,
    app_key: str,
    app_secret: str,
    timeout: float,
    retries: int,
    backoff: float,
    who: object,
) -> tuple[requests.Response, str, str]:
    """(response, signed path, request nonce) of the first answer below 500."""
    problem = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        prepared = session.prepare_request(requests.Request("POST", url, data=body))
        path = prepared.path_url
        headers = protocol.sign_request(app_key, app_secret, "POST", path, body)
        prepared.headers.update(headers)
        prepared.headers["Content-Type"] = "application/json"
        try:
            response = session.send(prepared, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            problem = type(exc).__name__
        except requests.RequestException as exc:
            raise Unreachable(str(exc)) from exc
        else:
            if response.status_code < 500:
                return response, path, headers[protocol.H_NONCE]
            problem = f"HTTP {response.status_code}"
        logger.info("%s: attempt %d failed: %s", who, attempt + 1, problem)
    raise Unreachable(f"{problem} after {retries + 1} attempt(s)")
