"""Refresh tokens rotate (the one sent is spent), logout revokes one, a closed or
inactive account cannot refresh; of two simultaneous refreshes of one token one wins."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.accounts.conftest import TOKEN
from tests.factories import PASSWORD, ResidentFactory

REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"


def tokens_for(client, phone: str) -> dict:
    res = client.post(TOKEN, {"phone": phone, "password": PASSWORD}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


@pytest.fixture
def user(cities):
    return ResidentFactory(home_city=cities["330100"], phone="13811112222")


@pytest.mark.django_db
def test_refresh_rotates_and_the_spent_token_is_refused(api_client, user):
    first = tokens_for(api_client, user.phone)["refresh"]
    res = api_client.post(REFRESH, {"refresh": first}, format="json")
    assert res.status_code == 200
    second = res.json()["refresh"]
    assert second != first and res.json()["access"]
    spent = api_client.post(REFRESH, {"refresh": first}, format="json")
    assert spent.status_code == 401 and spent.json()["error"]["code"] == "invalid_token"
    # reuse is theft: the token that replaced the spent one is revoked with it (issue 24)
    assert api_client.post(REFRESH, {"refresh": second}, format="json").status_code == 401


@pytest.mark.django_db
def test_logout_revokes_the_refresh_token(api_client, user):
    refresh = tokens_for(api_client, user.phone)["refresh"]
    res = api_client.post(LOGOUT, {"refresh": refresh}, format="json")
    assert res.status_code == 204
    again = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_token"
    assert api_client.post(LOGOUT, {"refresh": refresh}, format="json").status_code == 204


@pytest.mark.django_db
def test_an_inactive_account_cannot_refresh(api_client, user):
    refresh = tokens_for(api_client, user.phone)["refresh"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    res = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    assert res.status_code == 401 and res.json()["error"]["code"] == "invalid_token"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{}, {"refresh": ""}, {"refresh": [5]}, {"refresh": None}, {"refresh": "x" * 5000}]
)
def test_bad_input_is_invalid_request(api_client, body):
    for url in (REFRESH, LOGOUT):
        res = api_client.post(url, body, format="json")
        assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_refreshes_of_one_token_one_wins(cities):
    ResidentFactory(home_city=cities["330100"], phone="13811112222")
    refresh = tokens_for(APIClient(), "13811112222")["refresh"]
    barrier = threading.Barrier(4)
    statuses = []

    def go():
        client = APIClient()
        barrier.wait()
        statuses.append(client.post(REFRESH, {"refresh": refresh}, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 401, 401, 401]
