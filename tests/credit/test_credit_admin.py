"""Credit admin through real HTTP requests: schemes per city staff, rule versions that
break the band rules are refused, the query audit is read-only for everyone."""

import pytest

from accounts.credit import services
from accounts.credit.models import CreditQuery, RuleVersion, Scheme
from accounts.models import City, User
from accounts.reference import CONSENT_V1, load_reference_data
from tests.factories import ResidentFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schemes(db):
    load_reference_data()


def _inline(scheme: Scheme, bands: dict, version: int = 2) -> dict:
    data = {
        "name": scheme.name,
        "name_en": scheme.name_en,
        "validity_days": scheme.validity_days,
        "illustrative": "on" if scheme.illustrative else "",
        "note": scheme.note,
        "rule_versions-TOTAL_FORMS": "1",
        "rule_versions-INITIAL_FORMS": "0",
        "rule_versions-MIN_NUM_FORMS": "0",
        "rule_versions-MAX_NUM_FORMS": "1000",
        "rule_versions-0-version": str(version),
        "rule_versions-0-effective_from_0": "2026-12-01",
        "rule_versions-0-effective_from_1": "00:00:00",
    }
    for tier, (lo, hi) in bands.items():
        data[f"rule_versions-0-{tier}_lo"] = str(lo)
        data[f"rule_versions-0-{tier}_hi"] = str(hi)
    return data


GOOD = {"poor": (0, 579), "fair": (580, 649), "good": (650, 749), "excellent": (750, 1000)}


def test_city_staff_adds_a_version_to_their_own_scheme(schemes, client):
    staff = StaffFactory(staff_city=City.objects.get(code="330100"))
    client.force_login(staff)
    qjf = Scheme.objects.get(name="钱江分")
    assert client.get("/admin/accounts/scheme/").status_code == 200
    res = client.post(f"/admin/accounts/scheme/{qjf.pk}/change/", _inline(qjf, GOOD))
    assert res.status_code == 302, res.content.decode()[:2000]
    new = RuleVersion.objects.get(scheme=qjf, version=2)
    assert (new.fair_lo, new.created_by) == (580, staff)
    assert RuleVersion.objects.get(scheme=qjf, version=1).fair_lo == 550  # untouched


@pytest.mark.parametrize(
    ("bands", "words"),
    [
        ({**GOOD, "fair": (570, 660)}, "overlaps"),
        ({**GOOD, "fair": (590, 649)}, "Gap"),
        ({**GOOD, "excellent": (750, 1200)}, "outside the scheme range"),
    ],
)
def test_versions_that_overlap_leave_gaps_or_leave_the_range_are_refused(
    schemes, client, bands, words
):
    staff = StaffFactory(staff_city=City.objects.get(code="330100"))
    client.force_login(staff)
    qjf = Scheme.objects.get(name="钱江分")
    res = client.post(f"/admin/accounts/scheme/{qjf.pk}/change/", _inline(qjf, bands))
    assert res.status_code == 200  # the form again, with the message
    page = res.content.decode()
    assert "分段规则有误" in page and words in page
    assert not RuleVersion.objects.filter(scheme=qjf, version=2).exists()


def test_an_admin_version_goes_through_the_service_and_its_numbering(schemes, client):
    """add_rule_version's own rule (a new number comes after every existing one) holds in
    admin: version 0 passes the form's field rules but not the service."""
    staff = StaffFactory(staff_city=City.objects.get(code="330100"))
    client.force_login(staff)
    qjf = Scheme.objects.get(name="钱江分")
    res = client.post(f"/admin/accounts/scheme/{qjf.pk}/change/", _inline(qjf, GOOD, version=0))
    assert res.status_code == 200
    assert "版本号须大于现有的最新版本 1" in res.content.decode()
    assert list(qjf.rule_versions.values_list("version", flat=True)) == [1]
    res = client.post(f"/admin/accounts/scheme/{qjf.pk}/change/", _inline(qjf, GOOD, version=3))
    assert res.status_code == 302
    made = RuleVersion.objects.get(scheme=qjf, version=3)
    assert made.created_by == staff and made.as_dict()["good"] == [650, 749]


def test_staff_of_a_city_that_only_uses_a_scheme_cannot_version_it(schemes, client):
    """金椰分 is 海口's; 三亚 uses it and sees it, but a forged POST adds nothing."""
    client.force_login(StaffFactory(staff_city=City.objects.get(code="460200")))
    jinye = Scheme.objects.get(name="金椰分")
    assert client.get(f"/admin/accounts/scheme/{jinye.pk}/change/").status_code == 200
    bands = {t: tuple(b) for t, b in jinye.rule_in_force().as_dict().items()}
    res = client.post(f"/admin/accounts/scheme/{jinye.pk}/change/", _inline(jinye, bands))
    assert res.status_code == 403
    assert not RuleVersion.objects.filter(scheme=jinye, version=2).exists()


def test_a_superuser_adds_a_scheme_with_its_first_version(schemes, client):
    root = User.objects.create_superuser("18800000001", "pw-123456-x")
    client.force_login(root)
    data = {
        "name": "新试点分",
        "name_en": "Pilot",
        "kind": "numeric",
        "min_score": "0",
        "max_score": "1000",
        "validity_days": "30",
        "grades": "[]",
        "note": "",
        "owner_city": "330100",
        **{k: v for k, v in _inline(Scheme(), GOOD, version=1).items() if "rule_versions" in k},
    }
    res = client.post("/admin/accounts/scheme/add/", data)
    assert res.status_code == 302, res.content.decode()[:3000]
    made = RuleVersion.objects.get(scheme__name="新试点分")
    assert (made.version, made.created_by, made.fair_lo) == (1, root, 580)


def test_city_staff_cannot_reach_another_citys_scheme(schemes, client):
    client.force_login(StaffFactory(staff_city=City.objects.get(code="460100")))
    qjf = Scheme.objects.get(name="钱江分")
    listing = client.get("/admin/accounts/scheme/").content.decode()
    assert "金椰分" in listing and "钱江分" not in listing
    res = client.post(f"/admin/accounts/scheme/{qjf.pk}/change/", _inline(qjf, GOOD))
    assert res.status_code == 404
    assert not RuleVersion.objects.filter(scheme=qjf, version=2).exists()


def test_the_query_audit_is_read_only_even_for_superusers(schemes, client):
    resident = ResidentFactory(home_city=City.objects.get(code="330100"))
    services.give_consent(resident=resident, version=CONSENT_V1["version"])
    services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t")
    row = CreditQuery.objects.get()
    admin = User.objects.create_superuser("13800009999", "Trust-reward-2026")
    client.force_login(admin)
    listing = client.get("/admin/accounts/creditquery/")
    assert listing.status_code == 200
    assert resident.id_masked in listing.content.decode()
    page = client.get(f"/admin/accounts/creditquery/{row.pk}/change/")
    assert page.status_code == 200 and 'name="outcome"' not in page.content.decode()
    client.post(f"/admin/accounts/creditquery/{row.pk}/change/", {"outcome": "not_found"})
    assert client.post(f"/admin/accounts/creditquery/{row.pk}/delete/").status_code == 403
    assert client.get("/admin/accounts/creditquery/add/").status_code == 403
    row.refresh_from_db()
    assert row.outcome == "ok" and CreditQuery.objects.count() == 1


def test_residents_and_merchant_staff_have_no_admin(schemes, client):
    resident = ResidentFactory(home_city=City.objects.get(code="330100"))
    client.force_login(resident)
    assert client.get("/admin/accounts/creditquery/").status_code == 302  # to login


def test_cities_api_publishes_each_scheme_and_its_bands(schemes, api_client):
    cities = {
        c["code"]: c for c in api_client.get("/api/v1/cities?page_size=100").json()["results"]
    }
    hz = cities["330100"]["scheme"]
    assert hz["name"] == "钱江分" and (hz["min_score"], hz["max_score"]) == (0, 1000)
    assert hz["tiers"][0] == {"tier": "poor", "min_score": 0, "max_score": 549}
    assert cities["460100"]["scheme"]["name"] == cities["460200"]["scheme"]["name"] == "金椰分"
    assert cities["410100"]["scheme"]["max_score"] == 200
    assert all(c["scheme"] for c in cities.values())
