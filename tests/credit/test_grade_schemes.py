"""Grade schemes end to end: 榆林 桃花分 as grades (data migration and demo), grade
standings from the sandbox and from a real partner server (malformed grades refused and
audited), equivalents both ways, the cities API, offers asking for a minimum grade, and
grade rule versions edited in admin."""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.utils import timezone

from accounts.credit import services
from accounts.credit.models import CreditQuery, RuleVersion, Scheme, Standing
from accounts.demo import CONSENT_V1
from accounts.models import City
from tests.factories import ResidentFactory, StaffFactory
from tests.incentives.conftest import client_for, make_resident, publish, world  # noqa: F401
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db

YL_ID = "610802199001010018"
TAOHUA = ["AAA", "AA", "A", "B", "C", "D"]


def yulin_resident(grade: str, *, listed: bool = False):
    """A 榆林 resident whose grade standing (桃花分) is on file."""
    resident = ResidentFactory(home_city_id="610800")
    services.give_consent(resident=resident, version=CONSENT_V1["version"])
    rule = Scheme.objects.get(name="桃花分").rule_in_force()
    now = timezone.now()
    Standing.objects.create(
        resident=resident,
        city_id="610800",
        rule_version=rule,
        score=None,
        grade=grade,
        tier=rule.grade_scale.tier(grade),
        seriously_dishonest=listed,
        verified_at=now,
        valid_until=now + timedelta(days=30),
    )
    return resident


def test_taohua_is_a_grade_scheme_in_the_demo_and_the_cities_api(world, api_client):  # noqa: F811
    body = api_client.get("/api/v1/cities?page_size=100").json()
    cities = {c["code"]: c for c in body.get("results", body)}
    taohua = cities["610800"]["scheme"]
    assert (taohua["name"], taohua["kind"], taohua["min_score"], taohua["tiers"]) == (
        "桃花分",
        "grade",
        None,
        [],
    )
    assert [g["grade"] for g in taohua["grades"]] == TAOHUA
    assert [g["tier"] for g in taohua["grades"]] == [
        "excellent",
        "excellent",
        "good",
        "fair",
        "poor",
        "poor",
    ]
    qianjiang = cities["330100"]["scheme"]
    assert (qianjiang["kind"], qianjiang["grades"], len(qianjiang["tiers"])) == ("numeric", [], 4)


def test_the_data_migration_turns_a_numeric_taohua_into_grades(world):  # noqa: F811
    old = Scheme.objects.get(name="桃花分")
    City.objects.filter(code="610800").update(scheme=None)
    old.name = "桃花分（旧）"
    old.save()
    numeric = Scheme.objects.create(name="桃花分", min_score=0, max_score=1000)
    RuleVersion.objects.create(
        scheme=numeric, version=1, poor_lo=0, poor_hi=599, fair_lo=600, fair_hi=699,
        good_lo=700, good_hi=799, excellent_lo=800, excellent_hi=1000,
    )  # fmt: skip
    migration = importlib.import_module("accounts.migrations.0010_grade_schemes")
    migration.taohua_becomes_a_grade_scheme(global_apps, None)
    migration.taohua_becomes_a_grade_scheme(global_apps, None)  # idempotent
    numeric.refresh_from_db()
    assert (numeric.kind, numeric.grades, numeric.min_score) == ("grade", TAOHUA, None)
    versions = list(numeric.rule_versions.order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].poor_hi == 599  # the numeric version stays for its standings
    assert versions[1].grade_scale.tier("A") == "good"
    assert numeric.rule_in_force() == versions[1]


def test_a_grade_citys_sandbox_answers_a_grade_and_the_standing_has_no_score(
    world,  # noqa: F811
    settings,
    tmp_path,
):
    persons = tmp_path / "persons.json"
    persons.write_text(json.dumps({YL_ID: {"grade": "AA", "city": "610800"}}))
    settings.CREDIT_PROVIDERS = {"610800": {"kind": "sandbox", "persons_file": str(persons)}}
    resident = ResidentFactory(home_city_id="610800", id_number=YL_ID)
    services.give_consent(resident=resident, version=CONSENT_V1["version"])
    assert services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t") == "ok"
    standing = client_for(resident).get("/api/v1/me/credit").json()
    assert (standing["grade"], standing["score"], standing["tier"]) == ("AA", None, "excellent")
    eq = {e["city"]: e for e in standing["equivalents"]}
    assert eq["330100"]["grade"] is None and eq["330100"]["tier"] == "excellent"
    assert 700 <= eq["330100"]["score"] <= 850  # AA's share of 钱江分's excellent band


def test_a_partner_servers_grade_is_checked_and_a_malformed_one_refused_and_audited(
    world,  # noqa: F811
    settings,
    partner_server,
):
    settings.CREDIT_PROVIDERS = {
        "610800": {
            "kind": "http",
            "base_url": partner_server.base_url,
            "app_key": partner_server.app_key,
            "app_secret": partner_server.app_secret,
            "retries": 0,
        }
    }
    resident = ResidentFactory(home_city_id="610800", id_number=YL_ID)
    services.give_consent(resident=resident, version=CONSENT_V1["version"])
    for bad in ("E", "a", 3, None):
        partner_server.persons[resident.id_hash] = {"grade": bad, "seriously_dishonest": False}
        outcome = services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t")
        assert outcome == "unavailable"
    assert not Standing.objects.filter(resident=resident).exists()
    audit = CreditQuery.objects.filter(resident=resident)
    assert audit.count() == 4 and all("grade" in q.error for q in audit)
    partner_server.persons[resident.id_hash] = {"grade": "B", "seriously_dishonest": False}
    assert services.query_provider(resident_id=resident.pk, purpose="t", requested_by="t") == "ok"
    standing = Standing.objects.get(resident=resident)
    assert (standing.grade, standing.score, standing.tier) == ("B", None, "fair")


@pytest.fixture
def yulin_offer(world):  # noqa: F811
    merchant = MerchantFactory(city_id="610800", name="榆林古城")
    return publish(merchant=merchant, min_tier="", min_grade="A", title="榆林 A 及以上")


@pytest.mark.parametrize(
    ("home", "value", "eligible"),
    [
        ("330100", 812, True),  # excellent → AA/AAA
        ("330100", 655, True),  # good → A
        ("330100", 599, False),  # fair → B
        ("610800", "AAA", True),
        ("610800", "A", True),
        ("610800", "B", False),
        ("610800", "D", False),
    ],
)
def test_an_offer_in_a_grade_city_asks_for_a_minimum_grade(yulin_offer, home, value, eligible):
    resident = make_resident(home, value) if home != "610800" else yulin_resident(value)
    rows = client_for(resident).get("/api/v1/offers?city=610800").json()["results"]
    assert rows[0]["eligibility_rule"]["min_grade"] == "A"
    assert rows[0]["eligibility"] == {
        "eligible": eligible,
        # a minimum grade is a grade city's minimum local score (domain.md)
        "reasons": [] if eligible else ["score_too_low"],
    }
    res = client_for(resident).post(f"/api/v1/offers/{yulin_offer.pk}/claim")
    assert res.status_code == (201 if eligible else 403)


def test_a_grade_resident_meets_numeric_offers_through_the_tier(world):  # noqa: F811
    hz = MerchantFactory(city_id="330100")
    offer = publish(merchant=hz, min_tier="", min_score=600, title="钱江分 600")
    for grade, eligible in (("AA", True), ("A", True), ("B", False)):
        rows = client_for(yulin_resident(grade)).get("/api/v1/offers?city=330100").json()
        assert rows["results"][0]["eligibility"]["eligible"] is eligible, grade
    listed = yulin_resident("AAA", listed=True)
    res = client_for(listed).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.json()["error"]["detail"]["reasons"] == ["seriously_dishonest"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"min_grade": "E"}, "min_grade", "未知等级 E"),
        ({"min_grade": "A", "min_tier": "good"}, "min_grade", "不能与"),
        ({"min_score": 600}, "min_score", "等级制体系"),
    ],
)
def test_minimum_grades_are_checked_against_the_citys_scheme(world, fields, field, words):  # noqa: F811
    from merchants import services as offers
    from tests.merchants.factories import merchant_staff

    merchant = MerchantFactory(city_id="610800")
    base = {
        "title": "测试",
        "description": "测试",
        "category": "scenic",
        "benefit_type": "free_entry",
        "min_tier": "",
        "valid_from": timezone.now(),
        "valid_until": timezone.now() + timedelta(days=3),
    }
    with pytest.raises(Exception) as caught:
        offers.create_offer(
            actor=merchant_staff(merchant), merchant=merchant, fields={**base, **fields}
        )
    assert any(words in m for m in caught.value.detail[field])
    hz = MerchantFactory(city_id="330100")
    with pytest.raises(Exception) as caught:
        offers.create_offer(
            actor=merchant_staff(hz), merchant=hz, fields={**base, "min_grade": "A"}
        )
    assert "min_grade" in caught.value.detail


def _grade_form(scheme: Scheme, lines: str, version: int = 2) -> dict:
    return {
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
        "rule_versions-0-grade_tiers": lines,
    }


GOOD_LINES = "AAA = 优秀\nAA = 优秀\nA = 良好\nB = 一般\nC = 一般\nD = 较差"


def test_city_staff_add_a_grade_rule_version_in_admin(world, client):  # noqa: F811
    staff = StaffFactory(staff_city=City.objects.get(code="610800"))
    client.force_login(staff)
    taohua = Scheme.objects.get(name="桃花分")
    page = client.get(f"/admin/accounts/scheme/{taohua.pk}/change/").content.decode()
    assert "&quot;A&quot;: &quot;good&quot;" in page  # the version in force
    res = client.post(
        f"/admin/accounts/scheme/{taohua.pk}/change/", _grade_form(taohua, GOOD_LINES)
    )
    assert res.status_code == 302, res.content.decode()[:3000]
    new = RuleVersion.objects.get(scheme=taohua, version=2)
    assert new.grade_tiers["C"] == "fair" and new.created_by == staff
    assert RuleVersion.objects.get(scheme=taohua, version=1).grade_tiers["C"] == "poor"


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (GOOD_LINES + "\nE = 较差", "未知等级：E"),
        (GOOD_LINES.replace("\nD = 较差", ""), "缺少等级：D"),
        (GOOD_LINES.replace("B = 一般", "B = 优秀"), "out of order"),
        (GOOD_LINES.replace("A = 良好", "A = 很好"), "第 3 行"),
    ],
)
def test_a_bad_grade_rule_version_is_a_clear_admin_error(world, client, lines, words):  # noqa: F811
    client.force_login(StaffFactory(staff_city=City.objects.get(code="610800")))
    taohua = Scheme.objects.get(name="桃花分")
    res = client.post(f"/admin/accounts/scheme/{taohua.pk}/change/", _grade_form(taohua, lines))
    assert res.status_code == 200
    assert words in res.content.decode()
    assert not RuleVersion.objects.filter(scheme=taohua, version=2).exists()
