"""Consent, verification, standings, audit, the dishonest list and refreshes — through the
API and the services, on PostgreSQL and Redis, against the sandbox and a real partner
server."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.credit import services
from accounts.credit.models import Consent, CreditQuery, ListedPerson, RuleVersion, Standing
from accounts.reference import CONSENT_V1, load_reference_data
from accounts.signals import resident_listed
from tests.conftest import bearer
from tests.factories import ResidentFactory

VERSION = CONSENT_V1["version"]
HZ_EXCELLENT = "330106198803120118"  # sandbox: 钱江分 812
HZ_LISTED = "330108198306040531"  # sandbox: on the list


@pytest.fixture
def schemes(db):
    load_reference_data()


@pytest.fixture
def hz_resident(schemes):
    from accounts.models import City

    return ResidentFactory(home_city=City.objects.get(code="330100"), id_number=HZ_EXCELLENT)


@pytest.fixture
def client_of():
    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(**bearer(user))
        return client

    return make


@pytest.fixture
def consented(hz_resident):
    services.give_consent(resident=hz_resident, version=VERSION)
    return hz_resident


@pytest.fixture
def http_hangzhou(settings, partner_server):
    """杭州's provider is the partner open platform served by the test server."""
    settings.CREDIT_PROVIDERS = {
        "330100": {
            "kind": "http",
            "base_url": partner_server.base_url,
            "app_key": partner_server.app_key,
            "app_secret": partner_server.app_secret,
            "timeout": 0.5,
            "retries": 1,
            "backoff": 0.01,
            "breaker_failures": 3,
            "breaker_reset": 1,
        }
    }
    return partner_server


# --------------------------------------------------------------------------- consent


@pytest.mark.django_db
def test_consent_lifecycle_keeps_every_record(hz_resident, client_of):
    api = client_of(hz_resident)
    assert api.get("/api/v1/me/credit/consent").status_code == 404
    text = api.get("/api/v1/credit/consent-text").json()
    assert text["version"] == VERSION and "授权" in text["title"]
    en = api.get("/api/v1/credit/consent-text", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["title"].startswith("Authorisation")

    given = api.post(
        "/api/v1/me/credit/consent", {"consent_version": VERSION, "accept": True}, format="json"
    )
    assert given.status_code == 201 and given.json()["active"] is True
    assert api.get("/api/v1/me/credit/consent").json()["consent_version"] == VERSION
    assert api.delete("/api/v1/me/credit/consent").status_code == 204
    assert api.get("/api/v1/me/credit/consent").status_code == 404
    again = api.post(
        "/api/v1/me/credit/consent", {"consent_version": VERSION, "accept": True}, format="json"
    )
    assert again.status_code == 201
    assert Consent.objects.filter(resident=hz_resident).count() == 2  # never deleted
    assert Consent.objects.filter(resident=hz_resident, withdrawn_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"consent_version": "1999-01", "accept": True},
        {"consent_version": VERSION, "accept": False},
        {"consent_version": VERSION},
    ],
)
@pytest.mark.django_db
def test_unknown_version_or_no_acceptance_is_invalid(hz_resident, client_of, payload):
    res = client_of(hz_resident).post("/api/v1/me/credit/consent", payload, format="json")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_request"
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_outdated_consent_version_is_refused(hz_resident, client_of):
    from accounts.credit.models import ConsentText

    ConsentText.objects.update(is_current=False)
    ConsentText.objects.create(
        version="2026-09",
        title_zh="新",
        title_en="new",
        body_zh="新",
        body_en="new",
        is_current=True,
    )
    res = client_of(hz_resident).post(
        "/api/v1/me/credit/consent", {"consent_version": VERSION, "accept": True}, format="json"
    )
    assert res.status_code == 400


@pytest.mark.django_db
def test_staff_cannot_use_resident_credit_endpoints(schemes, client_of):
    from tests.factories import StaffFactory

    staff = StaffFactory(staff_city_id="330100")
    res = client_of(staff).post("/api/v1/me/credit/verify")
    assert res.status_code == 403 and res.json()["error"]["code"] == "permission_denied"


# --------------------------------------------------------------------------- verify


@pytest.mark.django_db
def test_verify_without_consent_is_refused_and_queries_nothing(hz_resident, client_of):
    res = client_of(hz_resident).post("/api/v1/me/credit/verify")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "consent_required"
    assert not CreditQuery.objects.exists()


@pytest.mark.django_db
def test_verify_gives_tier_equivalents_and_an_audit_row(consented, client_of):
    api = client_of(consented)
    assert api.get("/api/v1/me/credit").json()["error"]["code"] == "no_standing"
    res = api.post("/api/v1/me/credit/verify")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["scheme"] == "钱江分" and body["score"] == 812 and body["tier"] == "excellent"
    assert body["seriously_dishonest"] is False and body["stale"] is False
    assert body["rule_version"] == 1
    eq = {e["city"]: e for e in body["equivalents"]}
    assert "330100" not in eq and len(eq) == 16
    # 钱江分 812 in 700–1000 → 金椰分 720 + 112·280/300 = 824.53 → 825, still excellent
    assert eq["460100"] == {**eq["460100"], "scheme": "金椰分", "score": 825, "tier": "excellent"}
    assert all(e["tier"] == "excellent" for e in eq.values())
    assert api.get("/api/v1/me/credit").json()["score"] == 812

    audit = CreditQuery.objects.get()
    assert audit.outcome == "ok" and audit.city_id == "330100"
    assert audit.consent.resident_id == consented.pk
    assert audit.purpose == services.PURPOSE_ELIGIBILITY and audit.requested_by == "resident"
    assert audit.id_masked == "3301**********0118"
    assert audit.rule_version.version == 1


@pytest.mark.django_db
def test_a_recent_standing_is_served_without_a_new_query(consented, client_of):
    api = client_of(consented)
    api.post("/api/v1/me/credit/verify")
    api.post("/api/v1/me/credit/verify")
    assert CreditQuery.objects.count() == 1


@pytest.mark.django_db
def test_withdrawal_stops_every_later_query_and_refresh(consented, client_of):
    api = client_of(consented)
    api.post("/api/v1/me/credit/verify")
    api.delete("/api/v1/me/credit/consent")
    assert api.post("/api/v1/me/credit/verify").json()["error"]["code"] == "consent_required"
    Standing.objects.update(valid_until=timezone.now() + timedelta(hours=1))
    assert services.refresh_lapsing_standings() == 0
    assert (
        services.query_provider(resident_id=consented.pk, purpose="x", requested_by="test")
        == "no_consent"
    )
    assert CreditQuery.objects.count() == 1


@pytest.mark.django_db
def test_provider_down_serves_the_last_standing_as_stale(consented, client_of, settings):
    api = client_of(consented)
    api.post("/api/v1/me/credit/verify")
    Standing.objects.update(verified_at=timezone.now() - timedelta(hours=1))
    settings.CREDIT_SANDBOX_DOWN_CITIES = ["330100"]
    res = api.post("/api/v1/me/credit/verify")
    assert res.status_code == 200
    assert res.json()["stale"] is True and res.json()["score"] == 812
    assert api.get("/api/v1/me/credit").json()["stale"] is True
    assert CreditQuery.objects.filter(outcome="unavailable").count() == 1


@pytest.mark.django_db
def test_provider_down_without_a_standing_is_503(consented, client_of, settings):
    settings.CREDIT_SANDBOX_DOWN_CITIES = ["330100"]
    res = client_of(consented).post("/api/v1/me/credit/verify")
    assert res.status_code == 503
    assert res.json()["error"]["code"] == "provider_unavailable"
    assert CreditQuery.objects.get().outcome == "unavailable"


@pytest.mark.django_db
def test_new_rule_version_applies_to_later_verifications_only(consented, client_of):
    api = client_of(consented)
    api.post("/api/v1/me/credit/verify")
    first = Standing.objects.get()
    scheme = first.rule_version.scheme
    RuleVersion.objects.create(
        scheme=scheme,
        version=2,
        effective_from=timezone.now() - timedelta(seconds=1),
        poor_lo=0,
        poor_hi=599,
        fair_lo=600,
        fair_hi=699,
        good_lo=700,
        good_hi=849,
        excellent_lo=850,
        excellent_hi=1000,
    )
    first.refresh_from_db()
    assert first.rule_version.version == 1 and first.tier == "excellent"
    Standing.objects.update(verified_at=timezone.now() - timedelta(hours=1))
    body = api.post("/api/v1/me/credit/verify").json()
    assert body["rule_version"] == 2 and body["tier"] == "good"  # 812 < 850


@pytest.mark.django_db
def test_a_saved_rule_version_is_never_rewritten(schemes):
    from django.core.exceptions import ValidationError

    rule = RuleVersion.objects.first()
    rule.poor_hi = 1
    with pytest.raises(ValidationError):
        rule.save()


# --------------------------------------------------------------------------- partner API


@pytest.mark.django_db
def test_person_not_found_at_the_partner_is_no_standing(consented, client_of, http_hangzhou):
    http_hangzhou.set_mode("not_found")
    res = client_of(consented).post("/api/v1/me/credit/verify")
    assert res.status_code == 404
    assert res.json()["error"] == {**res.json()["error"], "code": "no_standing"}
    assert CreditQuery.objects.get().outcome == "not_found"


@pytest.mark.parametrize("mode", ["error500", "malformed_json", "bad_signature", "slow"])
@pytest.mark.django_db
def test_every_partner_failure_is_503_never_500(consented, client_of, http_hangzhou, mode):
    http_hangzhou.persons[consented.id_hash] = {"score": 700, "seriously_dishonest": False}
    http_hangzhou.set_mode(mode, slow_seconds=1.0)
    res = client_of(consented).post("/api/v1/me/credit/verify")
    assert res.status_code == 503, res.content
    assert res.json()["error"]["code"] == "provider_unavailable"
    assert CreditQuery.objects.get().outcome == "unavailable"


@pytest.mark.django_db
def test_partner_answer_becomes_the_standing(consented, client_of, http_hangzhou):
    http_hangzhou.persons[consented.id_hash] = {"score": 650, "seriously_dishonest": False}
    body = client_of(consented).post("/api/v1/me/credit/verify").json()
    assert body["score"] == 650 and body["tier"] == "good"
    assert http_hangzhou.requests_received == 1


@pytest.mark.django_db
def test_open_breaker_sends_nothing_and_is_audited(consented, client_of, http_hangzhou):
    http_hangzhou.set_mode("error500")
    api = client_of(consented)
    for _ in range(3):  # breaker_failures = 3
        Standing.objects.all().delete()
        api.post("/api/v1/me/credit/verify")
    seen = http_hangzhou.requests_received
    res = api.post("/api/v1/me/credit/verify")
    assert res.status_code == 503
    assert http_hangzhou.requests_received == seen  # nothing sent while open
    assert CreditQuery.objects.order_by("-created_at").first().outcome == "breaker_open"


@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_make_one_provider_query(settings, partner_server):
    load_reference_data()
    from accounts.models import City

    resident = ResidentFactory(home_city=City.objects.get(code="330100"), id_number=HZ_EXCELLENT)
    services.give_consent(resident=resident, version=VERSION)
    settings.CREDIT_PROVIDERS = {
        "330100": {
            "kind": "http",
            "base_url": partner_server.base_url,
            "app_key": partner_server.app_key,
            "app_secret": partner_server.app_secret,
            "timeout": 3,
            "retries": 0,
        }
    }
    settings.CREDIT_VERIFY_BUDGET_SECONDS = 5
    partner_server.persons[resident.id_hash] = {"score": 720, "seriously_dishonest": False}
    partner_server.set_mode("slow", slow_seconds=0.6)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def verify() -> None:
        client = APIClient()
        client.credentials(**bearer(resident))
        barrier.wait()
        try:
            statuses.append(client.post("/api/v1/me/credit/verify").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=verify) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6
    assert partner_server.requests_received == 1
    assert CreditQuery.objects.count() == 1


# --------------------------------------------------------------------------- list & refresh


@pytest.mark.django_db
def test_list_sync_marks_listed_residents_and_signals_once(
    schemes, django_capture_on_commit_callbacks
):
    from accounts.models import City

    listed = ResidentFactory(home_city=City.objects.get(code="330100"), id_number=HZ_LISTED)
    services.give_consent(resident=listed, version=VERSION)
    services.query_provider(resident_id=listed.pk, purpose="t", requested_by="t")
    standing = Standing.objects.get(resident=listed)
    assert standing.seriously_dishonest is True  # the provider's own flag
    Standing.objects.update(seriously_dishonest=False)
    got: list[int] = []

    def receiver(sender, resident_id, **kwargs):
        got.append(resident_id)

    resident_listed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = services.sync_dishonest_list(city_code="330100")
        with django_capture_on_commit_callbacks(execute=True):
            again = services.sync_dishonest_list(city_code="330100")
    finally:
        resident_listed.disconnect(receiver)
    assert report.entries == 1 and report.newly_listed == 1
    assert again.newly_listed == 0 and again.removed == 0
    assert got == [listed.pk]
    assert Standing.objects.get(resident=listed).seriously_dishonest is True
    assert ListedPerson.objects.filter(city="330100", person_hash=listed.id_hash).exists()


@pytest.mark.django_db
def test_credit_repair_restores_eligibility_in_the_same_sync(schemes, settings, tmp_path):
    from accounts.identity import id_hash
    from accounts.models import City

    resident = ResidentFactory(home_city=City.objects.get(code="330100"), id_number=HZ_EXCELLENT)
    services.give_consent(resident=resident, version=VERSION)
    list_file = tmp_path / "list.txt"
    list_file.write_text(id_hash(settings.ID_HASH_KEY, HZ_EXCELLENT) + "\n")
    settings.CREDIT_SANDBOX_LIST_FILE = str(list_file)
    services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t")
    services.sync_dishonest_list(city_code="330100")
    assert Standing.objects.get(resident=resident).seriously_dishonest is True
    services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t")
    assert Standing.objects.get(resident=resident).seriously_dishonest is True  # still listed

    list_file.write_text("")  # 信用修复: off the list
    report = services.sync_dishonest_list(city_code="330100")
    assert (report.removed, report.restored) == (1, 1)
    assert Standing.objects.get(resident=resident).seriously_dishonest is False  # at once
    Standing.objects.update(valid_until=timezone.now() + timedelta(hours=2))
    settings.CREDIT_REFRESH_SPREAD_SECONDS = 0
    assert services.refresh_lapsing_standings() == 1
    assert Standing.objects.get(resident=resident).seriously_dishonest is False  # and stays


@pytest.mark.django_db
def test_refresh_queues_each_lapsing_resident_once_and_skips_open_breakers(
    consented, settings, http_hangzhou
):
    from accounts.credit.registry import breaker_for

    http_hangzhou.persons[consented.id_hash] = {"score": 700, "seriously_dishonest": False}
    services.query_provider(resident_id=consented.pk, purpose="t", requested_by="t")
    Standing.objects.update(valid_until=timezone.now() + timedelta(hours=3))
    breaker = breaker_for("330100")
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state() == "open"
    assert services.refresh_lapsing_standings() == 0
    breaker.reset()
    settings.CREDIT_REFRESH_SPREAD_SECONDS = 0
    assert services.refresh_lapsing_standings() == 1
    assert services.refresh_lapsing_standings() == 0  # already queued
    assert CreditQuery.objects.filter(purpose=services.PURPOSE_REFRESH).count() == 1


@pytest.mark.django_db
def test_me_says_which_of_consent_and_standing_exist(hz_resident, client_of):
    """GET /me tells the app what to ask for: the same answers as the two endpoints, so a
    first visit asks for neither and meets no 404 (issue 13)."""
    api = client_of(hz_resident)

    def summary():
        credit = api.get("/api/v1/me").json()["credit"]
        consent = api.get("/api/v1/me/credit/consent").status_code == 200
        standing = api.get("/api/v1/me/credit").status_code == 200
        assert credit == {"consent": consent, "standing": standing}
        return credit

    assert summary() == {"consent": False, "standing": False}
    consent = {"consent_version": VERSION, "accept": True}
    assert api.post("/api/v1/me/credit/consent", consent, format="json").status_code == 201
    assert summary() == {"consent": True, "standing": False}
    assert api.post("/api/v1/me/credit/verify").status_code == 200
    assert summary() == {"consent": True, "standing": True}
    assert api.delete("/api/v1/me/credit/consent").status_code == 204
    assert summary()["consent"] is False


@pytest.mark.django_db
def test_me_has_no_credit_summary_for_staff(hz_resident, client_of):
    from tests.factories import StaffFactory

    staff = StaffFactory(staff_city=hz_resident.home_city)
    assert client_of(staff).get("/api/v1/me").json()["credit"] is None
