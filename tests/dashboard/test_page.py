"""The HTML dashboard and its CSV export: session login, roles, figures, languages."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client

from incentives.dashboard.rollup import rebuild_rollups
from merchants.models import Category

from .reference import Raw

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login(db):
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/?next=/dashboard/")
    assert Client().get("/dashboard/export.csv").status_code == 302
    login = Client().get("/dashboard/login/")
    assert login.status_code == 200 and "城市工作人员登录" in login.content.decode()


def test_residents_and_merchant_staff_get_403(resident, merchant_user):
    for user in (resident, merchant_user):
        client = logged_in(user)
        assert client.get("/dashboard/").status_code == 403
        assert client.get("/dashboard/export.csv").status_code == 403


@pytest.mark.parametrize(
    ("lang", "title"), [("zh-hans", "此账号不能查看城市数据看板"), ("en", "cannot open")]
)
def test_the_403_page_is_translated_and_has_a_way_out(resident, merchant_user, lang, title):
    for user, back in ((resident, "/m/"), (merchant_user, "/scan/")):
        response = logged_in(user).get("/dashboard/", {"lang": lang})
        html = response.content.decode()
        assert response.status_code == 403 and title in html
        assert f'<html lang="{lang}">' in html
        assert 'action="/dashboard/logout/"' in html and 'id="forbidden-logout"' in html
        assert f'id="forbidden-back" href="{back}"' in html  # the place for the role
        assert "中文" in html and "English" in html  # and the language switch
    came_from = logged_in(resident).get("/dashboard/", HTTP_REFERER="http://testserver/m/#/x")
    assert 'href="http://testserver/m/#/x"' in came_from.content.decode()
    elsewhere = logged_in(resident).get("/dashboard/", HTTP_REFERER="https://evil.example/")
    assert "evil.example" not in elsewhere.content.decode()


@pytest.mark.parametrize(
    ("lang", "heading"), [("zh-hans", "城市工作人员登录"), ("en", "City staff")]
)
def test_the_login_page_offers_both_languages(db, lang, heading):
    response = Client().get("/dashboard/login/", {"lang": lang, "next": "/dashboard/"})
    html = response.content.decode()
    assert response.status_code == 200 and heading in html
    assert f'<html lang="{lang}">' in html
    assert response.cookies["django_language"].value == lang
    # each language named in itself, keeping where to go after the login
    assert ">中文</a>" in html and ">English</a>" in html
    assert 'href="?next=%2Fdashboard%2F&amp;lang=en"' in html


def test_city_staff_log_in_with_phone_and_password(staff):
    from tests.factories import PASSWORD

    client = Client()
    response = client.post(
        "/dashboard/login/",
        {"username": staff["330100"].phone, "password": PASSWORD, "next": "/dashboard/"},
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    bad = Client().post("/dashboard/login/", {"username": staff["330100"].phone, "password": "x"})
    assert bad.status_code == 200 and "手机号或密码不正确" in bad.content.decode()


def test_the_page_shows_the_citys_figures_and_only_local_assets(history, staff):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    d0 = history.first_day
    response = logged_in(staff["330100"]).get(
        "/dashboard/", {"date_from": d0.isoformat(), "date_to": history.today.isoformat()}
    )
    assert response.status_code == 200
    html = response.content.decode()
    raw = Raw().summary("330100", d0, history.today)
    assert f'id="stat-claims">{raw["claims"]}<' in html
    assert f'id="stat-residents">{raw["unique_residents"]}<' in html
    for chart in ("series", "category", "merchant", "home-city", "flows"):
        assert f'id="chart-{chart}"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert 'id="dashboard-data"' in html
    # closed network: nothing loaded from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert 'name="city"' not in html  # only superusers pick a city


def test_superusers_pick_a_city_and_errors_fall_back_to_the_default_range(
    history, admin_user, staff
):
    client = logged_in(admin_user)
    html = client.get("/dashboard/", {"city": "460100"}).content.decode()
    assert 'name="city"' in html and '<option value="460100" selected>' in html
    html = client.get("/dashboard/", {"city": "", "date_from": ""}).content.decode()
    assert 'role="alert"' not in html
    html = client.get("/dashboard/", {"date_from": "2026-02-30"}).content.decode()
    assert 'role="alert"' in html and 'data-field="date_from">开始日期：' in html
    reversed_range = {"date_from": "2026-03-02", "date_to": "2026-03-01", "lang": "en"}
    html = client.get("/dashboard/", reversed_range).content.decode()
    alert = html[html.index('id="query-errors"') :]
    alert = alert[: alert.index("</div>")]
    assert "The start date cannot be after the end date." in alert
    assert "date_from" not in alert.replace('data-field="date_from"', "")  # no field names
    assert 'id="date_from" value="' in html and 'aria-invalid="true"' in html
    # the city picker speaks the page's language
    assert '<option value="330100">Hangzhou</option>' in html
    assert logged_in(staff["330100"]).get("/dashboard/", {"city": "460100"}).status_code == 403


def test_the_language_follows_lang_and_is_remembered(staff):
    client = logged_in(staff["330100"])
    response = client.get("/dashboard/", {"lang": "en"})
    assert '<html lang="en">' in response.content.decode()
    assert response.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/dashboard/").content.decode()
    assert '<html lang="zh-hans">' in client.get("/dashboard/?lang=zh-hans").content.decode()


def test_the_echarts_file_is_vendored():
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/echarts/echarts.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as fh:
        head = fh.read(2000)
    assert "Apache" in head


def _sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = row[0]
            sections[current] = []
        else:
            sections[current].append(row)
    return sections


def test_csv_export_has_a_bom_chinese_headers_and_the_same_figures(history, staff):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    d0, d1 = history.first_day, history.today
    response = logged_in(staff["330100"]).get(
        "/dashboard/export.csv",
        {"date_from": d0.isoformat(), "date_to": d1.isoformat(), "interval": "week"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="xinyou-dashboard-330100-{d0}-{d1}.csv"'
    )
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    sections = _sections(text)
    raw = Raw()
    summary = dict(sections["概览"][1:])
    expected = raw.summary("330100", d0, d1)
    assert int(summary["领取"]) == expected["claims"]
    assert int(summary["核销"]) == expected["redemptions"]
    assert int(summary["领取居民数"]) == expected["unique_residents"]
    assert (int(summary["取消"]), int(summary["过期"]), int(summary["撤销"])) == (
        expected["cancelled"],
        expected["expired"],
        expected["revoked"],
    )
    series = sections["趋势（按周）"]
    assert series[0][:4] == ["时段", "起", "止", "领取"]
    assert [r[0] for r in series[1:]] == [r["period"] for r in raw.series("330100", d0, d1, "week")]
    assert sum(int(r[3]) for r in series[1:]) == expected["claims"]
    by_category = {r[0]: int(r[1]) for r in sections["按类别"][1:]}
    names = dict(Category.choices)  # names as the page shows them, never codes ("scenic")
    assert by_category == {
        str(names[k]): v["claims"] for k, v in raw.breakdown("330100", d0, d1, "category").items()
    }
    assert not set(by_category) & set(names)
    assert summary["核销率"] == (
        f"{round(expected['redemptions'] / expected['claims'] * 100)}%"
    )  # as the page shows it (13%), not 0.1346
    page = logged_in(staff["330100"]).get("/dashboard/", {"date_from": d0, "date_to": d1})
    assert f'id="stat-rate">{summary["核销率"]}<' in page.content.decode()
    assert sections["按拒绝原因"][0] == ["原因", "被拒次数"]
    assert sections["按商户"][0] == [
        "编号",
        "名称",
        "领取",
        "核销",
        "取消",
        "过期",
        "撤销",
        "权益使用",
        "核销率",
    ]
    flows = sections["跨城流向"]
    assert flows[0][:2] == ["居民所在城市", "使用城市"]
    assert sum(int(r[2]) for r in flows[1:]) == sum(
        v["claims"] for v in raw.flows("330100", d0, d1).values()
    )
    assert "杭州" in text
    bad = logged_in(staff["330100"]).get("/dashboard/export.csv", {"date_to": "x"})
    assert bad.status_code == 400
    assert bad.content.decode().startswith("结束日期：")  # a sentence, not `date_to:`


def test_the_english_csv_is_english(history, staff):
    rebuild_rollups(date_from=history.first_day, date_to=history.today)
    client = logged_in(staff["330100"])
    page = client.get("/dashboard/", {"lang": "en"}).content.decode()
    assert "lang=en" in page[page.index('id="export"') :].split(">")[0]  # the link keeps it
    text = client.get("/dashboard/export.csv", {"lang": "en"}).content.decode("utf-8-sig")
    sections = _sections(text)
    assert sections["Xinyou city dashboard"][0] == ["City", "Hangzhou"]
    assert sections["By merchant"][0] == [
        "ID",
        "Name",
        "Claims",
        "Redemptions",
        "Cancelled",
        "Expired",
        "Revoked",
        "Entitlement uses",
        "Redemption rate",
    ]
    headers = [rows[0] for rows in sections.values() if rows] + [[t] for t in sections]
    assert not any(re.search(r"[\u4e00-\u9fff]", cell) for row in headers for cell in row)


def test_superuser_export_of_all_cities(history, admin_user):
    rebuild_rollups(date_from=history.first_day - timedelta(days=1), date_to=history.today)
    response = logged_in(admin_user).get("/dashboard/export.csv")
    assert response.status_code == 200
    assert "xinyou-dashboard-all-" in response["Content-Disposition"]
    assert "全部城市" in response.content.decode("utf-8-sig")
