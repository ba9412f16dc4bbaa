"""Fixtures of the credit tests: a real partner server and a real Redis."""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.credit.partner_server import PartnerServer


@pytest.fixture(scope="session")
def _partner_server_session():
    server = PartnerServer().start()
    yield server
    server.stop()


@pytest.fixture
def partner_server(_partner_server_session):
    """The running partner server, reset to mode ``normal`` with no persons."""
    server = _partner_server_session
    server.reset()
    server.persons.clear()
    server.enterprises.clear()
    server.honours.clear()
    server.routes.clear()
    server.list_source = None
    yield server
    server.reset()


@pytest.fixture
def redis_client():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("REDIS_URL is unset: the breaker tests need a real Redis (use `make test`).")
    # A database of its own: the suite-wide autouse fixture clears the Django cache
    # (FLUSHDB on REDIS_URL's database) in every xdist worker at every test start, which
    # would wipe breaker state in the middle of another worker's test.
    db = int(os.environ.get("CREDIT_TEST_REDIS_DB", "15"))
    client = redis.Redis.from_url(urlunsplit(urlsplit(url)._replace(path=f"/{db}")))
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} does not answer: {exc}")
    yield client
    client.close()


@pytest.fixture
def breaker_name(redis_client):
    """A breaker name unique to the test; its keys are removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(f"xinyou:breaker:{name}:*"))
    if keys:
        redis_client.delete(*keys)
