"""Staff sessions (issue 24): they end after 30 minutes idle and 12 hours in all; a
password or role change ends the person's other sessions and revokes their refresh tokens.
Residents' sessions are not under the idle rule. Time is moved by rewriting the session's
stamps, never by waiting. The policy is a setting (off in the suite's settings)."""

import time

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts import tokens
from accounts.staff_auth.services import SESSION_SEEN, SESSION_STARTED
from merchants.models import MerchantStaff
from tests.factories import PASSWORD, ResidentFactory
from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff, superuser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def session_policy_on(settings):
    settings.XINYOU_STAFF_SESSION_POLICY = True
    settings.XINYOU_STAFF_2FA = False  # the second factor has its own tests
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.phone, password=PASSWORD)
    return client


def _shift(client: Client, *, idle: float = 0, age: float = 0) -> None:
    """Pretend the last request was `idle` seconds ago and the login `age` seconds ago."""
    session = client.session
    now = time.time()
    session[SESSION_SEEN] = now - idle
    session[SESSION_STARTED] = now - age
    session.save()


def _signed_in(client: Client) -> bool:
    res = client.get("/admin/")
    return res.status_code == 200


def _refresh_works(refresh: str) -> bool:
    res = Client().post(
        "/api/v1/auth/token/refresh", {"refresh": refresh}, content_type="application/json"
    )
    return res.status_code == 200


def test_a_staff_session_ends_after_30_minutes_idle(cities):
    staff = city_staff("330100")
    client = _logged_in(staff)
    _shift(client, idle=29 * 60, age=29 * 60)
    assert _signed_in(client)
    _shift(client, idle=30 * 60 + 5, age=40 * 60)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert not _signed_in(client)


def test_a_request_keeps_the_session_alive(cities):
    staff = city_staff("330100")
    client = _logged_in(staff)
    _shift(client, idle=20 * 60, age=11 * 3600)
    assert _signed_in(client)
    assert time.time() - client.session[SESSION_SEEN] < 5  # the request counted as activity
    assert client.session.get_expiry_age() == 1800


def test_a_staff_session_ends_12_hours_after_login_however_busy(cities):
    staff = city_staff("330100")
    client = _logged_in(staff)
    _shift(client, idle=1, age=12 * 3600 - 60)
    assert _signed_in(client)
    _shift(client, idle=1, age=12 * 3600 + 1)
    assert not _signed_in(client)


def test_the_dashboard_session_ends_the_same_way(cities):
    staff = city_staff("330100")
    client = Client()
    res = client.post("/dashboard/login/", {"username": staff.phone, "password": PASSWORD})
    assert res.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    _shift(client, idle=31 * 60)
    assert client.get("/dashboard/")["Location"].startswith("/dashboard/login/")


def test_a_residents_session_is_not_under_the_idle_rule(cities):
    resident = ResidentFactory(home_city=cities["330100"])
    client = Client()
    client.force_login(resident)
    _shift(client, idle=5 * 3600, age=24 * 3600)
    # still signed in: the dashboard answers its "not for you" page, not the login
    assert client.get("/dashboard/").status_code == 403
    # and their tokens are the API's, untouched by any of this
    refresh = tokens.issue_tokens(resident)["refresh"]
    assert _refresh_works(refresh)


def test_a_password_change_ends_other_sessions_and_revokes_tokens(cities):
    staff = city_staff("330100")
    desk, laptop = _logged_in(staff), _logged_in(staff)
    refresh = tokens.issue_tokens(staff)["refresh"]
    # the person changes their own password on the desk: the desk stays signed in
    res = desk.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "N3w-pass-2026!",
            "new_password2": "N3w-pass-2026!",
        },
    )
    assert res.status_code == 302, res.content.decode()[:300]
    assert _signed_in(desk)
    assert not _signed_in(laptop)
    assert not _refresh_works(refresh)
    # and a later change ends the desk's session too (its record followed the new id)
    staff.refresh_from_db()
    staff.set_password("An0ther-pass-2026")
    staff.save()
    assert not _signed_in(desk)


def test_a_superuser_changing_a_role_ends_that_persons_sessions(cities):
    staff = city_staff("330100")
    boss = superuser()
    boss_client = _logged_in(boss)
    staff_client = _logged_in(staff)
    refresh = tokens.issue_tokens(staff)["refresh"]
    res = boss_client.post(
        f"/admin/accounts/user/{staff.pk}/change/",
        {
            "phone": staff.phone,
            "real_name": staff.real_name,
            "role": "city_staff",
            "staff_city": "460100",  # moved to another city
            "is_active": "on",
            "is_staff": "on",
        },
    )
    assert res.status_code == 302, res.content.decode()[-2000:]
    assert not _signed_in(staff_client)
    assert not _refresh_works(refresh)
    assert _signed_in(boss_client)


@pytest.mark.parametrize(
    "change",
    ["role", "is_staff", "is_superuser", "is_active", "groups", "permissions", "group_perms"],
)
def test_every_kind_of_role_change_ends_sessions(cities, change):
    staff = city_staff("330100")
    client = _logged_in(staff)
    refresh = tokens.issue_tokens(staff)["refresh"]
    group = Group.objects.create(name="reviewers")
    if change == "role":
        staff.role = "platform"
        staff.save()
    elif change == "is_staff":
        staff.is_staff = False
        staff.save(update_fields=["is_staff"])
    elif change == "is_superuser":
        staff.is_superuser = True
        staff.save()
    elif change == "is_active":
        staff.is_active = False
        staff.save()
    elif change == "groups":
        staff.groups.add(group)
    elif change == "permissions":
        staff.user_permissions.add(Permission.objects.first())
    else:
        group.user_set.add(staff)  # from the group's side
    assert not _refresh_works(refresh)
    assert not _signed_in(client)


def test_merchant_membership_changes_end_sessions(cities):
    merchant, other = MerchantFactory(), MerchantFactory()
    clerk = merchant_staff(merchant)
    client = _logged_in(clerk)
    refresh = tokens.issue_tokens(clerk)["refresh"]
    membership = MerchantStaff.objects.get(user=clerk)
    membership.merchant = other
    membership.save()
    assert not _refresh_works(refresh)
    assert not _signed_in(client)

    client = _logged_in(clerk)
    refresh = tokens.issue_tokens(clerk)["refresh"]
    MerchantStaff.objects.get(user=clerk).delete()
    assert not _refresh_works(refresh)
    assert not _signed_in(client)


def test_saving_without_a_change_ends_nothing(cities):
    staff = city_staff("330100")
    client = _logged_in(staff)
    refresh = tokens.issue_tokens(staff)["refresh"]
    staff.refresh_from_db()
    staff.real_name = "新名字"
    staff.save()
    staff.save(update_fields=["last_login"])
    assert _signed_in(client)
    assert _refresh_works(refresh)


def test_off_in_the_suites_settings(cities, settings):
    settings.XINYOU_STAFF_SESSION_POLICY = False
    staff = city_staff("330100")
    client = _logged_in(staff)
    _shift(client, idle=5 * 3600, age=24 * 3600)
    refresh = tokens.issue_tokens(staff)["refresh"]
    staff.set_password("N3w-pass-2026!")
    staff.save()
    assert _refresh_works(refresh)


# --- the API's staff tokens follow the same limits ---------------------------------------


def _decode(raw: str) -> dict:
    from rest_framework_simplejwt.tokens import RefreshToken

    return RefreshToken(raw).payload  # type: ignore[arg-type]


def test_a_staff_refresh_token_lives_30_minutes_and_rotation_keeps_the_login_time(cities):
    clerk = merchant_staff(MerchantFactory())
    res = Client().post(
        "/api/v1/auth/token",
        {"phone": clerk.phone, "password": PASSWORD},
        content_type="application/json",
    )
    first = _decode(res.json()["refresh"])
    now = time.time()
    assert now + 1790 <= first["exp"] <= now + 1800  # idle longer than 30 min: log in again
    res = Client().post(
        "/api/v1/auth/token/refresh",
        {"refresh": res.json()["refresh"]},
        content_type="application/json",
    )
    assert res.status_code == 200
    assert _decode(res.json()["refresh"])["auth_time"] == first["auth_time"]


def test_a_staff_token_family_ends_12_hours_after_the_login(cities):
    clerk = merchant_staff(MerchantFactory())
    login = int(time.time()) - 12 * 3600 + 600
    near_end = tokens.issue_tokens(clerk, auth_time=login)
    assert _decode(near_end["refresh"])["exp"] == login + 12 * 3600  # capped at the 12 hours
    assert _refresh_works(near_end["refresh"])
    too_old = tokens.issue_tokens(clerk, auth_time=int(time.time()) - 12 * 3600 - 1)
    assert not _refresh_works(too_old["refresh"])


def test_a_residents_refresh_token_keeps_its_days(cities):
    resident = ResidentFactory(home_city=cities["330100"])
    payload = _decode(tokens.issue_tokens(resident)["refresh"])
    assert payload["exp"] - time.time() > 6 * 24 * 3600
    assert "auth_time" not in payload
