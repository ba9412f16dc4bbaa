"""The audit trail: changes through admin and the API are on it with who, when, from
which address, old and new values; it is append-only; hot counters leave no row."""

import pytest
from celery import shared_task
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client

from accounts.credit.models import Honour, RuleVersion, Scheme
from audit.middleware import trail_context
from audit.models import EVENT_MODELS, OfferEvent, UserEvent
from incentives.models import Incident
from merchants.models import Merchant, MerchantStaff, Station
from tests.incentives.conftest import client_for, publish
from tests.incentives.test_incidents import use_lane
from tests.merchants.factories import (
    MerchantFactory,
    OfferFactory,
    city_staff,
    merchant_staff,
    superuser,
)
from tests.merchants.test_admin import change_url, form_data, merchant_form

from .helpers import ADDRESS, entries, last

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    c = Client(REMOTE_ADDR=ADDRESS)
    c.force_login(user)
    return c


def test_an_offer_changed_in_admin_is_on_the_trail_with_who_where_old_and_new(cities):
    a = MerchantFactory(name="商户甲", city_id="330100")
    offer = OfferFactory(merchant=a, title="旧标题")
    staff = merchant_staff(a)
    res = admin_client(staff).post(change_url(offer), form_data(offer, title="新标题"))
    assert res.status_code == 302
    row = last(offer, "update")
    assert row.user_id == staff.pk and row.ip == ADDRESS
    assert row.url == change_url(offer)
    assert row.pgh_diff["title"] == ["旧标题", "新标题"]
    assert entries(offer, "insert")  # the factory's insert: no request, no user
    assert entries(offer, "insert")[0].user_id is None


def test_a_merchant_added_and_changed_in_admin_and_its_staff_membership(cities):
    reviewer = city_staff("330100")
    c = admin_client(reviewer)
    assert c.post("/admin/merchants/merchant/add/", merchant_form()).status_code == 302
    merchant = Merchant.objects.get(credit_code="91350100M000100Y43")
    added = last(merchant, "insert")
    assert (added.user_id, added.ip, added.pgh_data["name"]) == (reviewer.pk, ADDRESS, "新商户")
    res = c.post(change_url(merchant), merchant_form(address="解放路 2 号"))
    assert res.status_code == 302, res.content
    changed = last(merchant, "update")
    assert changed.pgh_diff["address"] == ["解放路 1 号", "解放路 2 号"]
    assert changed.user_id == reviewer.pk
    # a membership (a role): listed on the merchant's trail and on the staff member's
    clerk = merchant_staff(merchant)
    member = [e for e in entries(merchant) if e.pgh_obj_model == "audit.AuditedMerchantStaff"]
    assert member and member[-1].pgh_data["user_id"] == clerk.pk
    assert [e.pgh_label for e in entries(clerk) if "MerchantStaff" in e.pgh_obj_model] == ["insert"]
    MerchantStaff.objects.filter(user=clerk).delete()
    assert entries(clerk)[-1].pgh_label == "delete"


def test_a_station_and_its_merchants_are_on_the_trail(cities):
    a = MerchantFactory(city_id="330100")
    b = MerchantFactory(city_id="330100")
    reviewer = city_staff("330100")
    data = {"name": "西湖站", "city": "330100", "description": "", "merchants": [a.pk, b.pk]}
    assert admin_client(reviewer).post("/admin/merchants/station/add/", data).status_code == 302
    station = Station.objects.get(name="西湖站")
    rows = entries(station)
    assert last(station, "insert").user_id == reviewer.pk
    members = sorted(
        e.pgh_data["merchant_id"] for e in rows if e.pgh_obj_model == "audit.AuditedStationMerchant"
    )
    assert members == sorted([a.pk, b.pk])
    assert all(e.ip == ADDRESS for e in rows)


def test_incidents_reported_and_objected_through_the_api_and_decided_in_admin(
    resident, merchant, clerk, lane
):
    res = client_for(clerk).post(
        "/api/v1/merchant/incidents",
        {"use_id": use_lane(resident, clerk, lane), "kind": "deposit_default"},
        format="json",
        REMOTE_ADDR="198.51.100.20",
    )
    assert res.status_code == 201
    incident = Incident.objects.get(pk=res.json()["id"])
    reported = last(incident, "insert")
    assert (reported.user_id, reported.ip) == (clerk.pk, "198.51.100.20")
    reviewer = city_staff("330100")
    decided = admin_client(reviewer).post(
        "/admin/incentives/incident/",
        {
            "action": "confirm_selected",
            "_selected_action": [incident.pk],
            "apply": "1",
            "note": "核实",
        },
    )
    assert decided.status_code == 302
    confirm = last(incident, "update")
    assert confirm.pgh_diff["status"] == ["reported", "confirmed"]
    assert (confirm.user_id, confirm.ip) == (reviewer.pk, ADDRESS)
    objected = client_for(resident).post(
        f"/api/v1/me/incidents/{incident.pk}/objection",
        {"text": "不是我"},
        format="json",
        REMOTE_ADDR="198.51.100.21",
    )
    assert objected.status_code == 201
    row = last(incident, "update")
    assert row.pgh_diff["status"] == ["confirmed", "objected"]
    assert (row.user_id, row.ip) == (resident.pk, "198.51.100.21")


def test_schemes_rule_versions_and_honours_are_on_the_trail(cities):
    root = superuser()
    with trail_context(user=root.pk, ip=ADDRESS, url="/shell"):
        scheme = Scheme.objects.create(name="测试分", min_score=0, max_score=100)
        version = RuleVersion.objects.create(scheme=scheme, version=1, good_lo=60, good_hi=100)
        Scheme.objects.filter(pk=scheme.pk).update(note="说明")
        honour = Honour.objects.create(city_id="330100", person_hash="a" * 64, kind="volunteer")
    assert last(scheme, "update").pgh_diff["note"] == ["", "说明"]
    assert last(version, "insert").user_id == root.pk
    assert last(honour, "insert").ip == ADDRESS
    # a sync that only touches synced_at writes nothing
    Honour.objects.filter(pk=honour.pk).update(synced_at=honour.synced_at.replace(year=2030))
    assert not entries(honour, "update")


def test_roles_groups_staff_flags_and_city_assignments(cities):
    root = superuser()
    c = admin_client(root)
    assert c.post("/admin/auth/group/add/", {"name": "审核员"}).status_code == 302
    group = Group.objects.get(name="审核员")
    assert last(group, "insert").user_id == root.pk
    staff = city_staff("330100")
    with trail_context(user=root.pk, ip=ADDRESS):
        staff.groups.add(group)
        staff.staff_city_id = "460100"
        staff.is_staff = False
        staff.save()
    changed = last(staff, "update")
    assert changed.pgh_diff["staff_city_id"] == ["330100", "460100"]
    assert changed.pgh_diff["is_staff"] == [True, False]
    assert any(e.pgh_obj_model == "audit.AuditedUserGroup" for e in entries(staff))


def test_a_password_change_is_an_event_without_the_hash(cities):
    staff = city_staff("330100")
    staff.set_password("another-long-pass-2026")
    staff.save(update_fields=["password"])
    assert last(staff, "password.change")
    assert "password" not in {f.name for f in UserEvent._meta.fields}
    with connection.cursor() as cur:
        cur.execute("SELECT row_to_json(e)::text FROM audit_userevent e")
        dumped = " ".join(r[0] for r in cur.fetchall())
    assert "md5$" not in dumped and "pbkdf2" not in dumped


def test_residents_accounts_are_not_copied(resident):
    assert not [e for e in entries(resident) if e.pgh_obj_model == "audit.AuditedUser"]


def test_the_trail_refuses_update_and_delete(cities):
    OfferFactory(merchant=MerchantFactory(city_id="330100"))
    for sql in ("UPDATE audit_offerevent SET title = 'x'", "DELETE FROM audit_offerevent"):
        with (
            pytest.raises(DatabaseError, match="append_only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert OfferEvent.objects.count() == 1


def test_claims_leave_no_trail_row(resident, merchant):
    offer = publish(merchant=merchant, min_tier="")
    before = OfferEvent.objects.filter(pgh_obj_id=offer.pk).count()
    res = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert res.status_code == 201, res.content
    offer.refresh_from_db()
    assert offer.claimed_count == 1
    assert OfferEvent.objects.filter(pgh_obj_id=offer.pk).count() == before


def test_every_event_table_is_append_only():
    for model in EVENT_MODELS:
        assert "append_only" in {t.name for t in model._meta.triggers}, model


@shared_task(name="tests.audit.rename_merchant")
def rename_merchant(pk: int, name: str) -> None:
    Merchant.objects.filter(pk=pk).update(name=name)


def test_a_celery_tasks_changes_name_the_task(cities):
    merchant = MerchantFactory(city_id="330100", name="旧名")
    rename_merchant.delay(merchant.pk, "新名")
    row = last(merchant, "update")
    assert row.pgh_diff["name"] == ["旧名", "新名"]
    assert row.pgh_context["task"] == "tests.audit.rename_merchant" and row.user_id is None


def test_a_scheme_and_its_new_rule_version_changed_in_admin(cities):
    from accounts.reference import load_reference_data
    from tests.credit.test_credit_admin import GOOD, _inline

    load_reference_data()
    staff = city_staff("330100")
    qjf = Scheme.objects.get(name="钱江分")
    data = {**_inline(qjf, GOOD), "note": "2026 修订"}
    res = admin_client(staff).post(f"/admin/accounts/scheme/{qjf.pk}/change/", data)
    assert res.status_code == 302, res.content.decode()[:500]
    changed = last(qjf, "update")
    assert changed.pgh_diff["note"][1] == "2026 修订"
    assert (changed.user_id, changed.ip) == (staff.pk, ADDRESS)
    version = RuleVersion.objects.get(scheme=qjf, version=2)
    added = last(version, "insert")
    assert (added.user_id, added.ip, added.pgh_data["fair_lo"]) == (staff.pk, ADDRESS, 580)


def test_a_staff_accounts_role_city_and_flags_changed_in_admin(cities):
    root = superuser()
    staff = city_staff("330100")
    group = Group.objects.create(name="复核员")
    data = {
        "phone": staff.phone,
        "real_name": staff.real_name,
        "role": "city_staff",
        "home_city": "",
        "staff_city": "460100",
        "is_active": "on",
        "groups": [group.pk],
        "_save": "保存",
    }
    res = admin_client(root).post(f"/admin/accounts/user/{staff.pk}/change/", data)
    assert res.status_code == 302, res.content.decode()[:800]
    changed = last(staff, "update")
    assert changed.pgh_diff["staff_city_id"] == ["330100", "460100"]
    assert changed.pgh_diff["is_staff"] == [True, False]
    assert (changed.user_id, changed.ip) == (root.pk, ADDRESS)
    joined = [e for e in entries(staff) if e.pgh_obj_model == "audit.AuditedUserGroup"]
    assert joined and joined[-1].pgh_data["group_id"] == group.pk
    assert joined[-1].user_id == root.pk


def test_rows_that_predate_the_trail_get_a_baseline_so_their_first_change_has_old_values(
    cities,
):
    import importlib

    import pgtrigger
    from django.apps import apps

    from audit.models import MerchantEvent

    merchant = MerchantFactory(city_id="330100", name="老商户")
    staff = city_staff("330100")
    with pgtrigger.ignore("audit.MerchantEvent:append_only"):  # as if made before the trail
        MerchantEvent.objects.all().delete()
    baseline = importlib.import_module("audit.migrations.0002_trail_baseline")
    with connection.schema_editor() as editor:
        baseline.snapshot(apps, editor)
    assert last(merchant, "baseline").pgh_data["name"] == "老商户"
    assert last(staff, "baseline")  # staff accounts are copied
    Merchant.objects.filter(pk=merchant.pk).update(name="新商户")
    assert last(merchant, "update").pgh_diff["name"] == ["老商户", "新商户"]
