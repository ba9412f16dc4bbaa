"""The trail in admin: superusers search it (object, user, address, date) and export it
as CSV; each tracked object's history page lists its rows; others see none of it."""

import csv
import io

import pytest
from django.test import Client

from tests.merchants.factories import MerchantFactory, OfferFactory, city_staff, superuser
from tests.merchants.test_admin import change_url, form_data

from .helpers import ADDRESS

pytestmark = pytest.mark.django_db

TRAIL = "/admin/audit/trailentry/"


def browser(user, addr: str = ADDRESS) -> Client:
    c = Client(REMOTE_ADDR=addr)
    c.force_login(user)
    return c


@pytest.fixture
def changed(cities):
    from tests.merchants.factories import merchant_staff

    merchant = MerchantFactory(name="商户甲", city_id="330100")
    offer = OfferFactory(merchant=merchant, title="=HYPERLINK(1)")
    staff = merchant_staff(merchant)
    # made before the request: the test's one transaction keeps the request's context
    # (transaction-local settings) for whatever it writes afterwards
    root = superuser()
    res = browser(staff).post(change_url(offer), form_data(offer, title="=HYPERLINK(2)"))
    assert res.status_code == 302
    return {"offer": offer, "staff": staff, "merchant": merchant, "root": root}


def test_superusers_search_the_trail_by_user_address_object_and_date(changed):
    root = browser(changed["root"], "192.0.2.1")
    staff, offer = changed["staff"], changed["offer"]
    page = root.get(TRAIL, {"q": staff.phone})
    assert page.status_code == 200
    rows = list(page.context["cl"].result_list)
    assert rows and {r.user_id for r in rows} == {staff.pk}
    assert {r.pgh_label for r in root.get(TRAIL, {"q": ADDRESS}).context["cl"].result_list} == {
        "update"
    }
    by_object = root.get(TRAIL, {"q": str(offer.pk), "pgh_model": "audit.OfferEvent"})
    assert {r.pgh_obj_id for r in by_object.context["cl"].result_list} == {str(offer.pk)}
    today = root.get(TRAIL, {"pgh_created_at__gte": "2000-01-01T00:00:00+08:00", "user": staff.pk})
    assert {r.user_id for r in today.context["cl"].result_list} == {staff.pk}
    assert (
        not root.get(TRAIL, {"pgh_created_at__lt": "2000-01-01T00:00:00+08:00"})
        .context["cl"]
        .result_list
    )


@pytest.mark.parametrize("term", ["#²", "#99999999999999999999", "#-1", "²", "#"])
def test_a_search_term_that_is_no_id_finds_nothing_rather_than_failing(changed, term):
    page = browser(changed["root"]).get(TRAIL, {"q": term})
    assert page.status_code == 200
    assert not list(page.context["cl"].result_list)


def test_the_export_is_csv_with_a_bom_and_neutralised_formulas(changed):
    root = browser(changed["root"])
    rows = root.get(TRAIL, {"q": ADDRESS}).context["cl"].result_list
    res = root.post(
        TRAIL,
        {"action": "export_csv", "_selected_action": [r.pgh_slug for r in rows], "q": ADDRESS},
    )
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    body = res.content.decode("utf-8")
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[0][:4] == ["time", "object", "object_id", "event"]
    (row,) = table[1:]
    assert row[3] == "update" and row[6] == ADDRESS
    assert "=HYPERLINK(1)" in row[8] and "=HYPERLINK(2)" in row[8]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_only_superusers_see_the_trail_and_the_access_log(changed):
    c = browser(city_staff("330100"))
    assert c.get(TRAIL).status_code == 403
    assert c.get("/admin/audit/accesslog/").status_code == 403
    assert browser(changed["root"]).get("/admin/audit/accesslog/").status_code == 200


def test_each_objects_history_page_lists_its_trail(changed):
    offer, staff = changed["offer"], changed["staff"]
    page = browser(staff).get(f"/admin/merchants/offer/{offer.pk}/history/")
    assert page.status_code == 200
    trail = page.context["trail_rows"]
    update = next(r for r in trail if r["event"] == "update")
    assert update["ip"] == ADDRESS and f"#{staff.pk}" in update["user"]
    assert "=HYPERLINK(1)" in update["changes"] and "=HYPERLINK(2)" in update["changes"]
    assert "audit-row" in page.content.decode()
    merchant_page = browser(changed["root"]).get(
        f"/admin/merchants/merchant/{changed['merchant'].pk}/history/"
    )
    assert any(r["event"] == "insert" for r in merchant_page.context["trail_rows"])
