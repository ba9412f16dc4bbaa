"""Refresh-token reuse revokes the whole family (issue 24, point 9; api.md, Accounts): a
spent refresh token sent again is theft, so the token that replaced it stops working too;
another login's tokens are untouched."""

import pytest
from rest_framework.test import APIClient

from tests.accounts.conftest import TOKEN
from tests.factories import PASSWORD, ResidentFactory

REFRESH = "/api/v1/auth/token/refresh"


def login(client, phone: str) -> dict:
    res = client.post(TOKEN, {"phone": phone, "password": PASSWORD}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def refresh(client, token: str):
    return client.post(REFRESH, {"refresh": token}, format="json")


@pytest.mark.django_db
def test_reusing_a_spent_refresh_token_revokes_its_family(cities):
    ResidentFactory(home_city=cities["330100"], phone="13811112222")
    client = APIClient()
    first = login(client, "13811112222")["refresh"]
    other_login = login(client, "13811112222")["refresh"]
    second = refresh(client, first).json()["refresh"]
    third = refresh(client, second).json()["refresh"]  # the owner keeps rotating
    stolen = refresh(client, first)  # the thief replays the first one
    assert stolen.status_code == 401 and stolen.json()["error"]["code"] == "invalid_token"
    # the latest token of that family is dead too
    after = refresh(client, third)
    assert after.status_code == 401 and after.json()["error"]["code"] == "invalid_token"
    # another login (another family) still works
    assert refresh(client, other_login).status_code == 200


@pytest.mark.django_db
def test_a_rotation_keeps_the_family(cities):
    from rest_framework_simplejwt.tokens import RefreshToken

    ResidentFactory(home_city=cities["330100"], phone="13811112222")
    client = APIClient()
    first = login(client, "13811112222")["refresh"]
    second = refresh(client, first).json()["refresh"]
    family = RefreshToken(first, verify=False)["fam"]
    assert family and RefreshToken(second, verify=False)["fam"] == family
    assert RefreshToken(login(client, "13811112222")["refresh"], verify=False)["fam"] != family
