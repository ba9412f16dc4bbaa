"""The partner open-platform client against a real local partner server, with the
circuit breaker's state in a real Redis (REDIS_URL)."""

import socket
import time

import pytest
import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts.credit.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from accounts.credit.providers import (
    QUERY_PATH,
    BreakerOpen,
    CreditProvider,
    HttpProvider,
    PersonNotFound,
    ProviderUnavailable,
)
from core import partner_protocol as protocol

KEY = b"test-alliance-id-key"
ALICE = protocol.person_hash(KEY, "330106198803120118")
LISTED = protocol.person_hash(KEY, "330108198306040531")
STRANGER = protocol.person_hash(KEY, "11010519491231002X")


@pytest.fixture
def server(partner_server):
    partner_server.persons[ALICE] = {"score": 812, "seriously_dishonest": False}
    partner_server.persons[LISTED] = {"score": 735, "seriously_dishonest": True}
    return partner_server


@pytest.fixture
def breaker(redis_client, breaker_name):
    return CircuitBreaker(breaker_name, redis_client, failure_threshold=3, reset_timeout=1.0)


@pytest.fixture
def make_provider(server, breaker):
    def make(**kw):
        options = {
            "timeout": 2.0,
            "retries": 2,
            "backoff": 0.01,
            "breaker": breaker,
            "app_secret": server.app_secret,
        }
        options.update(kw)
        return HttpProvider("330100", server.base_url, server.app_key, **options)

    return make


def ask(provider, digest=ALICE):
    return provider.query(person_hash=digest, purpose="incentive_eligibility", consent_ref="c-9")


def test_is_a_credit_provider(make_provider):
    assert isinstance(make_provider(), CreditProvider)


def test_query_found(make_provider, server, breaker):
    answer = ask(make_provider())
    assert (answer.score, answer.seriously_dishonest) == (812, False)
    assert answer.reference.startswith("q-")
    assert ask(make_provider(), LISTED).seriously_dishonest is True
    assert server.requests_received == 2 and server.unauthorized == 0
    assert breaker.state() == CLOSED


def test_not_found_is_not_retried_and_keeps_the_breaker_closed(make_provider, server, breaker):
    with pytest.raises(PersonNotFound):
        ask(make_provider(), STRANGER)
    assert server.requests_received == 1
    server.set_mode("not_found")
    for _ in range(5):
        with pytest.raises(PersonNotFound):
            ask(make_provider())
    assert breaker.state() == CLOSED


def test_500_is_retried(make_provider, server):
    server.set_mode("error500")
    with pytest.raises(ProviderUnavailable, match="HTTP 500 after 3 attempt"):
        ask(make_provider(retries=2))
    assert server.requests_received == 3


def test_500_then_success_with_fresh_nonces(make_provider, server):
    server.fail_next = 2
    assert ask(make_provider(retries=2)).score == 812
    assert server.requests_received == 3
    assert server.unauthorized == 0  # every retry was signed anew (no replayed nonce)


def test_backoff_is_exponential(make_provider, server):
    server.set_mode("error500")
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        ask(make_provider(retries=2, backoff=0.1))  # sleeps 0.1 then 0.2
    assert time.monotonic() - started >= 0.3


def test_timeout(make_provider, server):
    server.set_mode("slow", slow_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="Timeout"):
        ask(make_provider(timeout=0.5, retries=1))
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.5
    assert server.requests_received == 2  # timeouts are retried


def test_connection_refused_is_retried():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    provider = HttpProvider("330100", f"http://127.0.0.1:{port}", "k", "s", retries=1, backoff=0)
    with pytest.raises(ProviderUnavailable, match="ConnectionError after 2 attempt"):
        ask(provider)


@pytest.mark.parametrize(
    "mode",
    ["bad_signature", "stale_timestamp", "future_timestamp", "malformed_json"],
)
def test_refused_answers_are_not_retried(make_provider, server, mode):
    server.set_mode(mode)
    with pytest.raises(ProviderUnavailable) as info:
        ask(make_provider(retries=2))
    assert server.requests_received == 1
    expected = {
        "bad_signature": "bad_signature",
        "stale_timestamp": "stale_timestamp",
        "future_timestamp": "future_timestamp",
        "malformed_json": "malformed JSON",
    }[mode]
    assert expected in str(info.value)


def test_not_found_with_bad_signature_is_refused(make_provider, server):
    server.set_mode("bad_signature")
    with pytest.raises(ProviderUnavailable, match="bad_signature"):
        ask(make_provider(), STRANGER)


def test_wrong_secret_gets_401_and_no_retry(make_provider, server):
    with pytest.raises(ProviderUnavailable, match="HTTP 401 bad_signature"):
        ask(make_provider(app_secret="wrong"))
    assert server.requests_received == 1 and server.unauthorized == 1


def test_server_refuses_replayed_and_stale_requests(server):
    body = b'{"person_hash":"%s","purpose":"p","consent_id":"c","request_id":"r"}' % (
        ALICE.encode()
    )
    path = QUERY_PATH
    headers = protocol.sign_request(server.app_key, server.app_secret, "POST", path, body)
    first = requests.post(server.base_url + path, data=body, headers=headers, timeout=2)
    assert first.status_code == 200
    replay = requests.post(server.base_url + path, data=body, headers=headers, timeout=2)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed_nonce"
    old = protocol.sign_request(
        server.app_key, server.app_secret, "POST", path, body, timestamp=int(time.time()) - 301
    )
    stale = requests.post(server.base_url + path, data=body, headers=old, timeout=2)
    assert stale.status_code == 401 and stale.json()["error"] == "stale_timestamp"
    tampered = requests.post(
        server.base_url + path, data=body.replace(b'"p"', b'"x"'), headers=headers, timeout=2
    )
    assert tampered.status_code == 401


def test_answer_about_another_person_is_refused(make_provider, server):
    server.set_mode("wrong_person")
    with pytest.raises(ProviderUnavailable, match="malformed answer"):
        ask(make_provider())
    assert server.requests_received == 1


def test_breaker_opens_half_opens_and_closes(make_provider, server, breaker):
    provider = make_provider(retries=0)
    server.set_mode("error500")
    for _ in range(3):
        with pytest.raises(ProviderUnavailable, match="HTTP 500"):
            ask(provider)
    assert server.requests_received == 3
    assert breaker.state() == OPEN

    # Open: no request reaches the server, from this provider or another process' one.
    server.set_mode("normal")
    for other in (provider, make_provider(retries=0)):
        with pytest.raises(BreakerOpen, match="circuit breaker open"):
            ask(other)
    assert server.requests_received == 3

    # After reset_timeout: half-open, exactly one trial goes out.
    time.sleep(1.1)
    assert breaker.state() == HALF_OPEN
    assert breaker.allow() is True  # someone takes the trial slot...
    with pytest.raises(ProviderUnavailable, match="circuit breaker open"):
        ask(provider)  # ...so we may not go
    assert server.requests_received == 3
    breaker.redis.delete(breaker.k_trial)  # that trial never reported: its slot expires

    # A failed trial re-opens for another reset_timeout.
    server.set_mode("error500")
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        ask(provider)
    assert server.requests_received == 4
    assert breaker.state() == OPEN

    # A successful trial closes it.
    time.sleep(1.1)
    server.set_mode("normal")
    assert ask(provider).score == 812
    assert server.requests_received == 5
    assert breaker.state() == CLOSED
    assert ask(provider).score == 812


def test_breaker_counts_calls_not_attempts(make_provider, server, breaker):
    server.set_mode("error500")
    with pytest.raises(ProviderUnavailable):
        ask(make_provider(retries=2))
    assert server.requests_received == 3
    assert breaker.state() == CLOSED
    assert int(breaker.redis.get(breaker.k_failures)) == 1


def test_breaker_success_resets_failure_count(make_provider, server, breaker):
    provider = make_provider(retries=0)
    for _ in range(2):
        server.set_mode("error500")
        with pytest.raises(ProviderUnavailable):
            ask(provider)
        server.set_mode("normal")
    ask(provider)
    assert breaker.redis.get(breaker.k_failures) is None
    server.set_mode("error500")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            ask(provider)
    assert breaker.state() == CLOSED


def test_half_open_trial_is_shared_between_breaker_instances(redis_client, breaker_name):
    """Two processes (two instances over the same Redis) get one trial between them."""
    a = CircuitBreaker(breaker_name, redis_client, failure_threshold=1, reset_timeout=0.2)
    b = CircuitBreaker(breaker_name, redis_client, failure_threshold=1, reset_timeout=0.2)
    a.record_failure()
    assert b.state() == OPEN and not b.allow()
    time.sleep(0.3)
    assert [a.allow(), b.allow(), a.allow()] == [True, False, False]
    b.record_success()
    assert a.state() == CLOSED and a.allow() and b.allow()


def test_breaker_lets_calls_through_when_redis_is_down():
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    breaker = CircuitBreaker("dead", dead)
    assert breaker.allow() is True
    breaker.record_failure()
    breaker.record_success()
    assert breaker.state() == CLOSED


def test_dishonest_list_streams(make_provider, server, breaker):
    assert list(make_provider().iter_dishonest_list()) == [LISTED]
    many = [f"{i:064x}" for i in range(20_000)]
    server.list_source = lambda: iter(many)
    iterator = make_provider().iter_dishonest_list()
    assert next(iterator) == many[0]
    assert list(iterator) == many[1:]
    assert breaker.state() == CLOSED


def test_dishonest_list_empty(make_provider, server):
    server.list_source = list
    assert list(make_provider().iter_dishonest_list()) == []


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("truncated_list", "truncated"),
        ("tampered_list", "trailer refused"),
        ("bad_signature", "bad_signature"),
        ("stale_timestamp", "stale_timestamp"),
    ],
)
def test_dishonest_list_refused(make_provider, server, breaker, mode, message):
    server.list_source = lambda: iter([f"{i:064x}" for i in range(1000)])
    server.set_mode(mode)
    received = []
    with pytest.raises(ProviderUnavailable, match=message):
        for digest in make_provider().iter_dishonest_list():
            received.append(digest)
    assert server.requests_received == 1
    assert int(breaker.redis.get(breaker.k_failures)) == 1


def test_dishonest_list_500_is_retried_and_breaker_open_blocks_it(make_provider, server, breaker):
    server.fail_next = 1
    assert list(make_provider(retries=1).iter_dishonest_list()) == [LISTED]
    assert server.requests_received == 2
    server.set_mode("error500")
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            list(make_provider(retries=0).iter_dishonest_list())
    assert breaker.state() == OPEN
    with pytest.raises(ProviderUnavailable, match="circuit breaker open"):
        list(make_provider().iter_dishonest_list())
    assert server.requests_received == 5


def test_score_outside_range_is_refused(make_provider, server):
    server.persons[ALICE] = {"score": 1200, "seriously_dishonest": False}
    with pytest.raises(ProviderUnavailable, match="outside the scheme range"):
        ask(make_provider(score_range=(0, 1000)))
