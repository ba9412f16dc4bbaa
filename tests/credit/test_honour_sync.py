"""Honour lists synced per city like the dishonest list: from the sandbox (demo) and from
a real local partner server over the signed streaming protocol; a list with a malformed
item or without its authentic end changes nothing."""

from datetime import date

import pytest

from accounts.credit import services
from accounts.credit.models import Honour
from accounts.credit.providers import ProviderUnavailable
from accounts.reference import load_reference_data
from core.partner_protocol import person_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def http_hangzhou(db, settings, partner_server):
    load_reference_data()
    settings.CREDIT_PROVIDERS = {
        "330100": {
            "kind": "http",
            "base_url": partner_server.base_url,
            "app_key": partner_server.app_key,
            "app_secret": partner_server.app_secret,
            "retries": 0,
        }
    }
    return partner_server


def h(n: int) -> str:
    return f"{n:064x}"


def kinds() -> set[tuple]:
    return set(Honour.objects.values_list("city_id", "person_hash", "kind", "valid_until"))


def test_the_demo_sandbox_lists_a_blood_donor_of_hangzhou(db, settings):
    load_reference_data()
    report = services.sync_honours(city_code="330100")
    wang = person_hash(settings.ID_HASH_KEY, "330106198803120118")  # 王小明's sandbox person
    assert report.entries == 2
    assert ("330100", wang, "blood_donor", date(2028, 12, 31)) in kinds()
    assert services.sync_honours(city_code="460100").entries == 0


def test_a_partner_list_replaces_the_citys_honours(http_hangzhou):
    http_hangzhou.honours[:] = [
        {"person_hash": h(1), "kind": "blood_donor", "valid_until": "2027-06-30"},
        {"person_hash": h(1), "kind": "volunteer", "valid_until": None},
        {"person_hash": h(2), "kind": "good_samaritan", "valid_until": "2030-01-01"},
        {"person_hash": h(2), "kind": "good_samaritan", "valid_until": "2031-01-01"},
    ]
    Honour.objects.create(city_id="460100", person_hash=h(9), kind="model_worker")
    assert services.sync_honours(city_code="330100").entries == 4
    assert kinds() == {
        ("330100", h(1), "blood_donor", date(2027, 6, 30)),
        ("330100", h(1), "volunteer", None),
        ("330100", h(2), "good_samaritan", date(2031, 1, 1)),  # one row, the later end
        ("460100", h(9), "model_worker", None),  # another city's list is not touched
    }
    http_hangzhou.honours[:] = [
        {"person_hash": h(2), "kind": "good_samaritan", "valid_until": None}
    ]
    services.sync_honours(city_code="330100")
    assert kinds() == {
        ("330100", h(2), "good_samaritan", None),
        ("460100", h(9), "model_worker", None),
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"person_hash": "not-a-hash", "kind": "blood_donor", "valid_until": None},
        {"person_hash": h(3), "kind": "hero", "valid_until": None},
        {"person_hash": h(3), "kind": "volunteer", "valid_until": "31/12/2027"},
        {"person_hash": h(3), "kind": "volunteer", "valid_until": 20271231},
    ],
)
def test_a_malformed_item_refuses_the_whole_list(http_hangzhou, bad):
    Honour.objects.create(city_id="330100", person_hash=h(1), kind="blood_donor")
    before = kinds()
    http_hangzhou.honours[:] = [
        {"person_hash": h(2), "kind": "volunteer", "valid_until": None},
        bad,
    ]
    with pytest.raises(ProviderUnavailable):
        services.sync_honours(city_code="330100")
    assert kinds() == before


@pytest.mark.parametrize("mode", ["truncated_list", "tampered_list", "bad_signature"])
def test_a_list_that_does_not_authenticate_changes_nothing(http_hangzhou, mode):
    Honour.objects.create(city_id="330100", person_hash=h(1), kind="blood_donor")
    before = kinds()
    http_hangzhou.honours[:] = [{"person_hash": h(2), "kind": "volunteer", "valid_until": None}]
    http_hangzhou.set_mode(mode)
    with pytest.raises(ProviderUnavailable):
        services.sync_honours(city_code="330100")
    assert kinds() == before
