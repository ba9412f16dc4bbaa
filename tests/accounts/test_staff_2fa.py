"""Two factors for staff (issue 24): every staff account logs into admin, the dashboard and
the API with password + authenticator code, enrols on its first login (QR code and the
secret as text), gets one-time recovery codes, and a superuser's reset is recorded.
Enforcement is a setting (off in the suite's settings); these tests turn it on."""

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tokens
from accounts.models import User
from accounts.staff_auth.checks import staff_second_factor_required
from accounts.staff_auth.models import SecondFactorReset
from tests.factories import PASSWORD, ResidentFactory
from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff, superuser

from .staff_otp import code_for, enrolled, secret_of, verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.XINYOU_STAFF_2FA = True
    settings.XINYOU_STAFF_2FA_EXEMPT_PHONES = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _password_login(client: Client, path: str, user: User, next_url: str) -> None:
    res = client.post(path, {"username": user.phone, "password": PASSWORD, "next": next_url})
    assert res.status_code == 302, res.content.decode()[:500]


def _unthrottle(user: User) -> None:
    """django-otp delays the next try after a failure (1 s, then 2, 4, …): move the failure
    back in time instead of waiting."""
    past = timezone.now() - timedelta(minutes=5)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=past)


def test_first_admin_login_enrols_then_each_login_needs_a_code(cities):
    staff = city_staff("330100")
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")

    # the password alone opens nothing: the admin sends the person to enrol
    res = client.get("/admin/")
    assert res.status_code == 302
    assert res["Location"] == "/staff/2fa/setup/?next=%2Fadmin%2F"
    assert client.get("/admin/accounts/city/")["Location"].startswith("/staff/2fa/setup/")
    assert client.get("/dashboard/")["Location"].startswith("/staff/2fa/setup/")

    page = client.get(res["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(
        r'<img class="qr" id="totp-qr" src="data:image/png;base64,[A-Za-z0-9+/=]+"', html
    )
    key = secret_of(html)
    # a reload shows the same secret (the enrolment is not restarted)
    assert secret_of(client.get("/staff/2fa/setup/").content.decode()) == key

    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    res = client.post("/staff/2fa/setup/", {"code": wrong, "next": "/admin/"})
    assert res.status_code == 400
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302
    _unthrottle(staff)

    res = client.post("/staff/2fa/setup/", {"code": code_for(key), "next": "/admin/"})
    assert res.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", res.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=staff).count() == 10
    assert client.get("/admin/").status_code == 200
    # enrolled: setup now sends an unverified session to verify instead
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1

    # the next login: password, then the code of the authenticator (a later step's code:
    # the same code is never accepted twice)
    again = Client()
    _password_login(again, "/admin/login/", staff, "/admin/")
    res = again.get("/admin/")
    assert res["Location"] == "/staff/2fa/verify/?next=%2Fadmin%2F"
    assert again.get("/staff/2fa/setup/")["Location"] == "/staff/2fa/verify/"
    res = again.post("/staff/2fa/verify/", {"code": code_for(key), "next": "/admin/"})
    assert res.status_code == 400, "a code already used is refused"
    _unthrottle(staff)
    res = again.post(
        "/staff/2fa/verify/", {"code": code_for(key, steps_ahead=1), "next": "/admin/"}
    )
    assert res.status_code == 302 and res["Location"] == "/admin/"
    assert again.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_tries_are_throttled(cities):
    staff = city_staff("330100")
    key = enrolled(staff)
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")
    wrong = f"{(int(code_for(key)) + 7) % 1_000_000:06d}"
    for bad in (wrong, "abc", "", "12345678901234567890"):
        res = client.post("/staff/2fa/verify/", {"code": bad})
        assert res.status_code == 400
        assert client.get("/admin/").status_code == 302
    # right after a failure even the right code waits (django-otp's growing delay)
    res = client.post("/staff/2fa/verify/", {"code": code_for(key)})
    assert res.status_code == 400
    _unthrottle(staff)
    assert client.post("/staff/2fa/verify/", {"code": code_for(key)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(cities):
    staff = city_staff("330100")
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")
    key = secret_of(client.get("/staff/2fa/setup/").content.decode())
    res = client.post("/staff/2fa/setup/", {"code": code_for(key)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", res.content.decode())

    phone_lost = Client()
    _password_login(phone_lost, "/admin/login/", staff, "/admin/")
    res = phone_lost.post("/staff/2fa/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert res.status_code == 302
    assert phone_lost.get("/admin/").status_code == 200
    assert StaticToken.objects.filter(device__user=staff).count() == 9

    replay = Client()
    _password_login(replay, "/admin/login/", staff, "/admin/")
    assert replay.post("/staff/2fa/verify/", {"code": codes[0]}).status_code == 400
    assert replay.get("/admin/").status_code == 302
    _unthrottle(staff)
    assert replay.post("/staff/2fa/verify/", {"code": codes[1]}).status_code == 302

    # new codes from a verified session: the old ones stop working
    res = replay.post("/staff/2fa/recovery-codes/")
    fresh = re.findall(r"<li><code>([a-z2-7]+)</code></li>", res.content.decode())
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert set(
        StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)
    ) == set(fresh)


def test_dashboard_login_needs_the_second_factor_too(cities):
    staff = city_staff("330100")
    key = enrolled(staff)
    client = Client()
    _password_login(client, "/dashboard/login/", staff, "/dashboard/")
    res = client.get("/dashboard/")
    assert res.status_code == 302
    assert res["Location"] == "/staff/2fa/verify/?next=%2Fdashboard%2F"
    assert client.get("/dashboard/export.csv")["Location"].startswith("/staff/2fa/verify/")
    res = client.post("/staff/2fa/verify/", {"code": code_for(key), "next": "/dashboard/"})
    assert res["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_every_staff_kind_and_superusers_need_it_residents_do_not(cities):
    merchant = MerchantFactory()
    for user in (city_staff("460100"), merchant_staff(merchant), superuser()):
        client = Client()
        _password_login(client, "/admin/login/", user, "/admin/")
        assert client.get("/admin/")["Location"].startswith("/staff/2fa/setup/"), user.role
    # a resident signed in by session (no staff page of theirs) is simply not staff
    resident = ResidentFactory(home_city=cities["330100"])
    client = Client()
    client.force_login(resident)
    assert client.get("/dashboard/").status_code == 403  # the dashboard's "not for you"


def test_an_off_site_next_is_not_followed(cities):
    staff = city_staff("330100")
    key = enrolled(staff)
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")
    res = client.post(
        "/staff/2fa/verify/", {"code": code_for(key), "next": "https://evil.example/"}
    )
    assert res["Location"] == "/admin/"


def test_superuser_resets_a_second_factor_and_the_reset_is_recorded(cities):
    staff = city_staff("330100")
    staff_key = enrolled(staff)
    staff_client = verified_client(staff, staff_key)
    refresh = tokens.issue_tokens(staff)["refresh"]
    assert staff_client.get("/admin/").status_code == 200

    boss = superuser()
    boss_client = verified_client(boss, enrolled(boss))
    changelist = "/admin/staff_auth/staffaccount/"
    page = boss_client.get(changelist)
    assert page.status_code == 200 and staff.phone in page.content.decode()

    action = {"action": "reset_second_factor", "_selected_action": [staff.pk]}
    # without a reason the action only asks (nothing is reset)
    res = boss_client.post(changelist, action)
    assert res.status_code == 200 and "确认重置" in res.content.decode()
    res = boss_client.post(changelist, {**action, "confirm": "yes", "reason": ""})
    assert res.status_code == 200
    assert TOTPDevice.objects.filter(user=staff).exists()

    res = boss_client.post(
        changelist, {**action, "confirm": "yes", "reason": "手机遗失，已核实本人"}
    )
    assert res.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    record = SecondFactorReset.objects.get(user=staff)
    assert (record.actor, record.reason, record.client_ip) == (
        boss,
        "手机遗失，已核实本人",
        "127.0.0.1",
    )
    assert record.devices_removed == 1
    entry = LogEntry.objects.get(user=boss, object_id=str(staff.pk))
    assert "second_factor_reset" in entry.change_message
    # the record is read-only, even for superusers
    record_url = f"/admin/staff_auth/secondfactorreset/{record.pk}/"
    assert boss_client.get(record_url + "change/").status_code == 200
    assert boss_client.post(record_url + "delete/").status_code == 403
    assert boss_client.post(record_url + "change/", {"reason": "x"}).status_code == 403

    # the staff member's session and refresh token ended; at the next login they enrol again
    assert staff_client.get("/admin/")["Location"].startswith("/admin/login/")
    res = Client().post(
        "/api/v1/auth/token/refresh", {"refresh": refresh}, content_type="application/json"
    )
    assert res.status_code == 401
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")
    assert client.get("/admin/")["Location"].startswith("/staff/2fa/setup/")


def test_only_superusers_reach_the_reset(cities):
    staff = city_staff("330100")
    client = verified_client(staff, enrolled(staff))
    assert client.get("/admin/staff_auth/staffaccount/").status_code == 403
    other = city_staff("330100")
    res = client.post(
        "/admin/staff_auth/staffaccount/",
        {
            "action": "reset_second_factor",
            "_selected_action": [other.pk],
            "confirm": "yes",
            "reason": "x",
        },
    )
    assert res.status_code == 403
    assert not SecondFactorReset.objects.exists()


def test_django_otp_device_admins_are_not_on_the_site(cities):
    boss = superuser()
    client = verified_client(boss, enrolled(boss))
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


# --- the API login (the scanner) -----------------------------------------------------------


def _token(phone: str, **extra) -> tuple[int, dict]:
    res = Client().post(
        "/api/v1/auth/token",
        {"phone": phone, "password": PASSWORD, **extra},
        content_type="application/json",
    )
    return res.status_code, res.json()


def test_api_staff_login_needs_the_code(cities):
    clerk = merchant_staff(MerchantFactory())
    status, body = _token(clerk.phone)
    assert status == 401 and body["error"]["code"] == "otp_required"
    assert body["error"]["detail"] == {"enrolled": False, "enrol_url": "/staff/2fa/login/"}

    key = enrolled(clerk)
    status, body = _token(clerk.phone)
    assert (status, body["error"]["code"], body["error"]["detail"]) == (
        401,
        "otp_required",
        {"enrolled": True},
    )
    wrong = f"{(int(code_for(key)) + 3) % 1_000_000:06d}"
    status, body = _token(clerk.phone, otp=wrong)
    assert (status, body["error"]["code"]) == (401, "invalid_otp")
    _unthrottle(clerk)
    status, body = _token(clerk.phone, otp=code_for(key))
    assert status == 200 and set(body) == {"access", "refresh"}
    # a wrong password is still invalid_credentials, whatever the code
    res = Client().post(
        "/api/v1/auth/token",
        {"phone": clerk.phone, "password": "wrong-pass-1", "otp": code_for(key, steps_ahead=1)},
        content_type="application/json",
    )
    assert res.json()["error"]["code"] == "invalid_credentials"


def test_api_resident_login_is_unchanged(cities):
    resident = ResidentFactory(home_city=cities["330100"])
    status, body = _token(resident.phone)
    assert status == 200 and set(body) == {"access", "refresh"}


def test_scanner_staff_without_admin_access_enrol_on_the_staff_login(cities):
    clerk = merchant_staff(MerchantFactory())
    User.objects.filter(pk=clerk.pk).update(is_staff=False)
    client = Client()
    assert (
        client.post("/admin/login/", {"username": clerk.phone, "password": PASSWORD}).status_code
        == 200
    )
    _password_login(client, "/staff/2fa/login/", clerk, "")
    res = client.get("/staff/2fa/")
    assert res["Location"] == "/staff/2fa/setup/"
    key = secret_of(client.get("/staff/2fa/setup/").content.decode())
    res = client.post("/staff/2fa/setup/", {"code": code_for(key)})
    assert 'href="/scan/"' in res.content.decode()
    status, _ = _token(clerk.phone, otp=code_for(key, steps_ahead=1))
    assert status == 200
    # residents cannot use the staff login
    resident = ResidentFactory(home_city=cities["330100"])
    res = Client().post("/staff/2fa/login/", {"username": resident.phone, "password": PASSWORD})
    assert res.status_code == 200 and "仅供工作人员登录" in res.content.decode()


# --- the demo shortcut and production --------------------------------------------------------


def test_the_demo_staff_listed_in_the_embedded_profile_log_in_in_one_step(cities, settings):
    staff = city_staff("330100")
    other = city_staff("330100")
    settings.XINYOU_STAFF_2FA_EXEMPT_PHONES = [staff.phone]
    client = Client()
    _password_login(client, "/admin/login/", staff, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert _token(staff.phone)[0] == 200
    client = Client()
    _password_login(client, "/admin/login/", other, "/admin/")
    assert client.get("/admin/").status_code == 302


def test_the_embedded_profile_lists_exactly_the_demo_staff():
    from accounts.demo import DEMO_STAFF
    from config.settings import embedded
    from merchants.demo_data import DEMO_MERCHANT_STAFF

    demo = {phone for phone, *_ in DEMO_STAFF} | {phone for phone, *_ in DEMO_MERCHANT_STAFF}
    assert set(embedded.XINYOU_STAFF_2FA_EXEMPT_PHONES) == demo
    assert embedded.XINYOU_STAFF_2FA is True


def test_the_system_check_refuses_production_without_the_second_factor(settings):
    settings.XINYOU_PROFILE = "production"
    settings.XINYOU_STAFF_SESSION_POLICY = True
    assert staff_second_factor_required() == []
    settings.XINYOU_STAFF_2FA = False
    settings.XINYOU_STAFF_2FA_EXEMPT_PHONES = ["13800000000"]
    settings.XINYOU_STAFF_SESSION_POLICY = False
    ids = {e.id for e in staff_second_factor_required()}
    assert ids == {"staff_auth.E001", "staff_auth.E002", "staff_auth.E003"}
    settings.XINYOU_PROFILE = "embedded"
    assert staff_second_factor_required() == []


def test_production_settings_force_the_second_factor_whatever_the_environment():
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "s" * 60,
        "ID_HASH_KEY": "k" * 40,
        "ALLOW_SANDBOX_SMS": "1",
        "ALLOW_SANDBOX_IDENTITY": "1",
        "VOUCHER_SIGNING_KEYS": '[{"kid": "K1", "private_key": "' + "A" * 43 + '="}]',
        "METRICS_TOKEN": "m" * 40,
        # what an operator might try: all ignored by production
        "STAFF_2FA": "0",
        "STAFF_2FA_EXEMPT_PHONES": "13800000000",
        "STAFF_SESSION_POLICY": "0",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import config.settings.production as p; "
        "print(p.XINYOU_STAFF_2FA, p.XINYOU_STAFF_2FA_EXEMPT_PHONES, p.XINYOU_STAFF_SESSION_POLICY)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[0] == "True [] True"


# --- once only, under concurrency ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["recovery", "authenticator"])
def test_a_code_sent_by_many_at_once_is_accepted_exactly_once(cities, kind):
    """Two people (or a replayed request) racing with one code: the device rows are locked
    before the check (django-otp's select_for_update), so exactly one wins."""
    import threading

    from django.db import connection

    from accounts.staff_auth import services

    staff = city_staff("330100")
    key = enrolled(staff)
    code = services.new_recovery_codes(user=staff)[0] if kind == "recovery" else code_for(key)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def attempt() -> None:
        try:
            barrier.wait()
            wins.append(services.verify_second_factor(user=staff, token=code) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_the_staff_login_is_limited_per_address_with_the_api_login(cities, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "auth_token": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    staff = city_staff("330100")
    client = Client()
    for _ in range(2):
        res = client.post("/staff/2fa/login/", {"username": staff.phone, "password": "wrong-1"})
        assert res.status_code == 200
    # the API's login from the same address spends the same allowance
    res = client.post(
        "/api/v1/auth/token",
        {"phone": staff.phone, "password": "wrong-1"},
        content_type="application/json",
    )
    assert res.status_code == 401
    res = client.post("/staff/2fa/login/", {"username": staff.phone, "password": PASSWORD})
    assert res.status_code == 429 and int(res["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
