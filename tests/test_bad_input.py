"""No input makes a 500 (api.md, Conventions): absurd nesting, NUL characters, numbers
and dates out of range are `400 invalid_request`, or `404 not_found` where the thing asked
for cannot exist. Found by fuzzing and probing the served product; schemathesis keeps
hunting (tests/test_schema_fuzz.py)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.reference import load_reference_data
from tests.conftest import bearer

DEEP_ARRAY = "[" * 20_000 + "]" * 20_000
DEEP_OBJECT = '{"a":' * 20_000 + "1" + "}" * 20_000
BEYOND_BIGINT = str(2**63 + 1)


@pytest.fixture
def world(db):
    from incentives.models import Voucher
    from tests.incentives.conftest import make_resident, publish
    from tests.merchants.factories import MerchantFactory, city_staff, merchant_staff

    load_reference_data()
    merchant = MerchantFactory(city_id="330100", name="西湖游船")
    offer = publish(merchant=merchant, min_tier="", total_quota=10, per_resident_limit=3)
    resident = make_resident()
    users = {
        "anonymous": None,
        "resident": resident,
        "clerk": merchant_staff(merchant),
        "city_staff": city_staff("330100"),
    }
    client = caller(resident)
    code = client.post(f"/api/v1/offers/{offer.pk}/claim").json()["code"]
    assert Voucher.objects.filter(code=code).exists()
    return {"offer": offer, "code": code, **users}


def caller(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.credentials(**bearer(user))
    return client


def error_code(response) -> str:
    return response.json()["error"]["code"]


def post_paths(offer_id: int, code: str) -> list[str]:
    schema = Client().get("/api/schema/?format=json").json()
    paths = [p for p, ops in schema["paths"].items() if "post" in ops]
    assert len(paths) >= 9
    return [p.replace("{id}", str(offer_id)).replace("{code}", code) for p in paths]


# --------------------------------------------------------------------------- nesting


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_20000_deep_json_on_any_post_is_never_a_500(world, body):
    answers = {}
    for path in post_paths(world["offer"].pk, world["code"]):
        for who in ("anonymous", "resident", "clerk", "city_staff"):
            response = caller(world[who]).post(
                path, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep"
            )
            assert response.status_code < 500, (path, who, response.content[:200])
            if response.status_code == 400:
                assert error_code(response) == "invalid_request", (path, who)
            answers[(path, who)] = response.status_code
    # every body the endpoint reads is refused as malformed
    for path, who in (
        ("/api/v1/auth/token", "anonymous"),
        ("/api/v1/auth/register", "anonymous"),
        ("/api/v1/auth/token/refresh", "anonymous"),
        ("/api/v1/me/credit/consent", "resident"),
        (f"/api/v1/offers/{world['offer'].pk}/claim", "resident"),  # the key's fingerprint
        ("/api/v1/merchant/scan", "clerk"),
        ("/api/v1/merchant/redemptions", "clerk"),
    ):
        assert answers[(path, who)] == 400, (path, who)


def test_nesting_is_limited_below_the_decoder_limit(world):
    client = caller(world["clerk"])
    ok_depth = '{"code": "x", "extra": ' + "[" * 30 + "]" * 30 + "}"
    too_deep = '{"code": "x", "extra": ' + "[" * 40 + "]" * 40 + "}"
    assert client.post("/api/v1/merchant/scan", ok_depth, content_type="application/json").json()[
        "error"
    ]["code"] in ("invalid_token", "invalid_request")
    refused = client.post("/api/v1/merchant/scan", too_deep, content_type="application/json")
    assert refused.status_code == 400 and "body" in refused.json()["error"]["detail"]


# --------------------------------------------------------------------------- NUL


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/vouchers/AB%00CD",
        "/api/v1/me/vouchers/AB%00CD/qr.png",
        "/api/v1/me/vouchers/AB%00CD/qr.svg",
        "/api/v1/me/vouchers/{code}%00",
        "/api/v1/offers/1%00",
    ],
)
def test_a_nul_in_a_path_names_nothing(world, path):
    response = caller(world["resident"]).get(path.format(code=world["code"]))
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_nul_in_a_voucher_code_cannot_cancel_anything(world):
    client = caller(world["resident"])
    for path in (
        "/api/v1/me/vouchers/AB%00CD/cancel",
        f"/api/v1/me/vouchers/{world['code']}%00/cancel",
    ):
        response = client.post(path)
        assert response.status_code == 404 and error_code(response) == "not_found"
    assert client.get(f"/api/v1/me/vouchers/{world['code']}").json()["status"] == "issued"


def test_a_code_that_fails_its_check_character_is_not_found(world):
    code = world["code"]
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    response = caller(world["resident"]).get(f"/api/v1/me/vouchers/{wrong}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "who,path",
    [
        ("anonymous", "/api/v1/offers?q=a%00b"),
        ("resident", "/api/v1/offers?city=3301%0000"),
        ("resident", "/api/v1/me/vouchers?status=issued%00"),
        ("clerk", "/api/v1/merchant/redemptions?date_to=2026-01-01%00"),
        ("city_staff", "/api/v1/dashboard/summary?city=%00"),
        ("anonymous", "/api/v1/stations?city=%00"),
    ],
)
def test_a_nul_in_a_query_is_invalid(world, who, path):
    response = caller(world[who]).get(path)
    assert response.status_code == 400 and error_code(response) == "invalid_request"


def test_a_nul_on_pages_is_a_bad_request_not_an_error(world):
    page = Client(raise_request_exception=False)
    page.force_login(world["city_staff"])
    assert page.get("/dashboard/?date_to=%00").status_code == 400
    assert page.get("/dashboard/export.csv?date_from=%00").status_code == 400
    assert Client().get("/admin/login/?next=%00").status_code == 400
    assert Client().get("/m/%00").status_code == 404


@pytest.mark.parametrize(
    "who,path,body",
    [
        ("anonymous", "/api/v1/auth/token", {"phone": "13700000000", "password": "a\x00b"}),
        ("anonymous", "/api/v1/auth/token/refresh", {"refresh": "a\x00"}),
        ("resident", "/api/v1/me/credit/consent", {"consent_version": "v\x00", "accept": True}),
        ("clerk", "/api/v1/merchant/scan", {"code": "AB\x00CD"}),
        ("clerk", "/api/v1/merchant/redemptions", {"token": "XY1\x00"}),
        ("clerk", "/api/v1/merchant/redemptions", {"code": "X", "note\x00": 1}),
        ("clerk", "/api/v1/merchant/scan", {"code": "X", "extra": ["\x00"]}),
    ],
)
def test_a_nul_in_a_json_body_is_invalid(world, who, path, body):
    response = caller(world[who]).post(path, body, format="json")
    assert response.status_code == 400 and error_code(response) == "invalid_request"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "who,path",
    [
        ("anonymous", "/api/v1/offers"),
        ("resident", "/api/v1/offers"),
        ("anonymous", "/api/v1/cities"),
        ("anonymous", "/api/v1/stations"),
        ("resident", "/api/v1/me/vouchers"),
        ("clerk", "/api/v1/merchant/redemptions"),
    ],
)
@pytest.mark.parametrize("page", [BEYOND_BIGINT, "99999999999999999999999", "²", "١", "1e3"])
def test_a_page_beyond_any_list_or_not_a_number_is_invalid(world, who, path, page):
    response = caller(world[who]).get(f"{path}?page={page}")
    assert response.status_code == 400 and error_code(response) == "invalid_request"
    assert "page" in response.json()["error"]["detail"]


@pytest.mark.parametrize(
    "who,path",
    [
        ("anonymous", "/api/v1/offers"),
        ("resident", "/api/v1/offers"),
        ("resident", "/api/v1/me/vouchers"),
    ],
)
def test_the_largest_page_number_is_simply_past_the_end(world, who, path):
    from core.api import MAX_PAGE

    response = caller(world[who]).get(f"{path}?page={MAX_PAGE}")
    assert response.status_code == 404 and error_code(response) == "not_found"


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/offers/{BEYOND_BIGINT}", f"/api/v1/offers/{BEYOND_BIGINT}/claim"],
)
def test_an_id_beyond_bigint_is_not_found(world, path):
    client = caller(world["resident"])
    response = client.post(path) if path.endswith("claim") else client.get(path)
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_station_beyond_bigint_is_invalid(world):
    response = caller(None).get(f"/api/v1/offers?station={BEYOND_BIGINT}")
    assert response.status_code == 400 and error_code(response) == "invalid_request"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "query",
    [
        "date_to=9999-12-31",
        "date_from=0001-01-01",
        "date_from=9999-12-31&date_to=9999-12-31",
        "date_to=2026-02-30",
        "date_to=20260101",
    ],
)
def test_dates_out_of_range_on_merchant_redemptions_are_invalid(world, query):
    response = caller(world["clerk"]).get(f"/api/v1/merchant/redemptions?{query}")
    assert response.status_code == 400 and error_code(response) == "invalid_request"


def test_merchant_redemptions_take_the_widest_sensible_range(world):
    ok = caller(world["clerk"]).get(
        "/api/v1/merchant/redemptions?date_from=2000-01-01&date_to=2099-12-31"
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("endpoint", ["summary", "series", "breakdown?by=category", "flows"])
@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01"])
def test_dates_out_of_range_on_dashboards_are_invalid(world, endpoint, query):
    sep = "&" if "?" in endpoint else "?"
    response = caller(world["city_staff"]).get(f"/api/v1/dashboard/{endpoint}{sep}{query}")
    assert response.status_code == 400 and error_code(response) == "invalid_request"


def test_dates_out_of_range_on_the_dashboard_export_are_a_bad_request(world):
    page = Client(raise_request_exception=False)
    page.force_login(world["city_staff"])
    assert page.get("/dashboard/export.csv?date_to=9999-12-31").status_code == 400


# --------------------------------------------------------------------------- the schema


def test_the_schema_does_not_promise_eligibility_to_callers_who_are_not_residents(world):
    schema = Client().get("/api/schema/?format=json").json()
    offer = schema["components"]["schemas"]["MatchedOfferOutput"]
    assert "eligibility" in offer["properties"]
    assert "eligibility" not in offer.get("required", [])
    for who in ("anonymous", "clerk", "city_staff"):
        listed = caller(world[who]).get("/api/v1/offers").json()["results"]
        assert listed and all("eligibility" not in o for o in listed), who
        one = caller(world[who]).get(f"/api/v1/offers/{world['offer'].pk}").json()
        assert "eligibility" not in one
    mine = caller(world["resident"]).get("/api/v1/offers").json()["results"]
    assert all("eligibility" in o for o in mine)
    page = schema["paths"]["/api/v1/offers"]["get"]["parameters"]
    maximum = next(p["schema"].get("maximum") for p in page if p["name"] == "page")
    assert maximum and re.fullmatch(r"\d+", str(maximum)) and maximum < 2**63 // 100
