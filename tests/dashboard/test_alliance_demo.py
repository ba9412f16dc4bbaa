"""The demo (seed_demo) has the YRD and ten-city alliances, each with a staff login that
opens the dashboard of its members, and README's logins table lists them (issue 26)."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.demo import DEMO_ALLIANCE_STAFF, DEMO_PASSWORD
from accounts.models import Alliance, User

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_demo_alliance_staff_open_their_alliances_dashboard():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert set(Alliance.objects.values_list("code", flat=True)) == {"yrd", "ten-cities", "jjjj"}
    assert {code for _p, _n, code in DEMO_ALLIANCE_STAFF} == {"yrd", "ten-cities"}
    for phone, _name, code in DEMO_ALLIANCE_STAFF:
        user = User.objects.get(phone=phone)
        assert (user.role, user.staff_alliance_id, user.is_staff) == ("alliance_staff", code, False)
        assert phone in out.getvalue()
        client = Client()
        response = client.post(
            "/dashboard/login/",
            {"username": phone, "password": DEMO_PASSWORD, "next": "/dashboard/"},
        )
        assert response.status_code == 302, response.content
        page = client.get("/dashboard/")
        alliance = Alliance.objects.get(pk=code)
        assert page.status_code == 200 and f'id="who">{alliance.name}<' in page.content.decode()
        assert client.get("/admin/").status_code == 302  # no admin: to its login


def test_readme_lists_the_alliance_staff_logins():
    text = README.read_text(encoding="utf-8")
    logins = text[text.index("## Demo logins") :]
    logins = logins[: logins.index("\n## ")]
    for phone, _name, code in DEMO_ALLIANCE_STAFF:
        row = next(line for line in logins.splitlines() if line.startswith(f"| {phone} "))
        assert "alliance staff" in row and f"`{code}`" in row
