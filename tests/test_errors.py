"""Every error on /api/ is the envelope of docs/api.md."""

import pytest
from django.urls import path

from config.urls import urlpatterns as real_patterns


def boom(request):
    raise RuntimeError("secret internal detail")


def drf_boom_view():
    from rest_framework.decorators import api_view, permission_classes
    from rest_framework.permissions import AllowAny

    @api_view(["GET"])
    @permission_classes([AllowAny])
    def view(request):
        raise RuntimeError("secret internal detail")

    return view


urlpatterns = [
    path("api/v1/test-boom-drf", drf_boom_view()),
    path("api/v1/test-boom-plain", boom),
    *real_patterns,
]
handler500 = "config.exceptions.server_error"


def assert_envelope(res, status, code):
    assert res.status_code == status, res.content
    assert res["Content-Type"].startswith("application/json")
    err = res.json()["error"]
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["detail"], dict)


@pytest.mark.django_db
def test_unknown_api_url_is_not_found(client):
    assert_envelope(client.get("/api/v1/nowhere"), 404, "not_found")
    assert_envelope(client.post("/api/nothing/here"), 404, "not_found")


@pytest.mark.django_db
def test_wrong_method_is_405(client):
    assert_envelope(client.get("/api/v1/auth/register"), 405, "method_not_allowed")


@pytest.mark.django_db
def test_missing_auth_is_401(client):
    assert_envelope(client.get("/api/v1/me"), 401, "not_authenticated")


@pytest.mark.django_db
def test_unexpected_exception_is_server_error_without_details(client, settings, caplog):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    for url in ("/api/v1/test-boom-drf", "/api/v1/test-boom-plain"):
        res = client.get(url)
        assert_envelope(res, 500, "server_error")
        assert "secret internal detail" not in res.content.decode()
    assert "secret internal detail" in caplog.text


@pytest.mark.django_db
def test_messages_follow_accept_language(client):
    zh = client.get("/api/v1/me").json()["error"]["message"]
    en = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert zh == "请先登录。"
    assert en == "Please log in first."
