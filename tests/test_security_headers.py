"""Security at the edges of every HTML page: a Content-Security-Policy that needs no
'unsafe-inline' script, no inline script without the request's nonce, no caching of the
dashboard; production refuses DEBUG and keeps the language cookie Secure; the admin login
without `next` lands on the admin index."""

import base64
import json
import re

import pytest
from django.test import Client

from tests.conftest import bearer
from tests.merchants.factories import city_staff, superuser
from tests.test_platform import _run_django

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
PROD = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "p" * 20 + "-RealRandom-" + "k9" * 20,
    "ID_HASH_KEY": "alliance-pepper-" + "z" * 32,
    "ALLOWED_HOSTS": "xinyou.example.cn",
    "METRICS_TOKEN": "metrics-" + "t" * 24,
    "VOUCHER_SIGNING_KEYS": json.dumps(
        [{"kid": "P1", "private_key": base64.b64encode(b"k" * 32).decode()}]
    ),
    # the sandbox SMS gateway and identity provider are refused in production otherwise
    "ALLOW_SANDBOX_SMS": "1",
    "ALLOW_SANDBOX_IDENTITY": "1",
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


def pages(cities):
    staff, root = city_staff("330100"), superuser()
    return [
        ("/m/", None),
        ("/scan/", None),
        ("/dashboard/login/", None),
        ("/dashboard/", staff),
        ("/admin/login/", None),
        ("/admin/", root),
        ("/admin/merchants/offer/add/", root),
        ("/api/docs/", None),
    ]


def test_every_html_page_has_a_strict_policy_and_no_inline_script_without_nonce(cities):
    for path, user in pages(cities):
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
        assert response.status_code == 200, path
        rules = policy(response)
        script_src = rules.get("script-src", rules.get("default-src"))
        assert "'self'" in script_src, path
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, path
        assert rules["object-src"] == ["'none'"] and rules["frame-ancestors"] == ["'none'"], path
        # Django adds the nonce only to responses whose page used it
        nonces = [s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")]
        nonce = nonces[0] if nonces else "(none)"
        html = response.content.decode()
        for attrs in SCRIPT.findall(html):
            if "src=" in attrs or 'type="application/json"' in attrs:
                continue  # a file of our origin, or data that never runs
            assert f'nonce="{nonce}"' in attrs, (path, attrs)


def test_the_swagger_ui_init_script_is_a_file_of_its_own(cities):
    page = Client().get("/api/docs/").content.decode()
    assert "SwaggerUIBundle(" not in page
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_the_dashboard_and_its_export_are_never_stored(cities):
    staff = city_staff("330100")
    client = Client()
    client.force_login(staff)
    api = Client(headers={"Authorization": bearer(staff)["HTTP_AUTHORIZATION"]})
    for c, path in (
        (client, "/dashboard/"),
        (client, "/dashboard/export.csv"),
        (api, "/api/v1/dashboard/summary"),
    ):
        response = c.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_the_admin_login_without_next_lands_on_the_admin_index(cities):
    root = superuser()
    response = Client().post(
        "/admin/login/", {"username": root.phone, "password": "Trust-reward-2026"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_dashboards_language_cookie_follows_the_cookie_settings(cities, settings):
    settings.LANGUAGE_COOKIE_SECURE = True
    client = Client()
    client.force_login(city_staff("330100"))
    response = client.get("/dashboard/?lang=en")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and cookie["secure"] is True


def test_production_refuses_debug():
    res = _run_django({**PROD, "DEBUG": "1"}, "check")
    assert res.returncode != 0
    assert "DEBUG" in res.stderr


def test_production_keeps_the_language_cookie_secure():
    res = _run_django(
        PROD,
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.LANGUAGE_COOKIE_SECURE, settings.SESSION_COOKIE_SECURE, settings.DEBUG)",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1].split() == ["True", "True", "False"]
