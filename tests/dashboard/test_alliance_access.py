"""Alliance staff (issue 26): who sees which alliance, a city outside it is 404, they change
nothing; the public list of alliances; the HTML dashboard and its CSV for an alliance."""

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Alliance, User
from accounts.reference import load_reference_data
from incentives.dashboard.rollup import rebuild_rollups
from tests.conftest import bearer
from tests.factories import PASSWORD, StaffFactory
from tests.merchants.factories import superuser

from . import factories as f
from .reference import Raw
from .test_alliance_rollup import YRD, alliance_staff

pytestmark = pytest.mark.django_db

ENDPOINTS = ("summary", "series", "breakdown", "flows")


@pytest.fixture
def alliances(cities):
    load_reference_data()
    return {a.code: a for a in Alliance.objects.all()}


@pytest.fixture
def yrd(alliances) -> User:
    return alliance_staff("yrd")


def get(client, user, path, **params):
    headers = bearer(user) if user is not None else {}
    return client.get(f"/api/v1/dashboard/{path}", params, **headers)


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_the_alliances_and_their_members_are_public(alliances, api_client):
    response = api_client.get("/api/v1/alliances")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert set(rows) == {"yrd", "ten-cities", "jjjj"}
    assert {m["code"] for m in rows["yrd"]["members"]} == YRD
    ten = {"杭州", "厦门", "天津", "海口", "三亚", "宁波", "济南", "郑州", "榆林", "黄石"}
    assert {m["name"] for m in rows["ten-cities"]["members"]} == ten
    assert [m["code"] for m in rows["jjjj"]["members"]] == ["120100"]
    assert rows["yrd"]["name"] == "信用长三角（三省一市）" and rows["yrd"]["name_en"]


def test_bootstrap_loads_the_alliances_once_and_keeps_an_operators_edit(alliances):
    alliances["yrd"].members.remove("330200")
    load_reference_data()
    assert not Alliance.objects.get(pk="yrd").members.filter(code="330200").exists()
    assert Alliance.objects.count() == 3


@pytest.mark.parametrize("path", ENDPOINTS)
def test_alliance_staff_see_their_alliance_and_may_not_name_another(path, yrd, api_client):
    assert get(api_client, yrd, path).status_code == 200
    assert get(api_client, yrd, path, alliance="yrd").status_code == 200
    _error(get(api_client, yrd, path, alliance="ten-cities"), 403, "permission_denied")
    _error(get(api_client, yrd, path, alliance="nowhere"), 403, "permission_denied")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_city_outside_the_alliance_is_404(path, yrd, alliances, api_client):
    assert get(api_client, yrd, path, city="320500").status_code == 200  # 苏州: a member
    _error(get(api_client, yrd, path, city="460100"), 404, "not_found")  # 海口: not
    _error(get(api_client, yrd, path, city="999999"), 404, "not_found")
    admin = superuser()
    _error(get(api_client, admin, path, alliance="yrd", city="460100"), 404, "not_found")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_only_alliance_staff_and_superusers_name_an_alliance(path, alliances, api_client):
    city = StaffFactory(staff_city_id="330100")  # 杭州 is in both alliances, still no
    _error(get(api_client, city, path, alliance="yrd"), 403, "permission_denied")
    admin = superuser()
    assert get(api_client, admin, path, alliance="ten-cities").status_code == 200
    error = _error(get(api_client, admin, path, alliance="nowhere"), 400, "invalid_request")
    assert "alliance" in error["detail"]
    error = _error(get(api_client, admin, path, alliance="YRD;--"), 400, "invalid_request")
    assert "alliance" in error["detail"]
    resident = f.resident("330100")
    _error(get(api_client, resident, path, alliance="yrd"), 403, "permission_denied")
    _error(get(api_client, None, path, alliance="yrd"), 401, "not_authenticated")


def test_a_deactivated_or_unattached_alliance_staff_sees_nothing(alliances, api_client):
    gone = alliance_staff("yrd")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert get(api_client, gone, "summary").status_code in (401, 403)
    from core import roles

    assert roles.dashboard_cities(gone) == frozenset()
    assert roles.dashboard_cities(alliance_staff("jjjj")) == frozenset({"120100"})
    assert roles.dashboard_cities(superuser()) is None
    assert roles.dashboard_cities(StaffFactory(staff_city_id="460100")) == {"460100"}


def test_an_alliance_staff_member_needs_an_alliance(alliances):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StaffFactory(role=User.Role.ALLIANCE_STAFF, staff_city=None, staff_alliance=None)


def test_me_tells_the_role_and_the_alliance(yrd, api_client):
    me = api_client.get("/api/v1/me", **bearer(yrd)).json()
    assert me["role"] == "alliance_staff" and me["staff_alliance"] == "yrd"


def test_alliance_staff_change_nothing(yrd, alliances, api_client):
    """No merchant-staff writes (scans, redemptions, pass checks, incidents) and no admin:
    offers and incidents are changed in admin, which shows them nothing."""
    for path, body in (
        ("/api/v1/merchant/redemptions", {"code": "ABCD-EFGH-JK"}),
        ("/api/v1/merchant/scan", {"code": "ABCD-EFGH-JK"}),
        ("/api/v1/merchant/pass-checks", {"token": "x", "offer_id": 1}),
        ("/api/v1/merchant/incidents", {"voucher_code": "ABCD-EFGH-JK", "kind": "other"}),
    ):
        response = api_client.post(path, body, format="json", **bearer(yrd))
        assert response.status_code == 403, (path, response.content)
    # even if someone ticks "may log in to admin" for them
    yrd.is_staff = True
    yrd.save(update_fields=["is_staff"])
    offer = f.offer(f.merchant("330100"))
    client = Client()
    client.force_login(yrd)
    for url in (
        "/admin/merchants/offer/",
        f"/admin/merchants/offer/{offer.pk}/change/",
        "/admin/incentives/incident/",
        "/admin/accounts/alliance/",
    ):
        assert client.get(url).status_code in (403, 404), url
    response = client.post(f"/admin/merchants/offer/{offer.pk}/change/", {"title": "改了"})
    assert response.status_code in (403, 404)
    offer.refresh_from_db()
    assert offer.title != "改了"
    # superusers manage the alliances
    admin = Client()
    admin.force_login(superuser())
    page = admin.get("/admin/accounts/alliance/")
    assert page.status_code == 200 and "信用长三角" in page.content.decode()
    assert admin.get("/admin/accounts/alliance/yrd/change/").status_code == 200


def test_the_alliance_endpoints_run_a_fixed_number_of_queries(
    history, yrd, api_client, django_assert_num_queries
):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    params = {"date_from": history.first_day.isoformat()}
    # the caller (JWT), the alliance's members, then the selector's own
    cases = [("summary", {}, 11), ("series", {}, 3), ("flows", {}, 4)]
    cases += [("breakdown", {"by": by}, 4) for by in ("merchant", "offer", "home_city")]
    for path, extra, queries in cases:
        with django_assert_num_queries(queries):
            assert get(api_client, yrd, path, **params, **extra).status_code == 200
    f.voucher(history.offers["sh-museum-1"], f.resident("320200"), timezone.now())
    rebuild_rollups(date_from=history.today, date_to=history.today)
    for path, extra, queries in cases:
        with django_assert_num_queries(queries):
            assert get(api_client, yrd, path, **params, **extra).status_code == 200


# --------------------------------------------------------------------------- the page


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_alliance_staff_log_in_to_the_dashboard_and_see_their_alliance(history, yrd):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    client = Client()
    response = client.post(
        "/dashboard/login/", {"username": yrd.phone, "password": PASSWORD, "next": "/dashboard/"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    d0, d1 = history.first_day, history.today
    response = client.get("/dashboard/", {"date_from": d0.isoformat(), "date_to": d1.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="who">信用长三角（三省一市）<' in html
    raw = Raw().summary(None, d0, d1, members=YRD)
    assert f'id="stat-claims">{raw["claims"]}<' in html
    assert f'id="stat-residents">{raw["unique_residents"]}<' in html
    # a city picker of its members only, and no alliance picker
    assert '<option value="">全部成员城市</option>' in html
    assert '<option value="320500">苏州</option>' in html and 'value="460100"' not in html
    assert 'name="alliance"' in html and 'id="alliance"' not in html  # kept, not chosen
    narrowed = client.get("/dashboard/", {"city": "330100", "lang": "en"}).content.decode()
    assert 'id="who">Yangtze River Delta · Hangzhou<' in narrowed
    assert '<option value="330100" selected>Hangzhou</option>' in narrowed
    assert client.get("/dashboard/", {"city": "460100"}).status_code == 404
    assert client.get("/dashboard/", {"alliance": "ten-cities"}).status_code == 403
    assert client.get("/dashboard/export.csv", {"city": "460100"}).status_code == 404


def _sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = []
            continue
        if len(row) == 1 and not current:
            sections[row[0]] = current
            continue
        current.append(row)
    return sections


def test_the_alliance_csv_has_the_alliances_figures_and_member_flows_only(history, yrd):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    d0, d1 = history.first_day, history.today
    response = logged_in(yrd).get(
        "/dashboard/export.csv", {"date_from": d0.isoformat(), "date_to": d1.isoformat()}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="xinyou-dashboard-yrd-{d0}-{d1}.csv"'
    )
    text = response.content.decode("utf-8-sig")
    raw = Raw()
    assert ["城市", "信用长三角（三省一市）"] in list(csv.reader(io.StringIO(text)))
    sections = _sections(text)
    summary = dict(sections["概览"][1:])
    expected = raw.summary(None, d0, d1, members=YRD)
    assert int(summary["领取"]) == expected["claims"]
    assert int(summary["领取居民数"]) == expected["unique_residents"]
    flows = {(r[0], r[1]): int(r[2]) for r in sections["跨城流向"][1:]}
    names = {"330100": "杭州", "310100": "上海", "320500": "苏州", "460100": "海口"}
    want = {
        (names[h], names[d]): c["claims"]
        for (h, d), c in raw.flows(None, d0, d1, members=YRD).items()
        if c["claims"] or any(c.values())
    }
    assert flows == want and flows
    assert not any("海口" in pair for pair in flows)


def test_superusers_pick_an_alliance_and_a_city_of_another_is_a_message(history, alliances):
    client = logged_in(superuser())
    html = client.get("/dashboard/", {"alliance": "ten-cities"}).content.decode()
    assert 'id="alliance"' in html and '<option value="ten-cities" selected>' in html
    assert '<option value="460100">海口</option>' in html and 'value="310100"' not in html
    assert 'id="who">十城市信用建设战略合作联盟<' in html
    # switching the alliance with a city of the one before: the new alliance's figures
    response = client.get("/dashboard/", {"alliance": "yrd", "city": "460100"})
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html
    assert "该城市不是所选联盟的成员" in html and 'id="who">信用长三角（三省一市）<' in html
    bad = client.get("/dashboard/", {"alliance": "nowhere"})
    assert bad.status_code == 200 and 'data-field="alliance"' in bad.content.decode()
