"""`bootstrap` loads the reference data and nothing else, twice as once; `seed_demo` runs it
first and refuses to run under the production settings."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.credit.conversion import DEMO_SCHEMES
from accounts.credit.grades import DEMO_GRADE_SCHEMES
from accounts.credit.models import ConsentText, RuleVersion, Scheme
from accounts.legal.models import Agreement
from accounts.legal.texts import AGREEMENT_V1
from accounts.models import City, User
from accounts.partner_cities import PARTNER_CITIES
from accounts.reference import CONSENT_V1
from merchants.models import Merchant, Offer

pytestmark = pytest.mark.django_db

REFERENCE = [City, Scheme, RuleVersion, ConsentText, Agreement]


def snapshot() -> dict[str, list[dict]]:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in REFERENCE}


def bootstrap() -> str:
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_bootstrap_loads_the_reference_data_and_no_person_or_merchant():
    said = bootstrap()
    assert sorted(City.objects.values_list("code", flat=True)) == sorted(
        code for code, *_rest in PARTNER_CITIES
    )
    names = [s["name"] for s in (*DEMO_SCHEMES, *DEMO_GRADE_SCHEMES)]
    assert sorted(Scheme.objects.values_list("name", flat=True)) == sorted(names)
    for scheme in Scheme.objects.all():
        assert [r.version for r in scheme.rule_versions.all()] == [1]
        assert scheme.rule_in_force() is not None and scheme.owner_city_id
    assert not City.objects.filter(scheme__isnull=True).exists()
    assert ConsentText.objects.get(is_current=True).version == CONSENT_V1["version"]
    assert Agreement.objects.filter(is_current=True).count() == 1
    assert not User.objects.exists()
    assert not Merchant.objects.exists() and not Offer.objects.exists()
    assert f"{len(PARTNER_CITIES)} cities, {len(names)} schemes" in said


def test_a_second_bootstrap_changes_nothing():
    bootstrap()
    first = snapshot()
    bootstrap()
    assert snapshot() == first


def test_bootstrap_keeps_an_operators_edit_and_fills_what_is_missing():
    bootstrap()
    City.objects.filter(code="330100").update(name="杭州市", name_en="")
    RuleVersion.objects.filter(scheme__name="钱江分").delete()
    Agreement.objects.all().delete()  # a flushed database: migration 0008's row is gone
    bootstrap()
    assert Agreement.objects.get(is_current=True).version == AGREEMENT_V1["version"]
    hangzhou = City.objects.get(code="330100")
    assert (hangzhou.name, hangzhou.name_en) == ("杭州市", "Hangzhou")
    assert Scheme.objects.get(name="钱江分").rule_versions.count() == 1


def test_seed_demo_runs_bootstrap_first_then_adds_the_demo():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reference data loaded: ")
    assert User.objects.filter(phone="13800000000", is_superuser=True).exists()
    assert Merchant.objects.exists()


@override_settings(XINYOU_PROFILE="production")
def test_seed_demo_refuses_to_run_under_production_settings():
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists() and not City.objects.exists()
    bootstrap()  # the reference data is loaded the production way
    assert City.objects.exists() and not User.objects.exists()
