"""The admin as merchant and city staff use it, in headless Chromium on a desktop screen
(1280 and 1440 px): every list shows all its columns on one screen with long texts cut
(the whole text on hover), the home page, the favicon, and axe-core finds no serious or
critical violation on the pages they use, in Chinese and in English. Screenshots:
test-artifacts/web/admin-*.png."""

import pytest
from django.test import Client

from tests.merchants.test_admin_home import back_office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 1440)
LOCALES = {"zh": "zh-CN", "en": "en-US"}

# the lists each role reaches (all of those in the admin's menu for them)
MERCHANT_LISTS = [
    "/admin/merchants/offer/",
    "/admin/merchants/merchant/",
    "/admin/incentives/offlineredemption/",
]
CITY_LISTS = [
    "/admin/merchants/offer/",
    "/admin/merchants/merchant/",
    "/admin/merchants/station/",
    "/admin/incentives/incident/",
    "/admin/incentives/offlineredemption/",
    "/admin/merchants/merchantcreditcheck/",
]


@pytest.fixture
def office(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return back_office()


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


@pytest.mark.parametrize("width", WIDTHS)
def test_every_list_shows_all_its_columns_on_one_screen(desk, office, width, shots):
    bad = []
    for who, lists in (("clerk_a", MERCHANT_LISTS), ("reviewer", CITY_LISTS)):
        page = desk(office[who], width)
        for path in lists:
            page.goto(page.base + path)
            box = fits(page)
            name = path.strip("/").split("/")[-1]
            shots(page, f"admin-{who}-{name}-{width}")
            if (
                not (box["right"] <= box["viewport"] and box["page"] <= box["viewport"])
                or box["inner"] > 0
            ):
                bad.append((who, path, box))
    assert bad == []
