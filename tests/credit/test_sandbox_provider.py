"""The sandbox provider: demo persons, deterministic fallback, down, list iteration."""

import json
import time

import pytest

from accounts.credit.conversion import demo_bands, tier_of
from accounts.credit.providers import (
    SANDBOX_PERSONS_FILE,
    CreditProvider,
    PersonNotFound,
    ProviderUnavailable,
    SandboxProvider,
)
from accounts.identity import parse_id_number
from core.partner_protocol import person_hash

KEY = b"test-alliance-id-key"
HZ_EXCELLENT = "330106198803120118"
HZ_LISTED = "330108198306040531"
HAIKOU_GOOD = "460105198708110264"


def sandbox(city="330100", **kw) -> SandboxProvider:
    return SandboxProvider(city, SANDBOX_PERSONS_FILE, KEY, **kw)


def ask(provider, id_number=None, digest=None):
    digest = digest or person_hash(KEY, id_number)
    return provider.query(person_hash=digest, purpose="incentive_eligibility", consent_ref="c-1")


def test_is_a_credit_provider():
    assert isinstance(sandbox(), CreditProvider)


def test_demo_file_persons_are_valid_and_in_their_tier():
    data = json.loads(SANDBOX_PERSONS_FILE.read_text(encoding="utf-8"))
    assert "fictional" in data["_comment"].lower()
    persons = {k: v for k, v in data.items() if not k.startswith("_")}
    for id_number, entry in persons.items():
        parsed = parse_id_number(id_number)
        assert parsed.region[:4] == entry["city"][:4]
        assert tier_of(entry["score"], demo_bands(entry["city"])) == entry["tier"]
    for city in ("330100", "460100", "310100"):
        tiers = {e["tier"] for e in persons.values() if e["city"] == city}
        assert tiers == {"poor", "fair", "good", "excellent"}
    assert any(e["seriously_dishonest"] and e["city"] == "330100" for e in persons.values())


def test_known_persons():
    provider = sandbox()
    answer = ask(provider, HZ_EXCELLENT)
    assert (answer.score, answer.seriously_dishonest) == (812, False)
    assert answer.reference.startswith("sandbox-")
    listed = ask(provider, HZ_LISTED)
    assert listed.seriously_dishonest and listed.score == 735
    assert ask(sandbox("460100"), HAIKOU_GOOD).score == 668


def test_person_of_another_city_is_not_found_here():
    with pytest.raises(PersonNotFound):
        ask(sandbox("330100"), HAIKOU_GOOD)


def test_unknown_person_gets_a_deterministic_fallback():
    unknown = person_hash(KEY, "11010519491231002X")
    first = ask(sandbox(score_range=(550, 1000)), digest=unknown)
    again = ask(sandbox(score_range=(550, 1000)), digest=unknown)
    assert first.score == again.score and 550 <= first.score <= 1000
    assert not first.seriously_dishonest
    scores = {sandbox().fallback_score(f"{i:064x}") for i in range(200)}
    assert len(scores) > 150 and min(scores) >= 0 and max(scores) <= 1000
    with pytest.raises(PersonNotFound):
        ask(sandbox(fallback=False), digest=unknown)


def test_hash_depends_on_the_key():
    other = SandboxProvider("330100", SANDBOX_PERSONS_FILE, b"another-key", fallback=False)
    with pytest.raises(PersonNotFound):
        ask(other, HZ_EXCELLENT)  # hashed with KEY, the other sandbox used another key


def test_down_and_slow():
    with pytest.raises(ProviderUnavailable):
        ask(sandbox(down=True), HZ_EXCELLENT)
    with pytest.raises(ProviderUnavailable):
        list(sandbox(down=True).iter_dishonest_list())
    started = time.monotonic()
    ask(sandbox(delay_seconds=0.2), HZ_EXCELLENT)
    assert time.monotonic() - started >= 0.2


def test_rejects_non_hash():
    with pytest.raises(ValueError):
        ask(sandbox(), digest=HZ_EXCELLENT)


def test_list_iteration(tmp_path):
    assert list(sandbox().iter_dishonest_list()) == [person_hash(KEY, HZ_LISTED)]
    assert list(sandbox("460100").iter_dishonest_list()) == []
    extra = tmp_path / "list.txt"
    many = [f"{i:064x}" for i in range(10_000)]
    extra.write_text("# hashes\n" + "\n".join(many) + "\n\n", encoding="ascii")
    iterator = sandbox(list_file=extra).iter_dishonest_list()
    assert next(iterator) == person_hash(KEY, HZ_LISTED)
    assert list(iterator) == many
    bad = tmp_path / "bad.txt"
    bad.write_text("not-a-hash\n", encoding="ascii")
    with pytest.raises(ProviderUnavailable):
        list(sandbox("460100", list_file=bad).iter_dishonest_list())


def test_entry_without_city_counts_everywhere(tmp_path):
    persons = tmp_path / "p.json"
    persons.write_text(
        json.dumps({"_comment": "x", HZ_EXCELLENT: {"score": 10, "seriously_dishonest": True}})
    )
    provider = SandboxProvider("610800", persons, KEY)
    assert ask(provider, HZ_EXCELLENT).score == 10
    assert list(provider.iter_dishonest_list()) == [person_hash(KEY, HZ_EXCELLENT)]
