"""The registration oracle (issue 24, point 3): "is this ID number registered?" costs a
try of the SMS code (one code answers at most SMS_MAX_ATTEMPTS such questions, like name
mismatches), and the holder of the registered ID is told by SMS."""

import pytest
from rest_framework.test import APIClient

from accounts.identity import id_check_char
from accounts.sms.models import SmsOutboxMessage
from tests.accounts.conftest import REGISTER, register, register_body  # noqa: F401

HOLDER_ID = "11010519491231002X"


def _holder(go) -> None:
    assert go(phone="13800001111", id_number=HOLDER_ID).status_code == 201


@pytest.mark.django_db
def test_one_code_answers_at_most_five_registered_id_questions(register, settings):  # noqa: F811
    _holder(register)
    client = APIClient()
    body = register_body(client, phone="13900002222", id_number=HOLDER_ID)
    answers = []
    for i in range(8):
        res = client.post(REGISTER, body, format="json", REMOTE_ADDR=f"198.51.100.{i}")
        answers.append((res.status_code, res.json()["error"]["code"]))
        if res.status_code != 409:
            break
    oracle = [a for a in answers if a[0] == 409]
    assert len(oracle) == settings.SMS_MAX_ATTEMPTS
    assert answers[-1] == (400, "invalid_sms_code")
    # and the spent code cannot register someone else either
    other = "33010619880312011"
    fresh = {**body, "id_number": other + id_check_char(other)}
    spent = client.post(REGISTER, fresh, format="json")
    assert spent.status_code == 400 and spent.json()["error"]["code"] == "invalid_sms_code"


@pytest.mark.django_db
def test_the_holder_of_the_registered_id_is_told_by_sms(register):  # noqa: F811
    _holder(register)
    before = SmsOutboxMessage.objects.filter(phone="13800001111").count()
    client = APIClient()
    body = register_body(client, phone="13900002222", id_number=HOLDER_ID)
    for _ in range(3):
        assert client.post(REGISTER, body, format="json").status_code == 409
    notices = SmsOutboxMessage.objects.filter(phone="13800001111").order_by("pk")[before:]
    assert len(notices) == 1  # one notice per holder per hour, however many tries
    assert "身份证号注册" in notices[0].text
    assert HOLDER_ID not in notices[0].text and "13900002222" not in notices[0].text


@pytest.mark.django_db
def test_the_owner_registering_their_own_phone_again_is_not_told(register):  # noqa: F811
    _holder(register)
    before = SmsOutboxMessage.objects.filter(phone="13800001111").count()
    client = APIClient()
    body = register_body(client, phone="13800001111", id_number=HOLDER_ID)
    assert client.post(REGISTER, body, format="json").status_code == 409
    # only the code the owner asked for, no notice
    assert SmsOutboxMessage.objects.filter(phone="13800001111").count() == before + 1
