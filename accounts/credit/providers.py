"""City credit providers: one interface, a sandbox and the partner open-platform client.

Every provider answers for one partner city, by the alliance's person hash (never a plain
ID number): ``query`` returns the person's score and list flag, ``iter_dishonest_list``
streams the hashes of the seriously-dishonest persons. No Django here: settings values
(keys, URLs, timeouts) come in through the constructors.

DEMO_PERSONS (``sandbox_persons.json``, all FICTIONAL; tiers per the demo schemes of
docs/domain.md; names are what the sandbox identity provider checks, those of the demo
logins where one exists)::

    ID number            city    score  tier       listed  name
    330106198803120118   330100  812    excellent  no      王小明
    330106199107050229   330100  655    good       no      李华
    330105198509200313   330100  572    fair       no      张伟
    330102197901180421   330100  480    poor       no      赵强
    330108198306040531   330100  735    excellent  YES     钱多多
    460106199002280158   460100  788    excellent  no      陈静怡
    460105198708110264   460100  668    good       no      林海
    460108199304030376   460100  566    fair       no      琼中演
    460107197609150488   460100  455    poor       no      琼差演
    310101198601210195   310100  845    excellent  no      周敏
    310104199206170203   310100  690    good       no      吴新
    310115198103090336   310100  600    fair       no      沪中演
    310106197507260441   310100  430    poor       no      沪差演
    350203198905140179   350200  770    excellent  no      鹭优演
    410105198408300286   410100  172    excellent  no      郑优演   (商鼎分, 0–200)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import requests

from accounts.credit.breaker import CircuitBreaker
from core import partner_protocol as protocol
from core.partner_http import Answer, PartnerClient, PartnerUnavailable

T = TypeVar("T")

SANDBOX_PERSONS_FILE = Path(__file__).with_name("sandbox_persons.json")

QUERY_PATH = "/open/v1/credit/query"
DISHONEST_LIST_PATH = "/open/v1/credit/dishonest-list"
HONOURS_PATH = "/open/v1/credit/honours"


@dataclass(frozen=True)
class ProviderAnswer:
    """A found person's standing at their city's platform: a score, or in a grade
    scheme's city a grade (then ``score`` is None)."""

    score: int | None
    seriously_dishonest: bool
    reference: str  # the provider's query id (or our request id): for the audit record
    grade: str | None = None


HONOUR_KINDS = ("blood_donor", "good_samaritan", "model_worker", "volunteer")


@dataclass(frozen=True)
class HonourEntry:
    """One entry of a city's honour list: who (keyed hash), which honour, until when."""

    person_hash: str
    kind: str
    valid_until: dt.date | None


def honour_entry(item: Any) -> HonourEntry:
    """Check one honour list item; ProviderUnavailable (the whole list is refused) if it
    is malformed: a bad hash, an unknown kind or a date that is not ISO ``YYYY-MM-DD``."""
    if not isinstance(item, dict) or not protocol.is_person_hash(item.get("person_hash")):
        raise ProviderUnavailable("honour list: malformed person hash")
    if item.get("kind") not in HONOUR_KINDS:
        raise ProviderUnavailable("honour list: unknown honour kind")
    until = item.get("valid_until")
    if until is not None:
        try:
            until = dt.date.fromisoformat(until) if len(str(until)) == 10 else None
        except (TypeError, ValueError):
            until = None
        if until is None:
            raise ProviderUnavailable("honour list: malformed valid_until")
    return HonourEntry(item["person_hash"], item["kind"], until)


class ProviderError(Exception):
    """Base of everything a provider raises."""


class ProviderUnavailable(ProviderError):
    """No usable answer: timeout, 5xx after retries, breaker open, malformed or
    unauthenticated response, provider down. Try again later; decide nothing."""


class BreakerOpen(ProviderUnavailable):
    """The city's circuit breaker is open: no request was sent."""


class PersonNotFound(ProviderError):
    """The city's platform authentically says it does not know this person."""


@runtime_checkable
class CreditProvider(Protocol):
    city_code: str

    def query(self, *, person_hash: str, purpose: str, consent_ref: str) -> ProviderAnswer: ...

    def iter_dishonest_list(self) -> Iterator[str]:
        """Person hashes of the city's seriously-dishonest list, streamed. Raises
        ProviderUnavailable, possibly after some hashes were yielded: a consumer stages
        what it receives and applies it only when the iterator ends normally."""
        ...

    def iter_honours(self) -> Iterator[HonourEntry]:
        """The city's honour lists (行政奖励), streamed; the same contract as the list."""
        ...


def _require_hash(value: str) -> None:
    if not protocol.is_person_hash(value):
        raise ValueError("person_hash must be 64 lower-case hex characters")


# --------------------------------------------------------------------------- sandbox


class SandboxProvider:
    """A city platform simulated from a JSON file of fictional demo persons.

    The file maps plain demo ID numbers to ``{"score", "seriously_dishonest", "city"}``
    (keys starting with ``_`` are comments). Persons of this city (or with no city) answer
    from the file; a person filed under another city is not found here; any other hash
    gets a deterministic fallback score spread over ``score_range`` and is not listed (pass
    ``fallback=False`` to get PersonNotFound instead). ``list_file`` adds a plain file of
    person hashes, one a line, streamed by ``iter_dishonest_list`` (large-list benchmarks).
    """

    def __init__(
        self,
        city_code: str,
        persons_file: str | Path = SANDBOX_PERSONS_FILE,
        id_key: bytes | str = b"",
        delay_seconds: float = 0.0,
        down: bool = False,
        *,
        score_range: tuple[int, int] = (0, 1000),
        fallback: bool = True,
        list_file: str | Path | None = None,
        grades: list[str] | None = None,
    ) -> None:
        if not id_key:
            raise ValueError("SandboxProvider needs the alliance ID key")
        if score_range[0] >= score_range[1]:
            raise ValueError("score_range must be (lowest, highest)")
        self.city_code = city_code
        self.delay_seconds = delay_seconds
        self.down = down
        self.score_range = score_range
        self.fallback = fallback
        self.grades = list(grades or [])
        self.list_file = Path(list_file) if list_file else None
        self._here: dict[str, dict[str, Any]] = {}
        self._elsewhere: set[str] = set()
        raw = json.loads(Path(persons_file).read_text(encoding="utf-8"))
        for id_number, entry in raw.items():
            if id_number.startswith("_"):
                continue
            digest = protocol.person_hash(id_key, id_number)
            city = entry.get("city")
            if city in (None, "", city_code):
                self._here[digest] = {
                    "score": None if entry.get("score") is None else int(entry["score"]),
                    "grade": entry.get("grade"),
                    "seriously_dishonest": bool(entry.get("seriously_dishonest", False)),
                    "honours": list(entry.get("honours", [])),
                }
            else:
                self._elsewhere.add(digest)

    def __repr__(self) -> str:
        return f"<SandboxProvider {self.city_code}>"

    def _wait_or_fail(self) -> None:
        if self.down:
            raise ProviderUnavailable(f"sandbox {self.city_code} is down")
        if self.delay_seconds > 0:
            time.sleep(self.delay_seconds)

    def fallback_score(self, person_hash: str) -> int:
        lo, hi = self.score_range
        seed = hashlib.sha256(f"xinyou-sandbox:{self.city_code}:{person_hash}".encode()).digest()
        return lo + int.from_bytes(seed[:8], "big") % (hi - lo + 1)

    def query(self, *, person_hash: str, purpose: str, consent_ref: str) -> ProviderAnswer:
        _require_hash(person_hash)
        self._wait_or_fail()
        reference = f"sandbox-{uuid.uuid4().hex}"
        entry = self._here.get(person_hash)
        if entry is not None:
            if self.grades:
                grade = entry["grade"] or self.fallback_grade(person_hash)
                return ProviderAnswer(None, entry["seriously_dishonest"], reference, grade)
            return ProviderAnswer(entry["score"], entry["seriously_dishonest"], reference)
        if person_hash in self._elsewhere or not self.fallback:
            raise PersonNotFound(f"sandbox {self.city_code}: person not found")
        if self.grades:
            return ProviderAnswer(None, False, reference, self.fallback_grade(person_hash))
        return ProviderAnswer(self.fallback_score(person_hash), False, reference)

    def fallback_grade(self, person_hash: str) -> str:
        seed = hashlib.sha256(f"xinyou-sandbox:{self.city_code}:{person_hash}".encode()).digest()
        return self.grades[int.from_bytes(seed[:8], "big") % len(self.grades)]

    def iter_dishonest_list(self) -> Iterator[str]:
        self._wait_or_fail()
        for digest, entry in self._here.items():
            if entry["seriously_dishonest"]:
                yield digest
        if self.list_file is not None:
            with self.list_file.open(encoding="ascii") as lines:
                for line in lines:
                    value = line.strip().lower()
                    if value and not value.startswith("#"):
                        if not protocol.is_person_hash(value):
                            raise ProviderUnavailable(f"{self.list_file}: not a person hash")
                        yield value

    def iter_honours(self) -> Iterator[HonourEntry]:
        self._wait_or_fail()
        for digest, entry in self._here.items():
            for honour in entry["honours"]:
                yield honour_entry({"person_hash": digest, **honour})


# --------------------------------------------------------------------------- HTTP


class PlatformClient:
    """What the personal and the enterprise credit clients share: the signed transport
    (``core.partner_http``), the partner's circuit breaker, and the translation of every
    transport failure into ProviderUnavailable.

    The breaker (shared through Redis) counts one failure per call that ends in
    ProviderUnavailable, one success per call that ends in an authentic answer; while it
    is open no request goes out.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        breaker: CircuitBreaker | None,
        session: requests.Session | None,
        max_skew: int,
    ) -> None:
        self.name = name
        self.breaker = breaker
        self.http = PartnerClient(
            base_url,
            app_key,
            app_secret,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            session=session,
            max_skew=max_skew,
            name=name,
        )

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @contextmanager
    def _guarded(self, *healthy: type[Exception]) -> Iterator[None]:
        """One call under the breaker: refused at once while it is open; a failure if the
        call ends in ProviderUnavailable, a success if it ends normally or in one of
        ``healthy`` (an authentic "not found": the partner is well)."""
        if self.breaker is not None and not self.breaker.allow():
            raise BreakerOpen(f"{self.name}: circuit breaker open")
        try:
            yield
        except healthy:
            self._ok()
            raise
        except ProviderUnavailable:
            if self.breaker is not None:
                self.breaker.record_failure()
            raise
        self._ok()

    def _ok(self) -> None:
        if self.breaker is not None:
            self.breaker.record_success()

    def _unavailable(self, exc: PartnerUnavailable) -> ProviderUnavailable:
        return ProviderUnavailable(f"{self.name}: {exc}")

    def _post(self, endpoint: str, payload: dict[str, Any]) -> Answer:
        try:
            return self.http.post_json(endpoint, payload)
        except PartnerUnavailable as exc:
            raise self._unavailable(exc) from exc

    def _authentic_json(self, answer: Answer) -> Any:
        try:
            return self.http.authentic_json(answer)
        except PartnerUnavailable as exc:
            raise self._unavailable(exc) from exc

    def iter_ndjson(self, endpoint: str, parse: Callable[[dict[str, Any]], T]) -> Iterator[T]:
        """Stream a signed NDJSON list from ``endpoint`` (``PartnerClient.stream``),
        yielding ``parse(item)`` for each item. ``parse`` may raise ProviderUnavailable to
        refuse the whole list, or return a marker for one bad item."""
        try:
            with closing(self.http.stream(endpoint)) as items:
                for item in items:
                    yield parse(item)
        except PartnerUnavailable as exc:
            raise self._unavailable(exc) from exc


class HttpProvider(PlatformClient):
    """Client of a partner city's open platform (docs/partner-credit-api.md), through the
    one signed transport: every request signed, every answer authenticated, timeouts,
    connection errors and 5xx retried with exponential backoff, never 4xx or
    unauthenticated answers; the city's circuit breaker around every call."""

    def __init__(
        self,
        city_code: str,
        base_url: str,
        app_key: str,
        app_secret: str | bytes,
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
        breaker: CircuitBreaker | None = None,
        *,
        score_range: tuple[int, int] | None = None,
        grades: list[str] | None = None,
        session: requests.Session | None = None,
        max_skew: int = protocol.MAX_SKEW_SECONDS,
    ) -> None:
        super().__init__(
            city_code,
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
        self.city_code = city_code
        self.score_range = score_range
        self.grades = list(grades or [])

    def __repr__(self) -> str:
        return f"<HttpProvider {self.city_code} {self.base_url}>"

    def query(self, *, person_hash: str, purpose: str, consent_ref: str) -> ProviderAnswer:
        _require_hash(person_hash)
        with self._guarded(PersonNotFound):
            return self._query(person_hash, purpose, consent_ref)

    def _query(self, person_hash: str, purpose: str, consent_ref: str) -> ProviderAnswer:
        request_id = uuid.uuid4().hex
        answer = self._post(
            QUERY_PATH,
            {
                "person_hash": person_hash,
                "purpose": purpose,
                "consent_id": consent_ref,
                "request_id": request_id,
            },
        )
        status = answer.status
        if status not in (200, 404):
            code = answer.error_code()
            raise ProviderUnavailable(f"{self.city_code}: HTTP {status} {code}".rstrip())
        data = self._authentic_json(answer)
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{self.city_code}: malformed answer (HTTP {status})")
        if status == 404:
            if data.get("error") == "person_not_found":
                raise PersonNotFound(f"{self.city_code}: person not found")
            raise ProviderUnavailable(f"{self.city_code}: HTTP 404 {data.get('error', '')}")
        score = data.get("score")
        dishonest = data.get("seriously_dishonest")
        if data.get("person_hash") != person_hash or not isinstance(dishonest, bool):
            raise ProviderUnavailable(f"{self.city_code}: malformed answer")
        reference = str(data.get("query_id") or data.get("request_id") or request_id)
        if self.grades:  # a grade scheme's city answers a grade, one the scheme has
            grade = data.get("grade")
            if not isinstance(grade, str) or grade not in self.grades:
                raise ProviderUnavailable(f"{self.city_code}: malformed grade {grade!r}")
            return ProviderAnswer(None, dishonest, reference, grade)
        if not isinstance(score, int) or isinstance(score, bool):
            raise ProviderUnavailable(f"{self.city_code}: malformed answer")
        if self.score_range and not self.score_range[0] <= score <= self.score_range[1]:
            raise ProviderUnavailable(f"{self.city_code}: score {score} outside the scheme range")
        return ProviderAnswer(score, dishonest, reference)

    def iter_dishonest_list(self) -> Iterator[str]:
        """Stream the list (``PartnerClient.stream``: signed headers, items, a signed
        trailer checked at the end). A missing, wrong or unauthenticated trailer raises
        ProviderUnavailable after the yielded items."""
        with self._guarded():
            yield from self.iter_ndjson(DISHONEST_LIST_PATH, self._person)

    def _person(self, item: dict[str, Any]) -> str:
        value = item.get("person_hash")
        if not protocol.is_person_hash(value):
            raise ProviderUnavailable(f"{self.city_code}: malformed person hash")
        return value

    def iter_honours(self) -> Iterator[HonourEntry]:
        """Stream the city's honour lists: NDJSON items ``{person_hash, kind,
        valid_until}`` with the dishonest list's signed trailer."""
        with self._guarded():
            yield from self.iter_ndjson(HONOURS_PATH, honour_entry)
