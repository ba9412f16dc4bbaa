"""Tokens, refresh, own profile, and the cache-backed throttle on the token endpoint."""

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection

from tests.factories import PASSWORD, ResidentFactory, StaffFactory

TOKEN = "/api/v1/auth/token"


@pytest.mark.django_db
def test_login_then_me_shows_roles(cities, api_client):
    user = ResidentFactory(home_city=cities["330100"], phone="13811112222")
    res = api_client.post(TOKEN, {"phone": "13811112222", "password": PASSWORD}, format="json")
    assert res.status_code == 200
    tokens = res.json()
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk and me.json()["roles"] == ["resident"]
    refreshed = api_client.post(
        "/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200 and refreshed.json()["access"]


@pytest.mark.django_db
def test_superuser_roles_include_superuser(api_client):
    from accounts.models import User
    from tests.conftest import bearer

    admin = User.objects.create_superuser("13800000000", PASSWORD)
    me = api_client.get("/api/v1/me", **bearer(admin)).json()
    assert set(me["roles"]) == {"platform", "superuser"}


@pytest.mark.django_db
def test_wrong_password_is_invalid_credentials(cities, api_client):
    ResidentFactory(home_city=cities["330100"], phone="13811112222")
    for phone, pw in [("13811112222", "nope-nope-1"), ("13999999999", PASSWORD)]:
        res = api_client.post(TOKEN, {"phone": phone, "password": pw}, format="json")
        assert res.status_code == 401
        assert res.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_garbage_refresh_token_is_invalid_token(api_client):
    res = api_client.post("/api/v1/auth/token/refresh", {"refresh": "x.y.z"}, format="json")
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "invalid_token"


@pytest.mark.django_db
def test_access_token_is_short_lived(settings):
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 15 * 60


@pytest.mark.django_db
def test_me_without_token_is_not_authenticated(api_client):
    res = api_client.get("/api/v1/me")
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "not_authenticated"
    bad = api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_token_endpoint_is_throttled_in_redis(cities, api_client, settings):
    """The counter lives in Redis, so every web process shares the same limit."""
    settings.LOGIN_LOCK_FAILURES = 100  # the per-account lock is tested in test_bruteforce
    settings.LOGIN_ADDRESS_FREE_FAILURES = 100  # so are the per-address delays
    StaffFactory(staff_city=cities["330100"], phone="13911112222")
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"].split("/")[0])
    statuses = [
        api_client.post(TOKEN, {"phone": "13911112222", "password": "wrong-1"}, format="json")
        for _ in range(limit + 1)
    ]
    assert [r.status_code for r in statuses[:limit]] == [401] * limit
    last = statuses[-1]
    assert last.status_code == 429
    assert last.json()["error"]["code"] == "throttled"
    assert "Retry-After" in last
    keys = get_redis_connection("default").keys("*throttle_auth_token*")
    assert keys, "throttle history must be kept in Redis"
    cache.clear()
    # a fresh process sees the same store: once cleared, logins work again
    ok = api_client.post(TOKEN, {"phone": "13911112222", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


@pytest.mark.django_db
def test_cities_are_public_and_keyed_by_code(cities, api_client):
    res = api_client.get("/api/v1/cities?page_size=100")
    assert res.status_code == 200
    data = res.json()
    assert data["count"] == 17
    hz = next(c for c in data["results"] if c["code"] == "330100")
    assert hz["name"] == "杭州" and hz["province"] == "浙江"
