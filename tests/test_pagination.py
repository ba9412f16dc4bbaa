"""Page numbers the database cannot take are refused as out of range, never a 500 (the
schema fuzz found `?page=<40 digits>` on the offer list)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/offers", "/api/v1/stations"])
@pytest.mark.parametrize(
    "page", ["1319030385755347720448228148083949568", "99999999999999999999", "1000001", "²"]
)
def test_absurd_page_numbers_are_invalid_requests(api_client, cities, path, page):
    response = api_client.get(path, {"page": page})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "page" in response.json()["error"]["detail"]


def test_a_page_past_the_end_is_still_not_found(api_client, cities):
    assert api_client.get("/api/v1/offers", {"page": "1000000"}).status_code == 404
