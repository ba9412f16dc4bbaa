"""Registration checks the SMS code as the person leaves the phone step (issue 23):
POST /api/v1/auth/sms-code/check tells a right code without spending it, and each check
costs a try, right or wrong, so checking is no oracle cheaper than registering."""

import pytest

from accounts.sms.models import SmsCode

from .conftest import register_body

CHECK = "/api/v1/auth/sms-code/check"
REGISTER = "/api/v1/auth/register"


def check(client, phone: str, code: str):
    return client.post(CHECK, {"phone": phone, "sms_code": code}, format="json")


@pytest.mark.django_db
def test_a_right_code_checks_and_still_registers(api_client, cities):
    body = register_body(api_client)
    res = check(api_client, body["phone"], body["sms_code"])
    assert res.status_code == 200 and res.json() == {"valid": True, "attempts_left": 4}
    assert SmsCode.objects.get().closed_at is None  # not spent
    assert api_client.post(REGISTER, body, format="json").status_code == 201


@pytest.mark.django_db
def test_a_wrong_code_is_invalid_sms_code_with_the_tries_left(api_client, cities):
    body = register_body(api_client)
    wrong = f"{(int(body['sms_code']) + 1) % 10**6:06d}"
    res = check(api_client, body["phone"], wrong)
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_sms_code"
    assert res.json()["error"]["detail"]["attempts_left"] == 4


@pytest.mark.django_db
def test_every_check_costs_a_try_so_checks_are_no_oracle(api_client, cities):
    body = register_body(api_client)
    lefts = [check(api_client, body["phone"], body["sms_code"]) for _ in range(5)]
    assert [r.status_code for r in lefts] == [200, 200, 200, 200, 400]
    assert [r.json().get("attempts_left") for r in lefts[:4]] == [4, 3, 2, 1]
    assert SmsCode.objects.get().closed_reason == "voided"
    res = api_client.post(REGISTER, body, format="json")  # the right code, checked to death
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_sms_code"


@pytest.mark.django_db
def test_no_code_for_the_phone_is_invalid_sms_code(api_client):
    res = check(api_client, "13800001111", "123456")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_sms_code"
    bad = api_client.post(CHECK, {"phone": "12", "sms_code": "x"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
