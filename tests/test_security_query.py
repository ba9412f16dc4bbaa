"""Strict query parsing (issue 24, point 7): dates exactly `YYYY-MM-DD`, digits only ASCII
0-9, wherever the API reads a query string (`core.api.QuerySerializer`, the offer and
station filter sets); `docs/outages.md`, "Bad input"."""

import pytest
from django.test import Client

from tests.test_bad_input import caller, error_code, world  # noqa: F401 (a fixture)

FULL_WIDTH_DATE = "\uff12\uff10\uff12\uff16-01-01"  # ２０２６-01-01
ARABIC_INDIC_TWO = "\u0662"  # ٢
FULL_WIDTH_TWO = "\uff12"  # ２


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2026-1-1",
        f"date_from={FULL_WIDTH_DATE}",
        "date_to=2026-01-1",
        "date_to=20260101",
        "date_to=2026-01-01T00:00",
    ],
)
def test_loose_dates_are_refused_on_merchant_redemptions(world, query):  # noqa: F811
    response = caller(world["clerk"]).get(f"/api/v1/merchant/redemptions?{query}")
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_request"
    assert set(response.json()["error"]["detail"]) <= {"date_from", "date_to"}


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2026-1-1",
        f"date_to={FULL_WIDTH_DATE}",
        "city=\uff13\uff13\uff10\uff11\uff10\uff10",  # ３３０１００
        "city=\u0663\u0663\u0660\u0661\u0660\u0660",  # ٣٣٠١٠٠
    ],
)
def test_loose_dates_and_codes_are_refused_on_the_dashboard(world, query):  # noqa: F811
    response = caller(world["city_staff"]).get(f"/api/v1/dashboard/summary?{query}")
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_request"


@pytest.mark.parametrize(
    "digits",
    [
        "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
        "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
    ],
)
def test_a_station_in_other_digits_is_refused(world, digits):  # noqa: F811
    from tests.merchants.factories import StationFactory

    station = StationFactory(city_id="330100")
    assert caller(None).get("/api/v1/offers", {"station": station.pk}).status_code == 200
    spelled = "".join(digits[int(d)] for d in str(station.pk))
    response = caller(None).get("/api/v1/offers", {"station": spelled})
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_request"
    assert "station" in response.json()["error"]["detail"]


@pytest.mark.parametrize("near", [f"33010{FULL_WIDTH_TWO}", f"33010{ARABIC_INDIC_TWO}"])
def test_near_in_other_digits_is_refused(world, near):  # noqa: F811
    response = caller(None).get("/api/v1/offers", {"near": near})
    assert response.status_code == 400, response.content


def test_the_dashboard_page_refuses_a_loose_date(world):  # noqa: F811
    page = Client()
    page.force_login(world["city_staff"])
    assert page.get("/dashboard/export.csv?date_from=2026-1-1").status_code == 400


def test_strict_dates_and_ascii_numbers_still_pass(world):  # noqa: F811
    ok = caller(world["clerk"]).get(
        "/api/v1/merchant/redemptions?date_from=2026-01-01&date_to=2026-01-31"
    )
    assert ok.status_code == 200
    assert caller(None).get("/api/v1/offers?near=330100").status_code == 200
    assert caller(None).get("/api/v1/offers", {"q": "２号店"}).status_code == 200  # free text


def test_the_rules():
    from core.parsers import query_value_error

    assert query_value_error("date", "2026-01-01") is None
    assert query_value_error("date", "2026-1-01")
    assert query_value_error("integer", "12") is None
    assert query_value_error("integer", "1" + ARABIC_INDIC_TWO)
    assert query_value_error("number", "1.5") is None
    assert query_value_error("code", "A" + FULL_WIDTH_TWO)
    assert query_value_error("code", "330100") is None
