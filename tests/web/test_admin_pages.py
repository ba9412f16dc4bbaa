"""The admin as merchant and city staff use it, in headless Chromium on a desktop screen
(1280 and 1440 px): every list shows all its columns on one screen with long texts cut
(the whole text on hover), the home page, the favicon, and axe-core finds no serious or
critical violation on the pages they use, in Chinese and in English. Screenshots:
test-artifacts/web/admin-*.png."""

import re

import pytest
from django.test import Client

from tests.axe import serious_violations
from tests.merchants.test_admin_home import LONG_MERCHANT, LONG_TITLE, back_office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 1440)
CJK = r"[\u4e00-\u9fff]"
LOCALES = {"zh": "zh-CN", "en": "en-US"}

# the lists each role reaches (all of those in the admin's menu for them)
MERCHANT_LISTS = [
    "/admin/merchants/offer/",
    "/admin/merchants/merchant/",
    "/admin/incentives/offlineredemption/",
]
CITY_LISTS = [
    "/admin/incentives/risksignal/",
    "/admin/merchants/offer/",
    "/admin/merchants/merchant/",
    "/admin/merchants/station/",
    "/admin/incentives/incident/",
    "/admin/incentives/offlineredemption/",
    "/admin/merchants/merchantcreditcheck/",
]


@pytest.fixture
def office(transactional_db, settings):
    from django.utils import timezone

    from incentives.risk.models import RiskSignal

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    office = back_office()
    RiskSignal.objects.create(  # a row in the reviewer's risk-signal list
        kind="outside_hours",
        city_id=office["reviewer"].staff_city_id,
        day=timezone.localdate(),
        fingerprint="admin-pages",
        subject="西湖十景夜游特惠套票（含游船、音乐喷泉与雷峰塔夜场）· 西湖游船",
        facts={
            "offer": "西湖十景夜游特惠套票（含游船、音乐喷泉与雷峰塔夜场）",
            "merchant": "西湖游船",
            "outside_validity": 0,
            "outside_hours": 3,
            "hours": "09:00–17:00",
        },
    )
    return office


@pytest.fixture
def desk(chromium, live_server):
    """desk(user, width, lang) → a page in a fresh desktop context, logged in as `user`
    (None: anonymous); console errors and CSP reports collected in page.problems."""
    contexts = []
    host = live_server.url.split("://", 1)[1].split(":")[0]

    def open_desk(user, width: int = 1440, lang: str = "zh"):
        context = chromium.new_context(
            viewport={"width": width, "height": 900},
            locale=LOCALES[lang],
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies["sessionid"].value
            context.add_cookies(
                [{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}]
            )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.problems = problems
        page.base = live_server.url
        return page

    yield open_desk
    for context in contexts:
        context.close()


def fits(page) -> dict:
    """Where the list's table ends and whether anything scrolls sideways."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const results = table.closest('.results');
            return {
                right: table.getBoundingClientRect().right,
                viewport: document.documentElement.clientWidth,
                page: document.documentElement.scrollWidth,
                inner: results ? results.scrollWidth - results.clientWidth : 0,
            };
        }"""
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_list_shows_all_its_columns_on_one_screen(desk, office, width, lang, shots):
    bad = []
    for who, lists in (("clerk_a", MERCHANT_LISTS), ("reviewer", CITY_LISTS)):
        page = desk(office[who], width, lang)
        for path in lists:
            page.goto(page.base + path)
            box = fits(page)
            name = path.strip("/").split("/")[-1]
            shots(page, f"admin-{who}-{name}-{width}-{lang}")
            if lang == "en":  # the column headers are English too
                headers = page.locator("#result_list thead th").all_inner_texts()
                assert not [h for h in headers if re.search(CJK, h)], (path, headers)
            if (
                not (box["right"] <= box["viewport"] and box["page"] <= box["viewport"])
                or box["inner"] > 0
            ):
                bad.append((who, path, box))
    assert bad == []


def _pages(office):
    """The admin pages each role uses (path), by login."""
    from merchants.models import Offer, Station

    a = office["a"]
    draft = Offer.objects.filter(merchant=a, status="draft").first()
    station = Station.objects.get(name="西湖站")
    return {
        "clerk_a": [
            "/admin/",
            "/admin/merchants/offer/",
            "/admin/merchants/offer/add/",
            f"/admin/merchants/offer/{draft.pk}/change/",
            f"/admin/merchants/offer/{office['pass_a'].pk}/change/",
            "/admin/merchants/merchant/",
            f"/admin/merchants/merchant/{a.pk}/change/",
            "/admin/incentives/offlineredemption/",
            "/admin/password_change/",
        ],
        "reviewer": [
            "/admin/",
            "/admin/merchants/offer/",
            f"/admin/merchants/offer/{office['submitted'].pk}/change/",
            "/admin/merchants/merchant/",
            f"/admin/merchants/merchant/{a.pk}/change/",
            "/admin/merchants/station/",
            f"/admin/merchants/station/{station.pk}/change/",
            "/admin/incentives/incident/",
            f"/admin/incentives/incident/{office['incident'].pk}/change/",
            "/admin/incentives/offlineredemption/",
        ],
    }


def _slug(path: str) -> str:
    parts = [p for p in path.strip("/").split("/")[1:] if not p.isdigit()]
    return "-".join(parts) or "home"


def _action_page(page, path: str, pk: int, action: str) -> None:
    """A bulk action's own page (reject with a reason, decide an incident)."""
    page.goto(page.base + path)
    page.check(f'input[name="_selected_action"][value="{pk}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_merchants_and_city_staff_use_pass_axe(desk, office, lang, shots):
    found: dict[str, list[str]] = {}
    login = desk(None, 1440, lang)
    login.goto(login.base + "/admin/login/")
    found["login"] = serious_violations(login)
    shots(login, f"admin-login-{lang}")
    assert login.problems == []
    for who, paths in _pages(office).items():
        page = desk(office[who], 1440, lang)
        for path in paths:
            response = page.goto(page.base + path)
            assert response.status == 200, (who, path)
            found[f"{who} {path}"] = serious_violations(page)
            shots(page, f"admin-{who}-{_slug(path)}-{lang}", full_page=True)
        if who == "reviewer":
            _action_page(page, "/admin/merchants/offer/", office["submitted"].pk, "reject_selected")
            found["reviewer reject form"] = serious_violations(page)
            shots(page, f"admin-reviewer-reject-{lang}")
            _action_page(
                page, "/admin/incentives/incident/", office["incident"].pk, "confirm_selected"
            )
            found["reviewer incident decision"] = serious_violations(page)
            shots(page, f"admin-reviewer-decide-{lang}")
        assert page.problems == [], who
    bad = {k: v for k, v in found.items() if v}
    assert bad == {}, "\n".join(f"{k}: {v}" for k, v in bad.items())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_home_page_and_its_favicon(desk, office, width, shots):
    page = desk(office["clerk_a"], width)
    page.goto(page.base + "/admin/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    answer = page.request.get(page.base + icon)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert page.locator('[data-count="redemptions_today"]').inner_text() == "2"
    assert page.locator("#user-tools strong").inner_text() == f"李店长 · {LONG_MERCHANT}"
    shots(page, f"admin-clerk_a-home-{width}", full_page=True)
    # a long title on the offer list: cut, with the whole title on hover
    page.goto(page.base + "/admin/merchants/offer/")
    cell = page.locator("#result_list .xy-cut", has_text=LONG_TITLE[:6]).first
    assert cell.get_attribute("title") == LONG_TITLE
    assert cell.evaluate("e => e.scrollWidth > e.clientWidth")  # really cut ...
    assert cell.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"  # ... with …
    cell.hover()
    shots(page, f"admin-clerk_a-offer-hover-{width}")
    city = desk(office["reviewer"], width)
    city.goto(city.base + "/admin/")
    assert city.locator('[data-count="submitted"]').inner_text() == "2"
    shots(city, f"admin-reviewer-home-{width}", full_page=True)
    # in English, the home page's own words are English (names of things are data)
    english = desk(office["clerk_a"], width, "en")
    english.goto(english.base + "/admin/")
    words = english.locator(".xy-panel th, .xy-panel h3, .xy-panel .button").all_inner_texts()
    assert words and not [w for w in words if re.search(CJK, w)], words
    shots(english, f"admin-clerk_a-home-{width}-en", full_page=True)
    assert page.problems == [] and city.problems == []
