"""The admin's home page: a merchant's figures (redemptions and entitlement uses today and
this month, offers by state, offline conflicts) and a city's queue, each number the count
of the rows it stands for, and one merchant never sees another's; the header greets the
person and their merchant or city, never a phone number."""

import datetime as dt
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.reference import load_reference_data
from incentives.incidents.models import Incident
from incentives.passes.models import EntitlementUse
from incentives.vouchers import services as vouchers
from incentives.vouchers.models import OfflineRedemption, Redemption, Voucher
from merchants import services
from merchants.admin.home import day_and_month_start
from merchants.models import MerchantCreditCheck, Offer
from tests.incentives.conftest import make_resident

from .factories import MerchantFactory, OfferFactory, StationFactory, city_staff, merchant_staff

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
LONG_TITLE = (
    "西湖画舫夜游守信居民专享八折优惠（含游船讲解、茶点与湖心亭登岛，节假日除外，须提前一天预约）"
)

LONG_MERCHANT = "西湖画舫游船（测试）有限公司杭州西湖风景名胜区分公司"


def _published(merchant, **fields):
    now = timezone.now()
    fields.setdefault("status", Offer.Status.PUBLISHED)
    fields.setdefault("published_at", now)
    fields.setdefault("valid_from", now - timedelta(days=40))
    return OfferFactory(merchant=merchant, **fields)


def _redeem(offer: Offer, resident, clerk, at=None) -> Voucher:
    voucher = vouchers.claim_offer(resident_id=resident.pk, offer_id=offer.pk)
    vouchers.redeem_voucher_id(staff_id=clerk.pk, voucher_id=voucher.pk)
    if at is not None:
        Redemption.objects.filter(voucher=voucher).update(redeemed_at=at)
    return voucher


def _use(offer: Offer, resident, clerk, at, pass_id: int) -> EntitlementUse:
    return EntitlementUse.objects.create(
        offer=offer,
        resident=resident,
        merchant=offer.merchant,
        staff=clerk,
        pass_id=pass_id,
        period_start=at.date(),
        used_at=at,
        scenario=offer.scenario or "travel",
        category=offer.category,
        dest_city_id=offer.merchant.city_id,
        home_city_id=resident.home_city_id,
    )


def back_office():
    """Two Hangzhou merchants and a Haikou one, with offers in every state, redemptions
    and entitlement uses today, earlier this month and last month, an offline conflict,
    incidents waiting; the people who work on them."""
    load_reference_data()
    now = timezone.now()
    day, month = day_and_month_start(now)
    a = MerchantFactory(name=LONG_MERCHANT, city_id="330100")
    b = MerchantFactory(name="河坊街茶馆", city_id="330100")
    c = MerchantFactory(name="海口骑楼老街", city_id="460100")
    clerk_a = merchant_staff(a, phone="13600000011")
    clerk_a.real_name = "李店长"
    clerk_a.save()
    clerk_b = merchant_staff(b, phone="13600000012")
    clerk_c = merchant_staff(c, phone="13600000013")
    reviewer = city_staff("330100")
    reviewer.real_name = "王审核"
    reviewer.save()
    hk_reviewer = city_staff("460100")
    station = StationFactory(city_id="330100", name="西湖站")
    station.merchants.add(a, b)
    MerchantCreditCheck.objects.create(
        source="sync",
        outcome="rejected",
        merchant=a,
        credit_code=a.credit_code + "XYZ",
        error="统一社会信用代码校验位不符，企业信用服务返回的数据不合规，已拒收并记录。",
    )

    live_a = _published(a, title=LONG_TITLE, total_quota=100, per_resident_limit=5)
    live_b = _published(b, title="茶馆守信九折", total_quota=100, per_resident_limit=5)
    live_c = _published(c, title="骑楼守信八折", total_quota=100, per_resident_limit=5)
    pass_a = _published(
        a,
        title="免押金租船",
        kind="entitlement",
        scenario="travel",
        benefit_type="deposit_waiver",
        benefit_value=None,
        total_quota=None,
        limit_per_period=2,
        period="day",
    )
    OfferFactory(merchant=a, title="草稿：冬季游船", status="draft")
    OfferFactory(merchant=a, title="草稿：元旦夜游", status="draft")
    submitted = OfferFactory(merchant=a, title="待审：春季茶点", status="submitted")
    OfferFactory(
        merchant=a, title="被驳回：儿童半价", status="rejected", rejection_reason="请写明适用年龄。"
    )
    OfferFactory(
        merchant=a,
        title="信用暂停：游船九折",
        status="paused",
        credit_paused_at=now,
        published_at=now,
    )
    OfferFactory(merchant=a, title="商户暂停：周末特惠", status="paused", published_at=now)
    OfferFactory(merchant=b, title="乙的草稿", status="draft")
    OfferFactory(merchant=b, title="乙的待审", status="submitted")
    OfferFactory(merchant=c, title="海口待审", status="submitted")

    hz = make_resident("330100", phone="13700000101")
    hz2 = make_resident("330100", phone="13700000102")
    # merchant A: 2 redemptions today, 1 earlier this month (if the month began before
    # today), 1 last month; merchant B: 1 today
    v_today = _redeem(live_a, hz, clerk_a)
    _redeem(live_a, hz2, clerk_a)
    if month < day:
        _redeem(live_a, hz, clerk_a, at=month + timedelta(hours=1))
    _redeem(live_a, hz, clerk_a, at=month - timedelta(days=2))
    _redeem(live_b, hz, clerk_b)
    _redeem(live_c, make_resident("460100", phone="13700000103"), clerk_c)
    # entitlement uses of A: 1 today, 1 last month
    _use(pass_a, hz, clerk_a, now, pass_id=-1)
    _use(pass_a, hz2, clerk_a, month - timedelta(hours=3), pass_id=-2)

    OfflineRedemption.objects.create(
        merchant=a,
        city_id="330100",
        staff=clerk_a,
        nonce="n-1",
        device_id="柜台平板",
        fingerprint="f" * 64,
        voucher=v_today,
        scanned_at=now - timedelta(minutes=5),
        outcome="already_redeemed",
        redeemed_at=now,
        conflict=True,
    )
    OfflineRedemption.objects.create(
        merchant=a,
        city_id="330100",
        staff=clerk_a,
        nonce="n-2",
        device_id="柜台平板",
        fingerprint="e" * 64,
        voucher=None,
        scanned_at=now - timedelta(minutes=4),
        outcome="not_found",
    )
    incident = Incident.objects.create(
        merchant=a,
        dest_city_id="330100",
        resident=hz,
        offer=live_a,
        scenario="travel",
        voucher=v_today,
        kind="no_show",
        status="reported",
        reported_by=clerk_a,
        reported_at=timezone.make_aware(dt.datetime(2026, 3, 1, 8, 5), dt.UTC),
    )
    return {
        "a": a,
        "b": b,
        "c": c,
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "reviewer": reviewer,
        "hk_reviewer": hk_reviewer,
        "live_a": live_a,
        "pass_a": pass_a,
        "submitted": submitted,
        "incident": incident,
    }


@pytest.fixture
def office(cities):
    return back_office()


def figures(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def test_a_merchants_figures_are_the_counts_of_its_own_rows(client, office):
    a = office["a"]
    day, month = day_and_month_start()
    client.force_login(office["clerk_a"])
    page = client.get("/admin/", **ZH).content.decode()
    mine = Offer.objects.filter(merchant=a)
    redemptions = Redemption.objects.filter(merchant=a)
    uses = EntitlementUse.objects.filter(merchant=a)
    assert figures(page) == {
        "redemptions_today": redemptions.filter(redeemed_at__gte=day).count(),
        "redemptions_month": redemptions.filter(redeemed_at__gte=month).count(),
        "uses_today": uses.filter(used_at__gte=day).count(),
        "uses_month": uses.filter(used_at__gte=month).count(),
        "drafts": mine.filter(status="draft").count(),
        "submitted": mine.filter(status="submitted").count(),
        "rejected": mine.filter(status="rejected").count(),
        "published": mine.filter(status="published").count(),
        "credit_paused": mine.filter(status="paused", credit_paused_at__isnull=False).count(),
        "paused": mine.filter(status="paused", credit_paused_at__isnull=True).count(),
        "offline_conflicts": OfflineRedemption.objects.filter(merchant=a, conflict=True).count(),
    }
    # ... and the numbers are what the fixture made, not zeros that agree by accident
    assert figures(page)["redemptions_today"] == 2
    assert figures(page)["drafts"] == 2 and figures(page)["credit_paused"] == 1
    assert figures(page)["offline_conflicts"] == 1 and figures(page)["uses_today"] == 1
    assert "请写明适用年龄。" in page  # the rejection's reason, on the home page
    assert 'href="/scan/"' in page and 'href="/admin/merchants/offer/add/"' in page


def test_one_merchant_never_sees_anothers_figures(client, office):
    client.force_login(office["clerk_b"])
    page = client.get("/admin/", **ZH).content.decode()
    b = figures(page)
    assert (b["redemptions_today"], b["drafts"], b["submitted"], b["published"]) == (1, 1, 1, 1)
    assert (b["uses_month"], b["offline_conflicts"], b["rejected"]) == (0, 0, 0)
    assert "请写明适用年龄。" not in page and office["a"].name not in page
    assert "待审核的失信事件" not in page  # the city's queue is not the merchant's


def test_city_staff_see_their_citys_queue_with_links(client, office):
    client.force_login(office["reviewer"])
    page = client.get("/admin/", **ZH).content.decode()
    hz = Offer.objects.filter(merchant__city_id="330100")
    assert figures(page) == {
        "submitted": hz.filter(status="submitted").count(),
        "revisions": 0,
        "incidents_reported": Incident.objects.filter(
            dest_city_id="330100", status="reported"
        ).count(),
        "incidents_objected": 0,
    }
    assert figures(page)["submitted"] == 2 and figures(page)["incidents_reported"] == 1
    assert 'href="/admin/merchants/offer/?status__exact=submitted"' in page
    assert 'href="/admin/incentives/incident/?status__exact=reported"' in page
    assert 'href="/dashboard/"' in page
    assert "优惠券核销" not in page  # no merchant figures for city staff
    # a change of terms of a live offer waits for review and is counted
    services.revise_offer(
        actor=office["clerk_a"], offer=office["live_a"], changes={"usage_notes": "请出示身份证。"}
    )
    assert figures(client.get("/admin/", **ZH).content.decode())["revisions"] == 1
    # Haikou's reviewer sees Haikou's queue only
    client.force_login(office["hk_reviewer"])
    hk = figures(client.get("/admin/", **ZH).content.decode())
    assert (hk["submitted"], hk["incidents_reported"], hk["revisions"]) == (1, 0, 0)


def result_list(page: str) -> str:
    table = re.search(r'<table id="result_list">.*?</table>', page, re.S)
    assert table is not None
    return table.group(0)


def test_the_home_links_lead_to_lists_that_show_those_rows(client, office):
    client.force_login(office["clerk_a"])
    credit = result_list(client.get("/admin/merchants/offer/?credit=paused", **ZH).content.decode())
    assert "信用暂停：游船九折" in credit and "商户暂停：周末特惠" not in credit
    conflicts = result_list(
        client.get("/admin/incentives/offlineredemption/?conflict__exact=1", **ZH).content.decode()
    )
    assert "已被核销（冲突）" in conflicts and "券不存在" not in conflicts


def test_the_greeting_names_the_person_and_the_merchant_not_the_phone(client, office):
    client.force_login(office["clerk_a"])
    page = client.get("/admin/", **ZH).content.decode()
    greeting = re.search(r'<div id="user-tools">(.*?)</strong>', page, re.S).group(1)
    assert "李店长" in greeting and office["a"].name in greeting
    assert "13600000011" not in greeting
    client.force_login(office["reviewer"])
    greeting = re.search(
        r'<div id="user-tools">(.*?)</strong>', client.get("/admin/", **ZH).content.decode(), re.S
    ).group(1)
    assert "王审核" in greeting and "杭州" in greeting


def test_the_home_figures_take_a_fixed_number_of_queries(office, django_assert_num_queries):
    from accounts.models import User
    from merchants.admin.home import city_home, merchant_home

    clerk = User.objects.select_related("merchant_membership").get(pk=office["clerk_a"].pk)
    # the merchant, redemptions, uses, offers by state, rejections, offline conflicts
    with django_assert_num_queries(6):
        assert merchant_home(user=clerk) is not None
    with django_assert_num_queries(2):  # offers waiting, incidents waiting
        assert city_home(user=office["reviewer"]) is not None
    assert city_home(user=clerk) is None and merchant_home(user=office["reviewer"]) is None
