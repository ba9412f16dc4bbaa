"""Show it: a merchant's clerk signs in to admin, finds the statements page, downloads the
closed month's PDF and CSV; the PDF's text is read back and its totals compared with the
raw rows. Screenshot: test-artifacts/web/statements-admin.png."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from incentives.statements.services import close_due_at, close_month
from tests.conftest import contexts_of
from tests.factories import PASSWORD

from .conftest import build_world
from .reference import expected


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_merchant_downloads_its_statement_as_pdf_and_csv_from_admin(
    live_server, artifacts_dir, settings, chromium
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    # all database work before the browser starts (Playwright's loop runs in this thread)
    world = build_world()
    close_month(city="330100", month=world.month, now=close_due_at(world.month))
    from incentives.models import Statement

    mine = Statement.objects.get(merchant=world.merchant, month=world.month)
    theirs = Statement.objects.get(merchant=world.other, month=world.month)
    want = expected(world.merchant.pk, world.month)["totals"]
    total_cells = [str(want[0]), str(want[1]), str(want[2]), f"{want[3]:.2f}"]
    clerk_phone = world.clerk.phone

    with contexts_of(chromium) as browser:
        context = browser.new_context(
            accept_downloads=True, locale="zh-CN", viewport={"width": 1360, "height": 900}
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", clerk_phone)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("input[type=submit]")
        page.click("a[href$='/admin/incentives/statement/']")
        page.wait_for_url(re.compile(r".*/admin/incentives/statement/$"))
        table = page.inner_text("#result_list")
        assert mine.number in table
        assert theirs.number not in table  # another merchant's statement is not listed
        assert page.locator("#statement-recent-files").is_visible()
        page.screenshot(path=str(shots / "statements-admin.png"), full_page=True)

        row = page.locator("#result_list tbody tr", has_text=mine.number)
        with page.expect_download() as info:
            row.get_by_role("link", name="PDF").click()
        pdf = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename == f"xinyou-statement-{mine.number}.pdf"
        with page.expect_download() as info:
            row.get_by_role("link", name="CSV").click()
        body = Path(info.value.path()).read_bytes()
        context.close()

    text = "\n".join(
        p.extract_text(extraction_mode="layout") for p in PdfReader(io.BytesIO(pdf)).pages
    )
    assert mine.number in text and mine.checksum in text and "西湖游船" in text
    total = next(line.split() for line in text.splitlines() if line.strip().startswith("合计 "))
    assert total[1:] == total_cells
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    assert "合计," + ",".join(total_cells) in lines
    assert f"对账单编号,{mine.number}" in lines
