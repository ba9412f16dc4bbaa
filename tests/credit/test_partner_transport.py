"""The four partners (personal credit, enterprise credit, identity, SMS) go through the
one signed transport (core.partner_http): each client, built from its settings by its
registry, sends requests that the real partner server authenticates, retries 5xx with
fresh nonces, refuses unauthenticated answers without retrying, and reports every
failure as its own partner's error."""

from dataclasses import dataclass
from typing import Any

import pytest

from accounts.credit.providers import QUERY_PATH, ProviderUnavailable
from accounts.credit.registry import provider_for
from accounts.realname.providers import VERIFY_PATH, IdentityUnavailable
from accounts.realname.registry import identity_provider
from accounts.sms.gateways import SEND_PATH, SmsUnavailable
from accounts.sms.registry import gateway
from core import partner_protocol as protocol
from core.partner_http import PartnerClient
from merchants.credit.providers import QUERY_PATH as ENTERPRISE_QUERY_PATH
from merchants.credit.registry import enterprise_provider
from tests.merchants.factories import credit_code

PERSON = protocol.person_hash(b"test-alliance-id-key", "330106198803120118")
ENTERPRISE = credit_code(7)


@dataclass(frozen=True)
class Partner:
    name: str
    path: str
    error: type[Exception]

    def configure(self, settings, server, **conf: Any) -> None:
        conf = {
            "kind": "http",
            "base_url": server.base_url,
            "app_key": server.app_key,
            "app_secret": server.app_secret,
            "retries": 2,
            "backoff": 0.01,
            "timeout": 2,
            **conf,
        }
        if self.name == "credit":
            settings.CREDIT_PROVIDERS = {"330100": conf}
            server.persons[PERSON] = {"score": 700, "seriously_dishonest": False}
        elif self.name == "enterprise":
            settings.ENTERPRISE_CREDIT_PROVIDER = conf
            server.enterprises[ENTERPRISE] = {"grade": "A", "seriously_dishonest": False}
        elif self.name == "identity":
            settings.IDENTITY_PROVIDER = conf
            server.routes[VERIFY_PATH] = lambda body: (
                200,
                {"person_hash": body["person_hash"], "match": True, "check_id": "chk-1"},
            )
        else:
            settings.SMS_GATEWAY = conf
            server.routes[SEND_PATH] = lambda body: (
                200,
                {"request_id": body["request_id"], "message_id": "m-1"},
            )

    def client(self) -> Any:
        return {
            "credit": lambda: provider_for("330100"),
            "enterprise": enterprise_provider,
            "identity": identity_provider,
            "sms": gateway,
        }[self.name]()

    def call(self, client: Any) -> str:
        """One call; a value the partner's answer carried."""
        if self.name == "credit":
            answer = client.query(person_hash=PERSON, purpose="t", consent_ref="c-1")
            return str(answer.score)
        if self.name == "enterprise":
            return client.query(credit_code=ENTERPRISE, purpose="t").grade
        if self.name == "identity":
            return client.verify(person_hash=PERSON, real_name="王小明").reference
        return client.send_code(phone="13812345678", code="042917", minutes=5, text="")


PARTNERS = [
    Partner("credit", QUERY_PATH, ProviderUnavailable),
    Partner("enterprise", ENTERPRISE_QUERY_PATH, ProviderUnavailable),
    Partner("identity", VERIFY_PATH, IdentityUnavailable),
    Partner("sms", SEND_PATH, SmsUnavailable),
]
EXPECTED = {"credit": "700", "enterprise": "A", "identity": "chk-1", "sms": "m-1"}

each_partner = pytest.mark.parametrize("partner", PARTNERS, ids=lambda p: p.name)


@each_partner
def test_each_partner_sends_signed_requests_through_the_one_transport(
    partner, settings, partner_server
):
    partner.configure(settings, partner_server)
    client = partner.client()
    assert isinstance(client.http, PartnerClient)
    assert partner.call(client) == EXPECTED[partner.name]
    assert partner_server.paths == [partner.path]
    assert partner_server.unauthorized == 0  # the server checked and accepted the signature


@each_partner
def test_each_partners_signature_is_checked_by_the_server(partner, settings, partner_server):
    partner.configure(settings, partner_server, app_secret="not-the-shared-secret")
    with pytest.raises(partner.error, match="HTTP 401"):
        partner.call(partner.client())
    assert (partner_server.requests_received, partner_server.unauthorized) == (1, 1)


@each_partner
def test_each_partner_retries_5xx_signing_every_attempt_anew(partner, settings, partner_server):
    partner.configure(settings, partner_server)
    partner_server.fail_next = 2
    assert partner.call(partner.client()) == EXPECTED[partner.name]
    assert partner_server.requests_received == 3
    assert partner_server.unauthorized == 0  # no attempt replayed an earlier nonce


@each_partner
def test_each_partner_gives_up_after_its_retries(partner, settings, partner_server):
    partner.configure(settings, partner_server, retries=1)
    partner_server.set_mode("error500")
    with pytest.raises(partner.error, match="HTTP 500 after 2 attempt"):
        partner.call(partner.client())
    assert partner_server.requests_received == 2


@each_partner
def test_each_partner_retries_a_timeout(partner, settings, partner_server):
    partner.configure(settings, partner_server, retries=1, timeout=0.2)
    partner_server.set_mode("slow", slow_seconds=0.6)
    with pytest.raises(partner.error, match="Timeout after 2 attempt"):
        partner.call(partner.client())
    assert partner_server.requests_received == 2


@each_partner
@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("bad_signature", "bad_signature"),
        ("stale_timestamp", "stale_timestamp"),
        ("future_timestamp", "future_timestamp"),
        ("unsigned", "missing_headers"),
    ],
)
def test_each_partner_refuses_an_unauthenticated_answer_without_retrying(
    partner, settings, partner_server, mode, reason
):
    partner.configure(settings, partner_server)
    partner_server.set_mode(mode)
    with pytest.raises(partner.error, match=reason):
        partner.call(partner.client())
    assert partner_server.requests_received == 1
