"""The HTTP SMS gateway against the real local partner server (the signed protocol)."""

import pytest

from accounts.sms.gateways import SEND_PATH, HttpGateway, SmsUnavailable
from accounts.sms.models import SmsCode
from tests.accounts.conftest import send_code


def _ok(body: dict) -> tuple[int, dict]:
    return 200, {"request_id": body["request_id"], "message_id": "m-1"}


@pytest.fixture
def sms_server(partner_server):
    partner_server.routes[SEND_PATH] = _ok
    return partner_server


def gateway(server, **kw) -> HttpGateway:
    kw.setdefault("timeout", 1.0)
    kw.setdefault("backoff", 0.01)
    return HttpGateway(server.base_url, server.app_key, server.app_secret, **kw)


def test_a_signed_request_carries_phone_and_code(sms_server):
    ref = gateway(sms_server).send_code(phone="13812345678", code="042917", minutes=5, text="x")
    assert ref == "m-1"
    [body] = sms_server.received
    assert body["phone"] == "13812345678" and body["params"] == {"code": "042917", "minutes": 5}


def test_5xx_is_retried_then_succeeds(sms_server):
    sms_server.fail_next = 2
    gateway(sms_server, retries=2).send_code(phone="13812345678", code="1", minutes=5, text="")
    assert sms_server.requests_received == 3


def test_5xx_after_every_retry_is_unavailable(sms_server):
    sms_server.set_mode("error500")
    with pytest.raises(SmsUnavailable):
        gateway(sms_server, retries=1).send_code(phone="13812345678", code="1", minutes=5, text="")
    assert sms_server.requests_received == 2


@pytest.mark.parametrize("mode", ["bad_signature", "unsigned"])
def test_an_unauthenticated_answer_is_refused_and_not_retried(sms_server, mode):
    sms_server.set_mode(mode)
    with pytest.raises(SmsUnavailable):
        gateway(sms_server).send_code(phone="13812345678", code="1", minutes=5, text="")
    assert sms_server.requests_received == 1


def test_a_wrong_secret_is_refused_by_the_server_and_not_retried(sms_server):
    gw = HttpGateway(sms_server.base_url, sms_server.app_key, "not-the-secret", backoff=0.01)
    with pytest.raises(SmsUnavailable):
        gw.send_code(phone="13812345678", code="1", minutes=5, text="")
    assert sms_server.requests_received == 1 and not sms_server.received


def test_a_timeout_is_retried_then_unavailable(sms_server):
    sms_server.set_mode("slow", slow_seconds=0.5)
    with pytest.raises(SmsUnavailable):
        gateway(sms_server, timeout=0.1, retries=1).send_code(
            phone="13812345678", code="1", minutes=5, text=""
        )
    assert sms_server.requests_received == 2


@pytest.mark.django_db
def test_the_api_sends_through_the_configured_http_gateway(sms_server, settings, api_client):
    settings.SMS_GATEWAY = {
        "kind": "http",
        "base_url": sms_server.base_url,
        "app_key": sms_server.app_key,
        "app_secret": sms_server.app_secret,
        "backoff": 0.01,
    }
    assert send_code(api_client, "13812345678").status_code == 202
    [body] = sms_server.received
    code = body["params"]["code"]
    assert len(code) == 6 and code.isdigit()
    from accounts.sms.services import check_code

    assert check_code(phone="13812345678", purpose="register", code=code, consume=False)


@pytest.mark.django_db
def test_a_gateway_failure_is_503_and_allows_an_immediate_retry(sms_server, settings, api_client):
    settings.SMS_GATEWAY = {
        "kind": "http",
        "base_url": sms_server.base_url,
        "app_key": sms_server.app_key,
        "app_secret": sms_server.app_secret,
        "retries": 0,
    }
    sms_server.set_mode("error500")
    res = send_code(api_client, "13812345678")
    assert res.status_code == 503 and res.json()["error"]["code"] == "sms_unavailable"
    assert SmsCode.objects.get().closed_reason == "unsent"
    sms_server.set_mode("normal")
    assert send_code(api_client, "13812345678").status_code == 202
