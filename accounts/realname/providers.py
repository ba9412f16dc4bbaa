"""Identity providers: is this name the name of the holder of this ID number?

One interface, a sandbox (the fictional persons of accounts/credit/sandbox_persons.json)
and a signed HTTP client (docs/identity-api.md, the partner protocol's signing). Persons
travel as the alliance's keyed person hash, never as a plain ID number.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import requests

from core import partner_protocol as protocol
from core.partner_http import Answer, PartnerClient, PartnerUnavailable

VERIFY_PATH = "/open/v1/identity/verify"
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·", ".": "·"})


def normalize_name(name: str) -> str:
    """Compare names as people write them: NFKC, no spaces, one kind of middle dot."""
    value = unicodedata.normalize("NFKC", name or "").translate(_DOTS)
    return "".join(value.split())


@dataclass(frozen=True)
class IdentityAnswer:
    matches: bool
    known: bool  # the provider holds a record of this person
    reference: str


class IdentityUnavailable(Exception):
    """No usable answer (timeouts, 5xx after retries, refused or unauthenticated answers)."""


@runtime_checkable
class IdentityProvider(Protocol):
    name: str

    def verify(self, *, person_hash: str, real_name: str) -> IdentityAnswer: ...


class SandboxIdentityProvider:
    """Knows the sandbox persons by name; any name matches an ID number it does not list."""

    name = "sandbox"

    def __init__(self, persons_file: str | Path, id_key: str | bytes) -> None:
        raw = json.loads(Path(persons_file).read_text(encoding="utf-8"))
        self._names = {
            protocol.person_hash(id_key, id_number): normalize_name(entry["name"])
            for id_number, entry in raw.items()
            if not id_number.startswith("_") and entry.get("name")
        }

    def verify(self, *, person_hash: str, real_name: str) -> IdentityAnswer:
        reference = f"sandbox-{uuid.uuid4().hex}"
        known = self._names.get(person_hash)
        if known is None:
            return IdentityAnswer(matches=True, known=False, reference=reference)
        return IdentityAnswer(normalize_name(real_name) == known, True, reference)


class HttpIdentityProvider:
    """Client of an identity service's signed HTTP API (docs/identity-api.md), through
    the one signed transport (``core.partner_http``)."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        *,
        timeout: float = 3.0,
        retries: int = 2,
        backoff: float = 0.2,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
    ) -> None:
        self.http = PartnerClient(
            base_url,
            app_key,
            app_secret,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            session=session,
            max_skew=max_skew,
            name="identity",
        )

    def __repr__(self) -> str:
        return f"<HttpIdentityProvider {self.http.base_url}>"

    def verify(self, *, person_hash: str, real_name: str) -> IdentityAnswer:
        if not protocol.is_person_hash(person_hash):
            raise ValueError("person_hash must be 64 lower-case hex characters")
        request_id = uuid.uuid4().hex
        payload = {
            "person_hash": person_hash,
            "name": real_name,
            "purpose": "real_name_registration",
            "request_id": request_id,
        }
        try:
            answer = self.http.post_json(VERIFY_PATH, payload)
            return self._answer(answer, person_hash, request_id)
        except PartnerUnavailable as exc:
            raise IdentityUnavailable(str(exc)) from exc

    def _answer(self, answer: Answer, person_hash: str, request_id: str) -> IdentityAnswer:
        status = answer.status
        if status not in (200, 404):
            raise IdentityUnavailable(f"HTTP {status}")
        data = self.http.authentic_json(answer)
        if not isinstance(data, dict):
            raise IdentityUnavailable("malformed answer")
        if status == 404:
            if data.get("error") == "person_not_found":
                # an ID number the registry does not hold: nobody can prove it is theirs
                return IdentityAnswer(matches=False, known=False, reference=request_id)
            raise IdentityUnavailable(f"HTTP 404 {data.get('error', '')}")
        match = data.get("match")
        if data.get("person_hash") != person_hash or not isinstance(match, bool):
            raise IdentityUnavailable("malformed answer")
        return IdentityAnswer(match, True, str(data.get("check_id") or request_id))
