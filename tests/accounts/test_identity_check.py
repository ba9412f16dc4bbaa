"""The real-name check before the account exists: sandbox and signed HTTP provider,
refusal of impersonation, and the audit of every check (no plain ID number)."""

import json

import pytest
from django.db import connection

from accounts.models import User
from accounts.realname.models import IdentityCheck
from accounts.realname.providers import VERIFY_PATH, HttpIdentityProvider, IdentityUnavailable
from accounts.realname.services import audit_ref
from core.partner_protocol import person_hash
from tests.factories import make_id_number

SANDBOX_ID = "350203198905140179"  # 鹭优演 in accounts/credit/sandbox_persons.json


def _dump(table: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table}")
        return json.dumps(cur.fetchall(), default=str, ensure_ascii=False)


@pytest.mark.django_db
def test_a_sandbox_persons_id_with_another_name_is_refused_and_audited(register, settings):
    res = register(id_number=SANDBOX_ID, real_name="冒名者", home_city="350200")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "identity_mismatch"
    assert not User.objects.exists()
    check = IdentityCheck.objects.get()
    assert check.outcome == "mismatch" and check.known and check.user is None
    expected_ref = audit_ref(person_hash(settings.ID_HASH_KEY, SANDBOX_ID))
    assert check.person_ref == expected_ref
    dumped = _dump("accounts_identitycheck")
    assert SANDBOX_ID not in dumped and "3502**********0179" not in dumped
    assert "冒名者" not in dumped
    assert person_hash(settings.ID_HASH_KEY, SANDBOX_ID) not in dumped


@pytest.mark.django_db
def test_the_holders_name_registers_and_the_check_is_linked(register):
    res = register(id_number=SANDBOX_ID, real_name="鹭 优演", home_city="350200")
    assert res.status_code == 201, res.content
    user = User.objects.get()
    check = IdentityCheck.objects.get()
    assert check.outcome == "match" and check.user == user


@pytest.mark.django_db
def test_an_id_number_the_sandbox_does_not_list_matches_any_name(register):
    res = register(real_name="随便谁")
    assert res.status_code == 201
    assert IdentityCheck.objects.get().known is False


@pytest.mark.django_db
def test_a_mismatch_costs_a_try_of_the_code(register, api_client):
    from accounts.sms.models import SmsCode

    register(id_number=SANDBOX_ID, real_name="冒名者", home_city="350200")
    assert SmsCode.objects.get().attempts == 1


# --------------------------------------------------------------------------- HTTP


REGISTRY = {}  # person hash -> name


def _verify(body: dict) -> tuple[int, dict]:
    name = REGISTRY.get(body["person_hash"])
    if name is None:
        return 404, {"error": "person_not_found"}
    return 200, {
        "person_hash": body["person_hash"],
        "match": body["name"] == name,
        "request_id": body["request_id"],
        "check_id": "chk-1",
    }


@pytest.fixture
def id_server(partner_server):
    REGISTRY.clear()
    partner_server.routes[VERIFY_PATH] = _verify
    return partner_server


def provider(server, **kw) -> HttpIdentityProvider:
    kw.setdefault("backoff", 0.01)
    return HttpIdentityProvider(server.base_url, server.app_key, server.app_secret, **kw)


HASH = "a" * 64


def test_http_provider_match_mismatch_and_unknown(id_server):
    REGISTRY[HASH] = "王小明"
    assert provider(id_server).verify(person_hash=HASH, real_name="王小明").matches
    wrong = provider(id_server).verify(person_hash=HASH, real_name="李华")
    assert not wrong.matches and wrong.known
    unknown = provider(id_server).verify(person_hash="b" * 64, real_name="王小明")
    assert not unknown.matches and not unknown.known
    assert {b["person_hash"] for b in id_server.received} == {HASH, "b" * 64}
    assert all("id_number" not in b for b in id_server.received)


@pytest.mark.parametrize("mode", ["bad_signature", "unsigned"])
def test_http_provider_refuses_unauthenticated_answers(id_server, mode):
    REGISTRY[HASH] = "王小明"
    id_server.set_mode(mode)
    with pytest.raises(IdentityUnavailable):
        provider(id_server).verify(person_hash=HASH, real_name="王小明")


def test_http_provider_retries_5xx(id_server):
    REGISTRY[HASH] = "王小明"
    id_server.fail_next = 1
    assert provider(id_server, retries=1).verify(person_hash=HASH, real_name="王小明").matches
    assert id_server.requests_received == 2


@pytest.mark.django_db
def test_registration_through_the_http_provider(id_server, settings, register):
    settings.SMS_RESEND_SECONDS = 0
    settings.IDENTITY_PROVIDER = {
        "kind": "http",
        "base_url": id_server.base_url,
        "app_key": id_server.app_key,
        "app_secret": id_server.app_secret,
        "backoff": 0.01,
    }
    REGISTRY[person_hash(settings.ID_HASH_KEY, "11010519491231002X")] = "王小明"
    refused = register(real_name="李华")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "identity_mismatch"
    assert register(real_name="王小明").status_code == 201
    id_server.set_mode("error500")
    down = register(phone="13812340000", id_number=make_id_number("110105"))
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "identity_unavailable"
    outcomes = list(IdentityCheck.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["mismatch", "match", "unavailable"]
