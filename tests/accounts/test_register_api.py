"""POST /api/v1/auth/register: validation, privacy, duplicates (also racing)."""
# The registration body needs a live SMS code of the phone: `body()` asks for one.

import json
import logging
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.identity import PHONE_RE
from accounts.models import User
from tests.accounts.conftest import current_version, last_code
from tests.factories import make_id_number

URL = "/api/v1/auth/register"
ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def _codes_any_time(settings):
    settings.SMS_RESEND_SECONDS = 0  # these tests ask for several codes per phone


def body(**over):
    """A registration body with a fresh code for its phone (sent through the sandbox)."""
    phone = over.get("phone", "13812345678")
    sms_code = None
    if isinstance(phone, str) and PHONE_RE.match(phone):
        res = APIClient().post(
            "/api/v1/auth/sms-code", {"phone": phone, "purpose": "register"}, format="json"
        )
        assert res.status_code == 202, res.content
        sms_code = last_code(phone)
    data = {
        "phone": "13812345678",
        "sms_code": sms_code or "000000",
        "password": "Trust-reward-2026",
        "real_name": "王小明",
        "id_number": ID,
        "home_city": "330100",
        "agreement_version": current_version(),
    }
    data.update(over)
    return data


@pytest.mark.django_db
def test_registration_returns_the_masked_profile(cities, api_client):
    res = api_client.post(URL, body(), format="json")
    assert res.status_code == 201, res.content
    data = res.json()
    assert data["id_number"] == "1101**********002X"
    assert data["home_city"]["code"] == "330100"
    assert data["roles"] == ["resident"]
    assert ID not in res.content.decode()


@pytest.mark.django_db
def test_the_id_number_is_stored_nowhere_in_plain_text(cities, api_client, caplog):
    caplog.set_level(logging.DEBUG)
    assert api_client.post(URL, body(id_number=ID.lower()), format="json").status_code == 201
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_user")
        rows = cur.fetchall()
    dumped = json.dumps(rows, default=str).upper()
    assert ID not in dumped
    assert ID not in caplog.text.upper()
    user = User.objects.get()
    assert user.id_masked == "1101**********002X" and len(user.id_hash) == 64
    assert not hasattr(user, "birth_date")  # with the mask it would give the number away


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"id_number": ID[:-1] + "1"}, "id_number"),  # wrong check digit
        ({"id_number": "110105199002310011"}, "id_number"),  # 31 February
        ({"id_number": ID[:-1]}, "id_number"),  # 17 characters
        ({"id_number": ID + "1"}, "id_number"),  # 19 characters
        ({"id_number": make_id_number(birth="20991231")}, "id_number"),  # future
        ({"phone": "1381234567"}, "phone"),  # 10 digits
        ({"phone": "12812345678"}, "phone"),
        ({"password": "12345678"}, "password"),  # Django validators
        ({"password": "王小明王小明王小明"[:3]}, "password"),
        ({"real_name": ""}, "real_name"),
        ({"real_name": "王\x07明"}, "real_name"),
        ({"id_number": "１１０１０５１９４９１２３１００２X"}, "id_number"),  # full-width digits
        ({"phone": "１３８１２３４５６７８"}, "phone"),
        ({"sms_code": "１２３４５６"}, "sms_code"),
        ({"sms_code": "12345"}, "sms_code"),
        ({"agreement_version": "v" * 21}, "agreement_version"),
    ],
)
def test_bad_fields_are_invalid_request_with_per_field_detail(cities, api_client, over, field):
    res = api_client.post(URL, body(**over), format="json")
    assert res.status_code == 400, res.content
    err = res.json()["error"]
    assert err["code"] == "invalid_request"
    assert field in err["detail"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_check_digit_message_is_in_chinese_by_default_and_english_on_request(cities, api_client):
    zh = api_client.post(URL, body(id_number=ID[:-1] + "1"), format="json").json()
    en = api_client.post(
        URL, body(id_number=ID[:-1] + "1"), format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert zh["error"]["detail"]["id_number"] == ["身份证号校验码不正确。"]
    assert en["error"]["detail"]["id_number"] == ["The ID number's check digit is wrong."]
    assert en["error"]["message"] == "The request is invalid."


@pytest.mark.django_db
def test_unknown_city_is_its_own_code(cities, api_client):
    res = api_client.post(URL, body(home_city="999999"), format="json")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "unknown_city"


@pytest.mark.django_db
def test_duplicate_phone_and_duplicate_id_number_are_already_registered(cities, api_client):
    assert api_client.post(URL, body(), format="json").status_code == 201
    same_phone = api_client.post(URL, body(id_number=make_id_number()), format="json")
    same_id = api_client.post(URL, body(phone="13900001111"), format="json")
    for res in (same_phone, same_id):
        assert res.status_code == 409
        assert res.json()["error"]["code"] == "already_registered"
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "content_type", "status", "code"),
    [
        ("[1, 2]", "application/json", 400, "invalid_request"),  # not an object
        ('"text"', "application/json", 400, "invalid_request"),
        ("{bad json", "application/json", 400, "invalid_request"),
        ("phone=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("<x/>", "text/xml", 415, "unsupported_media_type"),
    ],
)
def test_bodies_that_are_not_a_json_object(cities, api_client, payload, content_type, status, code):
    res = api_client.generic("POST", URL, payload, content_type=content_type)
    assert res.status_code == status
    assert res.json()["error"]["code"] == code


@pytest.mark.django_db
def test_huge_body_is_refused_with_413(cities, api_client):
    huge = json.dumps(body(real_name="王" * 400_000))
    res = api_client.generic("POST", URL, huge, content_type="application/json")
    assert res.status_code == 413
    assert res.json()["error"]["code"] == "request_too_large"


@pytest.mark.django_db(transaction=True)
def test_same_phone_registered_twice_at_the_same_moment(cities):
    # one phone has one live code: two registrations racing with it, one wins; the other
    # finds the code spent (400 invalid_sms_code) or the phone taken (409)
    code = body()["sms_code"]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def register(id_number: str) -> None:
        client = APIClient()
        barrier.wait()
        try:
            res = client.post(
                URL,
                {
                    "phone": "13812345678",
                    "sms_code": code,
                    "password": "Trust-reward-2026",
                    "real_name": "王小明",
                    "id_number": id_number,
                    "home_city": "330100",
                    "agreement_version": current_version(),
                },
                format="json",
            )
            results.append(res.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(make_id_number(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in ([201, 400], [201, 409])
    assert User.objects.filter(phone="13812345678").count() == 1


@pytest.mark.django_db(transaction=True)
def test_same_id_number_registered_twice_at_the_same_moment(cities):
    bodies = [body(phone="13812345678"), body(phone="13912345678")]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def register(data: dict) -> None:
        client = APIClient()
        barrier.wait()
        try:
            results.append(client.post(URL, data, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert User.objects.count() == 1
