"""Enterprise credit providers: one interface, a sandbox and a signed HTTP client.

An enterprise credit provider answers, for a unified social credit code (统一社会信用代码),
the enterprise's public-credit grade (A best to D worst, after the 京津冀晋 enterprise
standard) and whether it is on the seriously-dishonest entities list; it also streams
the whole graded list for the daily sync. The wire protocol is that of the personal
credit platform (signed requests and answers, a streamed NDJSON list with a signed
trailer): docs/partner-enterprise-credit-api.md. No Django here.

Every answer is checked before anyone stores it: a code that fails GB 32100, a grade
outside A–D or a flag that is not a boolean is a ``Malformed`` item in a list (the sync
skips and audits it) and ``ProviderUnavailable`` for a single query.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import requests

from accounts.credit.breaker import CircuitBreaker
from accounts.credit.providers import PlatformClient, ProviderError, ProviderUnavailable
from core import partner_protocol as protocol
from merchants.validators import is_valid_credit_code

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
QUERY_PATH = "/open/v1/enterprise-credit/query"
LIST_PATH = "/open/v1/enterprise-credit/grades"
SANDBOX_FILE = Path(__file__).with_name("sandbox_enterprises.json")


@dataclass(frozen=True)
class EnterpriseAnswer:
    credit_code: str
    grade: str
    seriously_dishonest: bool
    reference: str = ""


@dataclass(frozen=True)
class Malformed:
    """One list item that failed the checks: never stored, audited by the sync."""

    reason: str
    excerpt: str


class EnterpriseNotFound(ProviderError):
    """The provider authentically does not know this enterprise."""


class MalformedAnswer(ProviderUnavailable):
    """An authentic answer whose content fails the checks: refused, audited, not stored."""


def check_item(item: Any, reference: str = "") -> EnterpriseAnswer | Malformed:
    """Validate one answer or list item: a GB 32100 code, a grade A–D, a boolean flag."""
    if not isinstance(item, dict):
        return Malformed("not_an_object", repr(item)[:80])
    code, grade, listed = (
        item.get("credit_code"),
        item.get("grade"),
        item.get("seriously_dishonest"),
    )
    if not isinstance(code, str) or not is_valid_credit_code(code):
        return _malformed("bad_credit_code", item)
    if not isinstance(grade, str) or grade not in GRADES:
        return _malformed("bad_grade", item)
    if not isinstance(listed, bool):
        return _malformed("bad_flag", item)
    return EnterpriseAnswer(code, grade, listed, reference)


def _malformed(reason: str, item: dict[str, Any]) -> Malformed:
    return Malformed(reason, json.dumps(item, ensure_ascii=False, default=str)[:120])


@runtime_checkable
class EnterpriseCreditProvider(Protocol):
    def query(self, *, credit_code: str, purpose: str) -> EnterpriseAnswer: ...

    def iter_grades(self) -> Iterator[EnterpriseAnswer | Malformed]:
        """Every graded enterprise, streamed. Raises ProviderUnavailable, possibly after
        some items were yielded: a consumer stages what it receives and applies it only
        when the iterator ends normally."""
        ...


class EnterpriseSandbox:
    """Enterprise credit simulated from a JSON file of the fictional demo merchants.

    Codes in the file answer from it; any other valid code gets a deterministic grade,
    A or B (never listed), so that merchants added in a demo are in good standing.
    ``list_file`` streams extra items, one JSON object a line (large-sync benchmarks).
    """

    def __init__(
        self,
        enterprises_file: str | Path = SANDBOX_FILE,
        *,
        list_file: str | Path | None = None,
        down: bool = False,
    ) -> None:
        self.down = down
        self.list_file = Path(list_file) if list_file else None
        raw = json.loads(Path(enterprises_file).read_text(encoding="utf-8"))
        self._known = {
            code: (entry["grade"], bool(entry.get("seriously_dishonest", False)))
            for code, entry in raw.items()
            if not code.startswith("_")
        }

    def __repr__(self) -> str:
        return "<EnterpriseSandbox>"

    @staticmethod
    def fallback_grade(credit_code: str) -> str:
        seed = hashlib.sha256(f"xinyou-enterprise:{credit_code}".encode()).digest()
        return "A" if seed[0] % 10 < 7 else "B"

    def query(self, *, credit_code: str, purpose: str) -> EnterpriseAnswer:
        if self.down:
            raise ProviderUnavailable("enterprise sandbox is down")
        reference = f"sandbox-{uuid.uuid4().hex}"
        grade, listed = self._known.get(credit_code, (self.fallback_grade(credit_code), False))
        answer = check_item(
            {"credit_code": credit_code, "grade": grade, "seriously_dishonest": listed},
            reference,
        )
        if isinstance(answer, Malformed):
            raise MalformedAnswer(f"enterprise sandbox: {answer.reason}")
        return answer

    def iter_grades(self) -> Iterator[EnterpriseAnswer | Malformed]:
        if self.down:
            raise ProviderUnavailable("enterprise sandbox is down")
        for code, (grade, listed) in self._known.items():
            yield check_item({"credit_code": code, "grade": grade, "seriously_dishonest": listed})
        if self.list_file is not None:
            with self.list_file.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        try:
                            yield check_item(json.loads(line))
                        except ValueError:
                            yield Malformed("not_json", line[:80])


class EnterpriseHttpProvider(PlatformClient):
    """Client of an enterprise credit platform (docs/partner-enterprise-credit-api.md):
    the one signed transport and the circuit breaker, as the personal ``HttpProvider``."""

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        *,
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
        breaker: CircuitBreaker | None = None,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
    ) -> None:
        super().__init__(
            "enterprise",
            base_url,
            app_key,
            app_secret,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            breaker=breaker,
            session=session,
            max_skew=max_skew,
        )

    def __repr__(self) -> str:
        return f"<EnterpriseHttpProvider {self.base_url}>"

    def query(self, *, credit_code: str, purpose: str) -> EnterpriseAnswer:
        with self._guarded(EnterpriseNotFound):
            return self._enterprise_query(credit_code, purpose)

    def _enterprise_query(self, credit_code: str, purpose: str) -> EnterpriseAnswer:
        request_id = uuid.uuid4().hex
        answer = self._post(
            QUERY_PATH, {"credit_code": credit_code, "purpose": purpose, "request_id": request_id}
        )
        status = answer.status
        if status not in (200, 404):
            raise ProviderUnavailable(f"enterprise: HTTP {status} {answer.error_code()}")
        data = self._authentic_json(answer)
        if status == 404:
            if isinstance(data, dict) and data.get("error") == "enterprise_not_found":
                raise EnterpriseNotFound("enterprise: not found")
            raise ProviderUnavailable("enterprise: HTTP 404")
        reference = str(data.get("query_id") or request_id) if isinstance(data, dict) else ""
        fields = (
            {k: data.get(k) for k in ("credit_code", "grade", "seriously_dishonest")}
            if isinstance(data, dict)
            else data
        )
        checked = check_item(fields, reference)
        if isinstance(checked, Malformed):
            raise MalformedAnswer(f"enterprise: malformed answer ({checked.reason})")
        if checked.credit_code != credit_code:
            raise MalformedAnswer("enterprise: answer about another enterprise")
        return checked

    def iter_grades(self) -> Iterator[EnterpriseAnswer | Malformed]:
        with self._guarded():
            yield from self.iter_ndjson(LIST_PATH, check_item)
