"""A scheme that several cities use (金椰分: 海口 and 三亚) belongs to one city: only that
city's staff (or a superuser) add its rule versions, in admin and in the service."""

import pytest

from accounts.credit import services
from accounts.credit.models import RuleVersion, Scheme
from accounts.models import City, User
from accounts.reference import load_reference_data
from core.errors import DomainError
from tests.credit.test_credit_admin import _inline
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

JINYE_V2 = {"poor": (0, 529), "fair": (530, 619), "good": (620, 719), "excellent": (720, 1000)}


@pytest.fixture
def jinye(db) -> Scheme:
    load_reference_data()
    return Scheme.objects.get(name="金椰分")


def staff_of(code: str) -> User:
    return StaffFactory(staff_city=City.objects.get(code=code))


def test_the_demo_gives_every_scheme_an_owning_city(jinye):
    assert jinye.owner_city_id == "460100"
    assert set(jinye.cities.values_list("code", flat=True)) == {"460100", "460200"}
    assert not Scheme.objects.filter(owner_city__isnull=True).exists()


def test_a_city_sharing_the_scheme_sees_it_but_cannot_add_versions(jinye, client):
    client.force_login(staff_of("460200"))  # 三亚 uses 金椰分, 海口 owns it
    page = client.get(f"/admin/accounts/scheme/{jinye.pk}/change/")
    assert page.status_code == 200
    res = client.post(f"/admin/accounts/scheme/{jinye.pk}/change/", _inline(jinye, JINYE_V2))
    assert res.status_code == 403
    assert not RuleVersion.objects.filter(scheme=jinye, version=2).exists()


def test_the_owning_city_adds_versions_to_the_shared_scheme(jinye, client):
    haikou = staff_of("460100")
    client.force_login(haikou)
    res = client.post(f"/admin/accounts/scheme/{jinye.pk}/change/", _inline(jinye, JINYE_V2))
    assert res.status_code == 302, res.content.decode()[:2000]
    assert RuleVersion.objects.get(scheme=jinye, version=2).created_by == haikou


def test_the_service_lets_only_the_owner_or_a_superuser_add_a_version(jinye):
    bands = {f"{t}_{e}": b[i] for t, b in JINYE_V2.items() for i, e in enumerate(("lo", "hi"))}
    with pytest.raises(DomainError) as refused:
        services.add_rule_version(actor=staff_of("460200"), scheme=jinye, version=2, **bands)
    assert refused.value.code == "permission_denied"
    assert not RuleVersion.objects.filter(scheme=jinye, version=2).exists()
    root = User.objects.create_superuser("18800009999", "Trust-reward-2026")
    made = services.add_rule_version(actor=root, scheme=jinye, version=2, **bands)
    assert (made.version, made.created_by, made.fair_lo) == (2, root, 530)
    made = services.add_rule_version(actor=staff_of("460100"), scheme=jinye, version=3, **bands)
    assert made.version == 3


def test_a_scheme_without_an_owner_takes_versions_from_a_superuser_only(jinye):
    lone = Scheme.objects.create(name="无主分", min_score=0, max_score=100)
    City.objects.filter(code="460200").update(scheme=lone)
    bands = {"poor_lo": 0, "poor_hi": 39, "fair_lo": 40, "fair_hi": 59, "good_lo": 60}
    bands |= {"good_hi": 79, "excellent_lo": 80, "excellent_hi": 100}
    with pytest.raises(DomainError):
        services.add_rule_version(actor=staff_of("460200"), scheme=lone, version=1, **bands)


def test_a_new_scheme_in_admin_needs_an_owning_city(jinye, client):
    root = User.objects.create_superuser("18800009998", "Trust-reward-2026")
    client.force_login(root)
    form = {
        "name": "新分",
        "kind": "numeric",
        "min_score": "0",
        "max_score": "100",
        "validity_days": "30",
        "rule_versions-TOTAL_FORMS": "0",
        "rule_versions-INITIAL_FORMS": "0",
        "rule_versions-MIN_NUM_FORMS": "0",
        "rule_versions-MAX_NUM_FORMS": "1000",
    }
    res = client.post("/admin/accounts/scheme/add/", form)
    assert res.status_code == 200 and not Scheme.objects.filter(name="新分").exists()
    res = client.post("/admin/accounts/scheme/add/", {**form, "owner_city": "460100"})
    assert res.status_code == 302
    assert Scheme.objects.get(name="新分").owner_city_id == "460100"
