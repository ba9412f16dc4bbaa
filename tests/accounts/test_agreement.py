"""The user agreement and privacy notice: public, versioned, accepted at registration with
time, apart from the credit consent; a new version makes the app ask again."""

import pytest
from django.utils import timezone

from accounts.credit.models import Consent
from accounts.legal.models import Agreement, AgreementAcceptance
from accounts.models import User
from tests.accounts.conftest import DROP, current_version
from tests.conftest import bearer


@pytest.mark.django_db
def test_the_current_agreement_is_public_in_both_languages(api_client):
    zh = api_client.get("/api/v1/legal/agreement").json()
    assert zh["version"] == current_version() and "隐私" in zh["title"] and zh["body"]
    en = api_client.get("/api/v1/legal/agreement", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["version"] == zh["version"] and "privacy" in en["title"]


@pytest.mark.django_db
@pytest.mark.parametrize("version", [DROP, "", "1999-01"])
def test_registration_without_the_current_version_is_agreement_required(register, version):
    res = register(agreement_version=version)
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "agreement_required"
    assert not User.objects.exists()


@pytest.mark.django_db
def test_acceptance_is_recorded_with_time_and_no_credit_consent(register):
    before = timezone.now()
    assert register().status_code == 201
    acceptance = AgreementAcceptance.objects.get()
    assert acceptance.agreement.version == current_version()
    assert acceptance.accepted_at >= before
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_a_new_version_asks_again_at_next_login(register, api_client):
    assert register().status_code == 201
    user = User.objects.get()
    me = api_client.get("/api/v1/me", **bearer(user)).json()
    assert me["agreement_outdated"] is False and me["agreement_version"] == current_version()
    Agreement.objects.update(is_current=False)
    Agreement.objects.create(
        version="2099-01", title_zh="新协议", title_en="New", body_zh="正文", body_en="Body",
        is_current=True,
    )  # fmt: skip
    me = api_client.get("/api/v1/me", **bearer(user)).json()
    assert me["agreement_outdated"] is True
    old = api_client.post(
        "/api/v1/me/agreement", {"agreement_version": "2026-01"}, format="json", **bearer(user)
    )
    assert old.status_code == 400 and old.json()["error"]["code"] == "agreement_required"
    res = api_client.post(
        "/api/v1/me/agreement", {"agreement_version": "2099-01"}, format="json", **bearer(user)
    )
    assert res.status_code == 201 and res.json()["agreement_version"] == "2099-01"
    assert api_client.get("/api/v1/me", **bearer(user)).json()["agreement_outdated"] is False
    assert AgreementAcceptance.objects.filter(user=user).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"agreement_version": None}, {"agreement_version": 2026}, {"agreement_version": "v" * 21}],
)
def test_accepting_with_bad_input_is_invalid_request(api_client, cities, body):
    from tests.factories import ResidentFactory

    user = ResidentFactory(home_city=cities["330100"])
    res = api_client.post("/api/v1/me/agreement", body, format="json", **bearer(user))
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_request"
    assert "agreement_version" in res.json()["error"]["detail"]
    assert not AgreementAcceptance.objects.exists()


@pytest.mark.django_db
def test_accepting_needs_a_login(api_client):
    res = api_client.post("/api/v1/me/agreement", {"agreement_version": "2026-01"}, format="json")
    assert res.status_code == 401 and res.json()["error"]["code"] == "not_authenticated"
