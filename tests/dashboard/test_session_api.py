"""The dashboard API answers the browser session that shows the dashboard (README points
city staff to it), not only a bearer token; CSRF still guards any unsafe method."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_dashboard_session_reads_the_api(staff, resident):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff["330100"])
    assert browser.get("/dashboard/").status_code == 200

    summary = browser.get("/api/v1/dashboard/summary")
    flows = browser.get("/api/v1/dashboard/flows")
    other_city = browser.get("/api/v1/dashboard/summary", {"city": "460100"})

    assert summary.status_code == 200, summary.content
    assert "claims" in summary.json() and "as_of" in summary.json()
    assert flows.status_code == 200
    assert other_city.status_code == 403

    someone = Client(enforce_csrf_checks=True)
    someone.force_login(resident)
    assert someone.get("/api/v1/dashboard/summary").status_code == 403
    assert Client().get("/api/v1/dashboard/summary").status_code == 401


def test_an_unsafe_method_from_the_session_needs_the_csrf_token(staff):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff["330100"])
    refused = browser.post("/api/v1/dashboard/summary", {}, content_type="application/json")
    # refused before the method is even looked at (without the CSRF check it is a 405)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
