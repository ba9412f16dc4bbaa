"""The person's rights: GET /api/v1/me/data shows everything held; DELETE /api/v1/me
erases the person (every text column of every table is scanned), cancels open vouchers
with their quota returned, kills logins, keeps dashboards and the pseudonymous audit, and
lets the same person register again."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.credit.models import CreditQuery
from accounts.models import User
from accounts.realname.models import IdentityCheck
from accounts.reference import load_reference_data
from incentives.dashboard.rollup import refresh_recent_rollups
from incentives.models import Voucher
from incentives.vouchers.services import redeem_voucher
from merchants.models import Offer
from tests.accounts.conftest import REGISTER, TOKEN, register_body
from tests.merchants.factories import MerchantFactory, OfferFactory, city_staff, merchant_staff

PHONE = "13812345678"
NAME = "欧阳明远"
ID = "330106199001010013"  # check digit fixed below


def _valid_id() -> str:
    from accounts.identity import id_check_char

    return ID[:17] + id_check_char(ID[:17])


def text_hits(needles: list[str]) -> dict[str, list[str]]:
    """Every (table.column) of a text-like type holding any of `needles`."""
    hits: dict[str, list[str]] = {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb')"
        )
        columns = cur.fetchall()
        for table, column in columns:
            for needle in needles:
                cur.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',
                    ["%" + needle + "%"],
                )
                if cur.fetchone()[0]:
                    hits.setdefault(needle, []).append(f"{table}.{column}")
    return hits


@pytest.fixture
def person(db, cities):
    """A resident registered through the API, verified, with one redeemed and one open
    voucher, and a few failed logins."""
    load_reference_data()
    client = APIClient()
    body = register_body(client, phone=PHONE, real_name=NAME, id_number=_valid_id())
    assert client.post(REGISTER, body, format="json").status_code == 201
    for _ in range(2):
        client.post(TOKEN, {"phone": PHONE, "password": "wrong-one"}, format="json")
    tokens = client.post(
        TOKEN, {"phone": PHONE, "password": body["password"]}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    consent = client.post(
        "/api/v1/me/credit/consent", {"consent_version": "2026-01", "accept": True}, format="json"
    )
    assert consent.status_code == 201, consent.content
    assert client.post("/api/v1/me/credit/verify").status_code == 200
    merchant = MerchantFactory(city_id="330100")
    clerk = merchant_staff(merchant)
    offers = [
        OfferFactory(
            merchant=merchant, status=Offer.Status.PUBLISHED, min_tier="poor", total_quota=10
        )
        for _ in range(2)
    ]
    codes = []
    for offer in offers:
        res = client.post(f"/api/v1/offers/{offer.pk}/claim", HTTP_IDEMPOTENCY_KEY=f"k{offer.pk}")
        assert res.status_code == 201, res.content
        codes.append(res.json()["code"])
    redeem_voucher(staff_id=clerk.pk, code=codes[0])
    user = User.objects.get(phone=PHONE)
    client.user, client.password, client.refresh = user, body["password"], tokens["refresh"]
    client.offers = offers
    return client


def dashboards() -> dict:
    refresh_recent_rollups()
    staff = APIClient()
    staff.force_authenticate(city_staff("330100"))
    out = {}
    for path in (
        "summary",
        "breakdown?by=merchant",
        "breakdown?by=home_city",
        "flows",
        "series?interval=day",
    ):
        res = staff.get(f"/api/v1/dashboard/{path}")
        assert res.status_code == 200, res.content
        out[path] = res.json()
    return out


def strip_cancelled(value):
    if isinstance(value, dict):
        # `as_of` is when the figures were read, not a figure
        return {k: strip_cancelled(v) for k, v in value.items() if k not in ("cancelled", "as_of")}
    if isinstance(value, list):
        return [strip_cancelled(v) for v in value]
    return value


@pytest.mark.django_db
def test_my_data_shows_everything_held(person):
    data = person.get("/api/v1/me/data").json()
    assert data["profile"]["real_name"] == NAME and data["profile"]["phone"] == PHONE
    assert [a["version"] for a in data["agreements"]] == ["2026-01"]
    assert len(data["consents"]) == 1 and data["consents"][0]["withdrawn_at"] is None
    assert data["standings"][0]["city"] == "330100"
    assert data["credit_queries"] and data["credit_queries"][0]["outcome"] == "ok"
    assert [c["outcome"] for c in data["identity_checks"]] == ["match"]
    assert sorted(v["status"] for v in data["vouchers"]) == ["issued", "redeemed"]
    assert _valid_id() not in str(data)


@pytest.mark.django_db
def test_a_wrong_password_does_not_close(person):
    res = person.delete("/api/v1/me", {"password": "not-it"}, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_credentials"
    assert User.objects.get(pk=person.user.pk).is_active


@pytest.mark.django_db
def test_closing_erases_the_person_and_keeps_the_figures(person):
    user = person.user
    needles = [NAME, PHONE, user.id_hash, user.id_masked]
    before_hits = text_hits(needles)
    assert set(before_hits) == set(needles), before_hits  # the scan finds them before
    before = dashboards()
    quota_before = {o.pk: Offer.objects.get(pk=o.pk).claimed_count for o in person.offers}

    res = person.delete("/api/v1/me", {"password": person.password}, format="json")
    assert res.status_code == 204

    assert text_hits(needles) == {}
    after = dashboards()
    # the figures stay, except that the open voucher now counts as cancelled
    assert strip_cancelled(after) == strip_cancelled(before)
    assert after["summary"]["cancelled"] == before["summary"]["cancelled"] + 1
    statuses = dict(Voucher.objects.values_list("offer_id", "status"))
    assert sorted(statuses.values()) == ["cancelled", "redeemed"]
    open_offer = next(pk for pk, s in statuses.items() if s == "cancelled")
    assert Offer.objects.get(pk=open_offer).claimed_count == quota_before[open_offer] - 1
    # the audit stays, under a pseudonym
    assert CreditQuery.objects.filter(resident_id=user.pk).exists()
    assert IdentityCheck.objects.filter(user_id=user.pk).exists()
    # logins are dead
    login = APIClient().post(TOKEN, {"phone": PHONE, "password": person.password}, format="json")
    assert login.status_code == 401
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh", {"refresh": person.refresh}, format="json"
    )
    assert refresh.status_code == 401 and refresh.json()["error"]["code"] == "invalid_token"
    assert person.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_the_same_person_can_register_again(person):
    assert (
        person.delete("/api/v1/me", {"password": person.password}, format="json").status_code == 204
    )
    client = APIClient()
    body = register_body(client, phone=PHONE, real_name=NAME, id_number=_valid_id())
    res = client.post(REGISTER, body, format="json")
    assert res.status_code == 201, res.content
    assert User.objects.filter(phone=PHONE, is_active=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{}, {"password": None}, {"password": ["x"]}, {"password": "x" * 500}]
)
def test_bad_close_input_is_invalid_request(person, body):
    res = person.delete("/api/v1/me", body, format="json")
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_request"
