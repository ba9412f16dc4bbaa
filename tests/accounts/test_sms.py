"""POST /api/v1/auth/sms-code and the SMS code rules: 6 digits, 5 minutes, one use,
5 wrong tries void it, resend after 60 s, per phone and per address throttles, hashed."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.sms.models import SmsCode, SmsOutboxMessage
from accounts.sms.services import check_code
from core.errors import DomainError
from tests.accounts.conftest import REGISTER, SMS, TOKEN, last_code, register_body, send_code
from tests.factories import PASSWORD, ResidentFactory


@pytest.mark.django_db
def test_a_code_goes_to_the_sandbox_outbox_and_only_its_hash_is_stored(api_client, capsys):
    res = send_code(api_client, "13812345678")
    assert res.status_code == 202
    assert res.json() == {"expires_in": 300, "resend_after": 60}
    code = last_code("13812345678")
    assert len(code) == 6 and code.isdigit()
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_smscode")
        rows = cur.fetchall()
    assert len(rows) == 1 and code not in repr(rows)
    call_command("sms_outbox", "--phone", "13812345678")
    assert code in capsys.readouterr().out


@pytest.mark.django_db
def test_resend_waits_60_seconds_then_replaces_the_old_code(api_client, cities):
    assert send_code(api_client, "13812345678").status_code == 202
    first = last_code("13812345678")
    again = send_code(api_client, "13812345678")
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "throttled"
    assert 0 < again.json()["error"]["detail"]["retry_after"] <= 60
    SmsCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert send_code(api_client, "13812345678").status_code == 202
    assert SmsCode.objects.filter(closed_at__isnull=True).count() == 1
    assert SmsCode.objects.get(closed_reason="replaced")
    assert SmsOutboxMessage.objects.count() == 2
    second = last_code("13812345678")
    if second != first:  # (one chance in a million that they are equal)
        with pytest.raises(DomainError) as refused:
            check_code(phone="13812345678", purpose="register", code=first, consume=False)
        assert refused.value.code == "invalid_sms_code"
    check_code(phone="13812345678", purpose="register", code=second, consume=False)


@pytest.mark.django_db
def test_at_most_ten_codes_per_phone_per_hour(api_client):
    for _ in range(10):
        SmsCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
        assert send_code(api_client, "13812345678").status_code == 202
    SmsCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    res = send_code(api_client, "13812345678")
    assert res.status_code == 429 and res.json()["error"]["detail"]["retry_after"] > 3000


@pytest.mark.django_db
def test_codes_per_client_address_are_throttled_and_x_forwarded_for_is_not_trusted(
    api_client, monkeypatch
):
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "sms_code": "3/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    statuses = [
        send_code(api_client, f"1381234567{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]


@pytest.mark.django_db
def test_five_wrong_tries_void_the_code(register, api_client, cities):
    body = register_body(api_client)
    right = body["sms_code"]
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1, 0):
        res = api_client.post(REGISTER, {**body, "sms_code": wrong}, format="json")
        assert res.status_code == 400
        assert res.json()["error"]["code"] == "invalid_sms_code"
        assert res.json()["error"]["detail"]["attempts_left"] == left
    res = api_client.post(REGISTER, body, format="json")  # the right code, too late
    assert res.json()["error"]["code"] == "invalid_sms_code"
    assert SmsCode.objects.get().closed_reason == "voided"


@pytest.mark.django_db
def test_a_code_expires_after_five_minutes(api_client, cities):
    body = register_body(api_client)
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    res = api_client.post(REGISTER, body, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_sms_code"


@pytest.mark.django_db
def test_a_code_is_used_once(register, api_client):
    body = register_body(api_client)
    assert api_client.post(REGISTER, body, format="json").status_code == 201
    res = api_client.post(REGISTER, {**body, "phone": "13812345678"}, format="json")
    assert res.json()["error"]["code"] == "invalid_sms_code"


@pytest.mark.django_db
def test_login_by_sms_code_once(api_client, cities):
    user = ResidentFactory(home_city=cities["330100"], phone="13811112222")
    assert send_code(api_client, user.phone, "login").status_code == 202
    code = last_code(user.phone)
    res = api_client.post(TOKEN, {"phone": user.phone, "sms_code": code}, format="json")
    assert res.status_code == 200 and res.json()["access"] and res.json()["refresh"]
    again = api_client.post(TOKEN, {"phone": user.phone, "sms_code": code}, format="json")
    # a failed login is a failed login (docs/api.md): 401 invalid_credentials
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_credentials"
    assert again.json()["error"]["detail"]["attempts_left"] == 0


@pytest.mark.django_db
def test_a_wrong_login_code_is_invalid_credentials_with_the_tries_left(api_client, cities):
    user = ResidentFactory(home_city=cities["330100"], phone="13811113333")
    assert send_code(api_client, user.phone, "login").status_code == 202
    right = last_code(user.phone)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in (4, 3):
        res = api_client.post(TOKEN, {"phone": user.phone, "sms_code": wrong}, format="json")
        assert res.status_code == 401
        error = res.json()["error"]
        assert error["code"] == "invalid_credentials" and error["detail"]["attempts_left"] == left
        assert "验证码" in error["message"]  # worded for a code, not a password
    ok = api_client.post(TOKEN, {"phone": user.phone, "sms_code": right}, format="json")
    assert ok.status_code == 200
    # a phone with no account and no code: the same answer
    res = api_client.post(TOKEN, {"phone": "13899998888", "sms_code": right}, format="json")
    assert res.status_code == 401 and res.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_no_login_code_goes_to_a_phone_without_account_but_the_answer_is_the_same(api_client):
    res = send_code(api_client, "13899990000", "login")
    assert res.status_code == 202
    assert not SmsOutboxMessage.objects.filter(phone="13899990000").exists()


@pytest.mark.django_db
def test_login_needs_password_or_code_not_both(api_client, cities):
    for body in ({"phone": "13811112222"}, {"phone": "13811112222", "password": PASSWORD,
                                            "sms_code": "123456"}):  # fmt: skip
        res = api_client.post(TOKEN, body, format="json")
        assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"
        assert "password" in res.json()["error"]["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone": "13812345678"},
        {"phone": "13812345678", "purpose": "spam"},
        {"phone": "１３８１２３４５６７８", "purpose": "register"},  # full-width digits
        {"phone": "1381234567٨", "purpose": "register"},  # an Arabic-Indic digit
        {"phone": "1" * 5000, "purpose": "login"},
        {"phone": ["13812345678"], "purpose": "login"},
        {"phone": "13812345678\x00", "purpose": "login"},
    ],
)
def test_bad_input_is_invalid_request_per_field(api_client, body):
    res = api_client.post(SMS, body, format="json")
    assert res.status_code == 400
    err = res.json()["error"]
    assert err["code"] == "invalid_request" and err["detail"]
    assert not SmsCode.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_give_one_code():
    barrier = threading.Barrier(2)
    results = []

    def go():
        client = APIClient()
        barrier.wait()
        results.append(send_code(client, "13812345678").status_code)
        connection.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [202, 429]
    assert SmsCode.objects.filter(closed_at__isnull=True).count() == 1
