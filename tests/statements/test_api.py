"""The statements API: merchant staff their own, city staff their city's and the roll-up,
nobody another scope's (404); the CSV and PDF files say what the raw rows say."""

import csv
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from incentives.statements.rows import add_months
from incentives.statements.selectors import current_month
from incentives.statements.services import close_due_at, close_month
from tests.conftest import bearer
from tests.factories import ResidentFactory
from tests.merchants.factories import merchant_staff

from .reference import expected


def client(user, language: str = "zh-hans") -> APIClient:
    c = APIClient()
    c.credentials(**bearer(user), HTTP_ACCEPT_LANGUAGE=language)
    return c


def close(world):
    close_month(city="330100", month=world.month, now=close_due_at(world.month))


def month(world) -> str:
    return f"{world.month:%Y-%m}"


def test_merchant_staff_list_their_months_newest_first(world):
    close(world)
    res = client(world.clerk).get("/api/v1/merchant/statements")
    assert res.status_code == 200
    rows = res.json()
    months = [r["month"] for r in rows]
    assert months == sorted(months, reverse=True)
    assert months[0] == f"{current_month():%Y-%m}"
    closed = next(r for r in rows if r["month"] == month(world))
    want = expected(world.merchant.pk, world.month)["totals"]
    assert closed["status"] == "closed"
    assert closed["number"].startswith(f"330100-{world.month:%Y%m}-")
    assert len(closed["checksum"]) == 64
    assert [closed[k] for k in ("redemptions", "entitlement_uses", "conflicts")] == want[:3]
    assert closed["face_value_total"] == f"{want[3]:.2f}"
    nxt = next(r for r in rows if r["month"] == f"{add_months(world.month, 1):%Y-%m}")
    assert nxt["status"] == "open" and nxt["number"] is None and nxt["checksum"] is None
    assert (
        nxt["redemptions"] == expected(world.merchant.pk, add_months(world.month, 1))["totals"][0]
    )


@pytest.mark.parametrize("closed", [False, True])
def test_a_statement_in_json_equals_the_raw_rows(world, closed):
    if closed:
        close(world)
    res = client(world.clerk).get(f"/api/v1/merchant/statements/{month(world)}")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == ("closed" if closed else "open")
    assert body["merchant"] == {"id": world.merchant.pk, "name": "西湖游船"}
    assert body["city"]["name"] == "杭州"
    want = expected(world.merchant.pk, world.month)
    got = {
        line["offer"]["id"]: [
            line["redemptions"],
            line["entitlement_uses"],
            line["conflicts"],
            None if line["face_value"] is None else Decimal(line["face_value"]),
        ]
        for line in body["lines"]
    }
    assert got == want["lines"]
    assert body["totals"] == {
        "redemptions": 8,
        "entitlement_uses": 3,
        "conflicts": 1,
        "face_value": "250.00",
    }
    assert body["adjustments"] == []
    titles = {line["offer"]["id"]: line["offer"]["title"] for line in body["lines"]}
    assert titles[world.offers["boat"].pk] == "游船立减"
    en = client(world.clerk, "en").get(f"/api/v1/merchant/statements/{month(world)}").json()
    assert {line["offer"]["title"] for line in en["lines"]} >= {"Boat ride off"}
    assert en["city"]["name"] == "Hangzhou"


def parse_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def streamed(res) -> bytes:
    return b"".join(res.streaming_content) if res.streaming else res.content


@pytest.mark.parametrize("closed", [False, True])
def test_the_csv_has_every_row_names_not_codes_and_no_live_formula(world, closed):
    if closed:
        close(world)
    res = client(world.clerk).get(f"/api/v1/merchant/statements/{month(world)}.csv")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("text/csv")
    rows = parse_csv(streamed(res))
    assert ["商户", "西湖游船"] in rows
    assert ["城市", "杭州"] in rows
    total = next(r for r in rows if r and r[0] == "合计")
    assert total == ["合计", "8", "3", "1", "250.00"]
    # the offer named like a formula is text to a spreadsheet
    assert ['\'=HYPERLINK("x")', "1", "0", "0", ""] in rows
    header = rows.index(
        ["类型", "时间", "优惠", "券码", "核销员", "方式", "同步时间", "优惠面值（元）"]
    )
    detail = rows[header + 1 :]
    want = expected(world.merchant.pk, world.month)["entries"]
    assert len(detail) == len(want)
    for row, entry in zip(detail, want, strict=True):
        assert row[3] == (f"****{entry['code_last4']}" if entry["code_last4"] else "")
        assert row[4] == entry["clerk"]
        assert row[5] == ("离线" if entry["offline"] else "在线")
        assert row[7] == ("" if entry["face_value"] is None else f"{entry['face_value']:.2f}")
    # no full voucher code anywhere
    codes = {r.voucher.code for r in world.redemptions}
    text = streamed(client(world.clerk).get(f"/api/v1/merchant/statements/{month(world)}.csv"))
    assert not any(code.encode() in text for code in codes)


def pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    # layout mode: a table row reads back as one line, its cells apart
    return "\n".join(page.extract_text(extraction_mode="layout") for page in pages)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pdf_reads_back_with_the_totals_of_the_raw_rows(world, language):
    close(world)
    res = client(world.clerk, language).get(f"/api/v1/merchant/statements/{month(world)}.pdf")
    assert res.status_code == 200
    assert res["Content-Type"] == "application/pdf"
    text = pdf_text(streamed(res))
    want = expected(world.merchant.pk, world.month)["totals"]
    label = "合计" if language == "zh-hans" else "Total"
    line = next(line for line in text.splitlines() if line.strip().startswith(label + " "))
    assert line.split()[1:] == [str(want[0]), str(want[1]), str(want[2]), f"{want[3]:.2f}"]
    assert ("西湖游船" in text) and (
        ("商户对账单" if language == "zh-hans" else "statement") in text
    )
    number = re.search(r"330100-\d{6}-\d{5}", text)
    assert number is not None


def test_city_staff_see_their_city_s_statements_and_the_roll_up(world, hz_staff):
    close(world)
    res = client(hz_staff).get(f"/api/v1/dashboard/statements?month={month(world)}")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "closed"
    assert {s["merchant"]["name"] for s in body["statements"]} == {"西湖游船", "灵隐茶馆"}
    one = expected(world.merchant.pk, world.month)["totals"]
    two = expected(world.other.pk, world.month)["totals"]
    assert body["totals"]["redemptions"] == one[0] + two[0]
    assert body["totals"]["face_value"] == f"{one[3] + two[3]:.2f}"
    single = client(hz_staff).get(
        f"/api/v1/dashboard/statements?month={month(world)}&merchant={world.other.pk}"
    )
    assert single.status_code == 200
    assert single.json()["totals"]["redemptions"] == two[0]
    rollup_csv = parse_csv(
        streamed(client(hz_staff).get(f"/api/v1/dashboard/statements.csv?month={month(world)}"))
    )
    total = next(r for r in rollup_csv if r and r[0] == "合计")
    assert total[2:6] == [
        str(one[0] + two[0]),
        str(one[1] + two[1]),
        str(one[2] + two[2]),
        f"{one[3] + two[3]:.2f}",
    ]
    pdf = client(hz_staff).get(
        f"/api/v1/dashboard/statements.pdf?month={month(world)}&merchant={world.merchant.pk}"
    )
    assert pdf.status_code == 200 and "西湖游船" in pdf_text(streamed(pdf))


def test_nobody_sees_another_scope_s_statement(world, hz_staff, sh_staff, root):
    m = month(world)
    # city staff: another city's merchant, another city
    for url in (
        f"/api/v1/dashboard/statements?month={m}&merchant={world.merchant.pk}",
        f"/api/v1/dashboard/statements.csv?month={m}&merchant={world.merchant.pk}",
        f"/api/v1/dashboard/statements.pdf?month={m}&merchant={world.merchant.pk}",
        f"/api/v1/dashboard/statements?month={m}&city=330100",
    ):
        res = client(sh_staff).get(url)
        assert res.status_code == 404, url
        assert res.json()["error"]["code"] == "not_found"
    assert (
        client(hz_staff)
        .get(f"/api/v1/dashboard/statements?month={m}&merchant={world.shanghai.pk}")
        .status_code
        == 404
    )
    assert (
        client(hz_staff)
        .get(f"/api/v1/dashboard/statements?month={m}&merchant=99999999")
        .status_code
        == 404
    )
    # merchant staff see their own merchant only, and no dashboard
    other = client(world.other_clerk).get(f"/api/v1/merchant/statements/{m}").json()
    assert other["merchant"]["id"] == world.other.pk
    assert client(world.clerk).get(f"/api/v1/dashboard/statements?month={m}").status_code == 403
    # a resident, a merchant-staff login without a merchant
    resident = ResidentFactory(home_city_id="330100")
    assert client(resident).get("/api/v1/merchant/statements").status_code == 403
    assert client(resident).get(f"/api/v1/dashboard/statements?month={m}").status_code == 403
    # superusers: any city, by name
    assert (
        client(root)
        .get(f"/api/v1/dashboard/statements?month={m}&city=310100")
        .json()["statements"][0]["merchant"]["name"]
        == "外滩酒店"
    )
    assert client(root).get(f"/api/v1/dashboard/statements?month={m}").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        "2026-13",
        "26-01",
        "2019-12",
        "abcd-ef",
        "2999-01",
        "0000-10",
        "2026-00",
        "２０２６-01",
        "²⁰²⁶-01",
    ],
)
def test_a_month_outside_the_range_is_404_in_the_path_and_400_in_the_query(world, hz_staff, bad):
    res = client(world.clerk).get(f"/api/v1/merchant/statements/{bad}")
    assert res.status_code == 404
    res = client(hz_staff).get(f"/api/v1/dashboard/statements?month={bad}")
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_request"
    assert client(world.clerk).get("/api/v1/merchant/statements/2026-01.xls").status_code == 404


def test_merchant_staff_without_a_merchant_are_refused(world):
    from accounts.models import User
    from merchants.models import MerchantStaff

    lone = merchant_staff(world.merchant)
    MerchantStaff.objects.filter(user=lone).delete()
    lone = User.objects.get(pk=lone.pk)
    res = client(lone).get("/api/v1/merchant/statements")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "permission_denied"


def test_a_file_route_answers_whatever_the_accept_header(world):
    c = client(world.clerk)
    res = c.get(f"/api/v1/merchant/statements/{month(world)}.pdf", HTTP_ACCEPT="application/pdf")
    assert res.status_code == 200 and streamed(res).startswith(b"%PDF")
    res = c.get(f"/api/v1/merchant/statements/{month(world)}.csv", HTTP_ACCEPT="text/csv")
    assert res.status_code == 200
    res = c.get("/api/v1/merchant/statements/2999-01.pdf", HTTP_ACCEPT="application/pdf")
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_a_long_statement_s_pdf_lists_the_first_rows_and_says_where_the_rest_are(world, settings):
    settings.STATEMENT_PDF_MAX_ENTRIES = 5
    res = client(world.clerk).get(f"/api/v1/merchant/statements/{month(world)}.pdf")
    text = pdf_text(streamed(res))
    assert "明细共 12 条，此处列出前 5 条" in text.replace("\n", "")
    total = next(line for line in text.splitlines() if line.strip().startswith("合计 "))
    assert total.split()[1:] == ["8", "3", "1", "250.00"]  # the totals cover every row


def test_alliance_staff_see_their_alliance_s_roll_up_and_each_member_s(world, root):
    from accounts.reference import load_reference_data
    from tests.dashboard.test_alliance_rollup import alliance_staff

    load_reference_data()  # 杭州 and 上海 are in the YRD; neither is in 京津冀晋
    close(world)
    close_month(city="310100", month=world.month, now=close_due_at(world.month))
    yrd, jjjj = alliance_staff("yrd"), alliance_staff("jjjj")
    m = month(world)

    whole = client(yrd).get(f"/api/v1/dashboard/statements?month={m}")
    hangzhou = client(yrd).get(f"/api/v1/dashboard/statements?month={m}&city=330100")
    shanghai = client(yrd).get(f"/api/v1/dashboard/statements?month={m}&city=310100")
    one = client(yrd).get(f"/api/v1/dashboard/statements?month={m}&merchant={world.other.pk}")

    assert whole.status_code == 200, whole.content
    body = whole.json()
    assert body["alliance"]["code"] == "yrd" and "city" not in body
    names = {s["merchant"]["name"] for s in body["statements"]}
    assert {"西湖游船", "灵隐茶馆", "外滩酒店"} <= names
    for figure in ("redemptions", "entitlement_uses", "conflicts"):
        assert body["totals"][figure] == (
            hangzhou.json()["totals"][figure] + shanghai.json()["totals"][figure]
        )
    assert {s["merchant"]["name"] for s in hangzhou.json()["statements"]} == {
        "西湖游船",
        "灵隐茶馆",
    }
    assert one.status_code == 200
    rows = parse_csv(streamed(client(yrd).get(f"/api/v1/dashboard/statements.csv?month={m}")))
    assert any("外滩酒店" in row for row in rows) and any("西湖游船" in row for row in rows)
    assert client(yrd).get(f"/api/v1/dashboard/statements.pdf?month={m}").status_code == 200
    # another alliance is 403, a non-member's city or merchant 404, the merchant list 403
    assert (
        client(yrd).get(f"/api/v1/dashboard/statements?month={m}&alliance=jjjj").status_code == 403
    )
    for url in (
        f"/api/v1/dashboard/statements?month={m}&city=330100",
        f"/api/v1/dashboard/statements?month={m}&merchant={world.other.pk}",
    ):
        assert client(jjjj).get(url).status_code == 404, url
    assert client(yrd).get("/api/v1/merchant/statements").status_code == 403
    # superusers pick any alliance; city staff have none
    assert (
        client(root).get(f"/api/v1/dashboard/statements?month={m}&alliance=yrd").json()["totals"]
        == body["totals"]
    )
