"""Errors a client can meet are the envelope (issue 24, points 5 and 6, Django's side; the
HTTP server's own errors are in tests/test_security_server.py): an aborted request body is
`400 invalid_request`, counted as a 400 and logged as a warning; a Host that is not ours
is `400 invalid_request` in JSON."""

import logging

import pytest
from django.test import Client

from tests.incentives.test_observability import _metric


class AbortedBody:
    """A wsgi.input whose client went away after a few bytes (what gunicorn's body reader
    raises then: an OSError)."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def read(self, size: int = -1) -> bytes:
        raise OSError(f"client went away after {len(self.first)} bytes")

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _aborted_post(client: Client, path: str, content_type: str):
    return client.post(
        path,
        data="",
        content_type=content_type,
        CONTENT_LENGTH="1000",
        CONTENT_TYPE=content_type,
        **{"wsgi.input": AbortedBody(b"{")},
    )


def _count(route: str, status: str) -> float:
    text = Client().get("/metrics").content.decode()
    try:
        return _metric(
            text, "xinyou_http_requests_total", method="POST", route=route, status=status
        )
    except AssertionError:
        return 0.0


@pytest.mark.django_db
def test_an_aborted_api_body_is_a_400_counted_and_logged_as_a_warning(caplog):
    before_400 = _count("api/v1/auth/token", "400")
    before_500 = _count("api/v1/auth/token", "500")
    with caplog.at_level(logging.INFO):
        res = _aborted_post(Client(raise_request_exception=False), "/api/v1/auth/token",
                            "application/json")  # fmt: skip
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_request"
    assert "body" in res.json()["error"]["detail"]
    assert _count("api/v1/auth/token", "400") == before_400 + 1
    assert _count("api/v1/auth/token", "500") == before_500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "aborted" in r.message]


@pytest.mark.django_db
def test_an_aborted_form_body_is_a_400_not_a_500(caplog):
    with caplog.at_level(logging.INFO):
        res = _aborted_post(
            Client(raise_request_exception=False),
            "/admin/login/",
            "application/x-www-form-urlencoded",
        )
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_request"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/cities", "/healthz", "/admin/login/", "/m/"])
def test_a_foreign_host_is_the_envelope(path, settings):
    settings.ALLOWED_HOSTS = ["xinyou.example.cn"]
    res = Client(raise_request_exception=False).get(path, HTTP_HOST="evil.example")
    assert res.status_code == 400
    assert res["Content-Type"].startswith("application/json")
    body = res.json()["error"]
    assert body["code"] == "invalid_request" and "host" in body["detail"]
