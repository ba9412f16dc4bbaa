"""The personal-data access log: staff opening a resident's data is recorded, and the
resident's GET /api/v1/me/data lists who looked (role, city, merchant) and when."""

import pytest
from django.test import Client

from audit.models import AccessLog
from tests.incentives.conftest import client_for
from tests.incentives.test_incidents import use_lane
from tests.merchants.factories import city_staff, superuser

from .helpers import ADDRESS

pytestmark = pytest.mark.django_db


def staff_browser(user) -> Client:
    c = Client(REMOTE_ADDR=ADDRESS)
    c.force_login(user)
    return c


def test_opening_an_incident_is_logged_and_the_resident_sees_who_looked(
    resident, merchant, clerk, lane
):
    res = client_for(clerk).post(
        "/api/v1/merchant/incidents",
        {"use_id": use_lane(resident, clerk, lane), "kind": "deposit_default"},
        format="json",
    )
    incident_id = res.json()["id"]
    reviewer = city_staff("330100")
    browser = staff_browser(reviewer)
    assert browser.get("/admin/incentives/incident/").status_code == 200
    assert browser.get(f"/admin/incentives/incident/{incident_id}/change/").status_code == 200
    rows = list(AccessLog.objects.filter(resident_id=resident.pk).order_by("at", "id"))
    assert [(r.what, r.staff_id, r.ip) for r in rows] == [
        ("incident_list", reviewer.pk, ADDRESS),
        ("incident", reviewer.pk, ADDRESS),
    ]
    assert rows[1].object_ref == f"#{incident_id}"
    # another city's staff get a 404 and leave no row
    assert (
        staff_browser(city_staff("460100"))
        .get(f"/admin/incentives/incident/{incident_id}/change/")
        .status_code
        == 404
    )
    assert AccessLog.objects.filter(resident_id=resident.pk).count() == 2

    data = client_for(resident).get("/api/v1/me/data").json()
    looked = data["accessed_by"]
    assert [(a["role"], a["city"], a["merchant"], a["what"]) for a in looked] == [
        ("city_staff", "330100", None, "incident"),
        ("city_staff", "330100", None, "incident_list"),
    ]
    assert reviewer.phone not in str(looked) and reviewer.real_name not in str(looked)


def test_opening_a_residents_account_in_admin_is_logged(resident):
    root = superuser()
    assert staff_browser(root).get(f"/admin/accounts/user/{resident.pk}/change/").status_code == 200
    row = AccessLog.objects.get(resident_id=resident.pk)
    assert (row.staff_role, row.what, row.ip) == ("superuser", "account", ADDRESS)
    # staff accounts are not residents: opening one logs nothing
    other = city_staff("330100")
    staff_browser(root).get(f"/admin/accounts/user/{other.pk}/change/")
    assert not AccessLog.objects.filter(resident_id=other.pk).exists()


def test_a_resident_reading_their_own_data_logs_nothing(resident):
    assert client_for(resident).get("/api/v1/me/data").json()["accessed_by"] == []
    assert not AccessLog.objects.exists()


def test_the_access_log_is_append_only(resident):
    from django.db import DatabaseError, transaction

    root = superuser()
    staff_browser(root).get(f"/admin/accounts/user/{resident.pk}/change/")
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        AccessLog.objects.all().delete()
    assert AccessLog.objects.count() == 1
