"""Helpers for the accounts tests: read SMS codes from the sandbox outbox, register; the
reference partner server (tests/credit/partner_server.py) for the identity and SMS clients."""

import re

import pytest

from accounts.legal.models import Agreement
from tests.credit.conftest import _partner_server_session, partner_server  # noqa: F401

SMS = "/api/v1/auth/sms-code"
REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
DROP = object()  # register(field=DROP) leaves the field out


def last_code(phone: str) -> str:
    """The code of the latest message the sandbox gateway 'sent' to `phone`."""
    from accounts.sms.models import SmsOutboxMessage

    message = SmsOutboxMessage.objects.filter(phone=phone).order_by("-sent_at", "-pk").first()
    assert message is not None, f"no SMS to {phone} in the sandbox outbox"
    return re.search(r"(?<![0-9])[0-9]{6}(?![0-9])", message.text).group(0)


def send_code(client, phone: str, purpose: str = "register", **extra):
    return client.post(SMS, {"phone": phone, "purpose": purpose}, format="json", **extra)


def current_version() -> str:
    """The current agreement's version (published again if a transactional test's flush
    removed what the data migration loaded)."""
    from accounts.legal.texts import AGREEMENT_V1

    current = Agreement.objects.filter(is_current=True).first()
    if current is None:
        current, _ = Agreement.objects.get_or_create(
            version=AGREEMENT_V1["version"], defaults={**AGREEMENT_V1, "is_current": True}
        )
    return current.version


def register_body(client, *, phone: str = "13812345678", **over) -> dict:
    """A full registration body with a fresh code sent to `phone`."""
    res = send_code(client, phone)
    assert res.status_code == 202, res.content
    data = {
        "phone": phone,
        "sms_code": last_code(phone),
        "password": "Trust-reward-2026",
        "real_name": "王小明",
        "id_number": "11010519491231002X",
        "home_city": "330100",
        "agreement_version": current_version(),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not DROP}


@pytest.fixture
def register(api_client, cities):
    """register(**fields) -> response: sends a code, then registers with it."""

    def go(**over):
        phone = over.pop("phone", "13812345678")
        return api_client.post(
            REGISTER, register_body(api_client, phone=phone, **over), format="json"
        )

    return go
