"""Statements in admin: each role sees its own scope's statements and files, another
scope's file is 404."""

import pytest
from django.test import Client

from incentives.statements.services import close_due_at, close_month


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def closed(world):
    close_month(city="330100", month=world.month, now=close_due_at(world.month))
    return world


def body(res) -> bytes:
    return b"".join(res.streaming_content) if res.streaming else res.content


def test_merchant_staff_list_only_their_own_statements(closed):
    from incentives.models import Statement

    page = signed_in(closed.clerk).get("/admin/incentives/statement/")
    assert page.status_code == 200
    mine = Statement.objects.get(merchant=closed.merchant)
    theirs = Statement.objects.get(merchant=closed.other)
    assert mine.number in page.text and theirs.number not in page.text
    assert (
        signed_in(closed.clerk).get(f"/admin/incentives/statement/{theirs.pk}/change/").status_code
        == 404
    )


def test_city_staff_download_their_merchants_statements_and_the_city_roll_up(closed, hz_staff):
    c = signed_in(hz_staff)
    page = c.get("/admin/incentives/statement/")
    assert page.status_code == 200 and "330100-" in page.text
    m = f"{closed.month:%Y-%m}"
    rollup = c.get(f"/admin/incentives/statement/rollup/330100/{m}.csv")
    assert rollup.status_code == 200
    text = body(rollup).decode("utf-8-sig")
    assert "西湖游船" in text and "灵隐茶馆" in text
    pdf = c.get(f"/admin/incentives/statement/download/{closed.other.pk}/{m}.pdf")
    assert pdf.status_code == 200 and body(pdf).startswith(b"%PDF")


def test_another_scope_s_files_are_404_in_admin(closed, sh_staff):
    m = f"{closed.month:%Y-%m}"
    urls = [
        f"/admin/incentives/statement/download/{closed.merchant.pk}/{m}.csv",
        f"/admin/incentives/statement/rollup/330100/{m}.pdf",
    ]
    for url in urls:
        assert signed_in(sh_staff).get(url).status_code == 404, url
    # a clerk: another merchant's statement, any roll-up
    assert (
        signed_in(closed.clerk)
        .get(f"/admin/incentives/statement/download/{closed.other.pk}/{m}.csv")
        .status_code
        == 404
    )
    assert (
        signed_in(closed.clerk)
        .get(f"/admin/incentives/statement/rollup/330100/{m}.csv")
        .status_code
        == 404
    )
    own = signed_in(closed.clerk).get(
        f"/admin/incentives/statement/download/{closed.merchant.pk}/{m}.csv"
    )
    assert own.status_code == 200
