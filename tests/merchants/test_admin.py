"""The admin through real HTTP requests, per role: lists, add, change, bulk actions and
every refusal. Merchant A and B are in 杭州, C in 海口."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.models import Merchant, Offer, Station

from .factories import (
    MerchantFactory,
    OfferFactory,
    StationFactory,
    city_staff,
    merchant_staff,
    superuser,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/merchants/offer/"
ADD = "/admin/merchants/offer/add/"


def change_url(obj) -> str:
    return f"/admin/merchants/{obj._meta.model_name}/{obj.pk}/change/"


@pytest.fixture
def world(cities):
    a = MerchantFactory(name="商户甲", city_id="330100")
    b = MerchantFactory(name="商户乙", city_id="330100")
    c = MerchantFactory(name="商户丙", city_id="460100")
    return {
        "a": a,
        "b": b,
        "c": c,
        "offer_a": OfferFactory(merchant=a, title="甲的优惠", total_quota=100, claimed_count=10),
        "offer_b": OfferFactory(merchant=b, title="乙的优惠"),
        "offer_c": OfferFactory(merchant=c, title="丙的优惠"),
        "staff_a": merchant_staff(a),
        "staff_b": merchant_staff(b),
        "city_hz": city_staff("330100"),
        "city_hk": city_staff("460100"),
        "root": superuser(),
    }


def login(client, user):
    client.force_login(user)
    return client


def local(dt) -> tuple[str, str]:
    dt = timezone.localtime(dt)
    return dt.date().isoformat(), dt.time().replace(microsecond=0).isoformat()


def form_data(offer: Offer | None = None, merchant: Merchant | None = None, **over) -> dict:
    """The offer form as a browser posts it (the current values of `offer`, if given)."""
    now = timezone.now()
    src = offer or Offer(
        title="新优惠",
        description="守信居民专享。",
        category="scenic",
        benefit_type="percent_off",
        benefit_value=20,
        min_tier="good",
        valid_from=now,
        valid_until=now + timedelta(days=30),
        total_quota=100,
    )
    data = {
        "title": src.title,
        "title_en": src.title_en,
        "description": src.description,
        "description_en": src.description_en,
        "category": src.category,
        "benefit_type": src.benefit_type,
        "benefit_value": "" if src.benefit_value is None else str(src.benefit_value),
        "benefit_note": src.benefit_note,
        "min_tier": src.min_tier,
        "min_score": "" if src.min_score is None else str(src.min_score),
        "home_city_rule": src.home_city_rule,
        "valid_from_0": local(src.valid_from)[0],
        "valid_from_1": local(src.valid_from)[1],
        "valid_until_0": local(src.valid_until)[0],
        "valid_until_1": local(src.valid_until)[1],
        "total_quota": "" if src.total_quota is None else str(src.total_quota),
        "per_resident_limit": str(src.per_resident_limit),
        "voucher_lifetime_hours": str(src.voucher_lifetime_hours),
        "usage_notes": src.usage_notes,
        "kind": src.kind,
        "scenario": src.scenario,
        "limit_per_period": "" if src.limit_per_period is None else str(src.limit_per_period),
        "period": src.period,
        # the read-only history inline: the browser sends an empty management form
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0",
        "transitions-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    if merchant is not None:
        data["merchant"] = str(merchant.pk)
    data.update(over)
    return data


def snapshot(offer: Offer) -> tuple:
    offer.refresh_from_db()
    return (offer.title, offer.status, offer.benefit_value, offer.total_quota, offer.terms_version)


def act(client, action: str, *offers, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in offers], **extra}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- lists and visibility ------------------------------------------------------------------


def test_merchant_staff_list_shows_only_own_offers_with_remaining_quota(client, world):
    res = login(client, world["staff_a"]).get(CHANGELIST)
    assert res.status_code == 200
    body = res.content.decode()
    assert "甲的优惠" in body and "乙的优惠" not in body and "丙的优惠" not in body
    assert "90 / 100" in body and "剩余名额" in body


def test_city_staff_list_shows_offers_of_their_city_only(client, world):
    body = login(client, world["city_hz"]).get(CHANGELIST).content.decode()
    assert "甲的优惠" in body and "乙的优惠" in body and "丙的优惠" not in body


def test_superuser_sees_everything(client, world):
    body = login(client, world["root"]).get(CHANGELIST).content.decode()
    assert all(t in body for t in ["甲的优惠", "乙的优惠", "丙的优惠"])


def test_list_filters_and_search_work(client, world):
    station = StationFactory(name="西湖站")
    station.merchants.add(world["b"])
    c = login(client, world["root"])
    body = c.get(CHANGELIST, {"merchant__stations__id__exact": station.pk}).content.decode()
    assert "乙的优惠" in body and "甲的优惠" not in body
    body = c.get(CHANGELIST, {"merchant__city__code__exact": "460100"}).content.decode()
    assert "丙的优惠" in body and "甲的优惠" not in body
    body = c.get(CHANGELIST, {"q": "商户甲"}).content.decode()
    assert "甲的优惠" in body and "乙的优惠" not in body
    body = c.get(CHANGELIST, {"status__exact": "published"}).content.decode()
    assert "甲的优惠" not in body


def test_residents_have_no_admin(client, world, resident):
    resident.is_staff = True  # even if someone flips the flag by mistake
    resident.save()
    assert login(client, resident).get(CHANGELIST).status_code == 403


# --- add ----------------------------------------------------------------------------------


def test_merchant_staff_adds_a_draft_for_their_merchant(client, world):
    c = login(client, world["staff_a"])
    page = c.get(ADD)
    assert page.status_code == 200
    choices = list(page.context["adminform"].form.fields["merchant"].queryset)
    assert choices == [world["a"]]
    res = c.post(ADD, form_data(merchant=world["a"], title="新的游船优惠"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    offer = Offer.objects.get(title="新的游船优惠")
    assert (offer.merchant, offer.status, offer.created_by) == (
        world["a"],
        "draft",
        world["staff_a"],
    )
    assert offer.transitions.get().action == "create"


def test_merchant_staff_cannot_add_for_another_merchant(client, world):
    res = login(client, world["staff_a"]).post(
        ADD, form_data(merchant=world["b"], title="冒名优惠")
    )
    assert res.status_code == 200 and "merchant" in res.context["adminform"].form.errors
    assert not Offer.objects.filter(title="冒名优惠").exists()


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"benefit_value": "0"}, "benefit_value", "大于 0 且小于 100"),
        ({"benefit_value": "120"}, "benefit_value", "大于 0 且小于 100"),
        ({"benefit_type": "amount_off", "benefit_value": "-5"}, "benefit_value", "大于 0 元"),
        ({"benefit_type": "free_entry", "benefit_value": "5"}, "benefit_value", "留空"),
        ({"per_resident_limit": "0"}, "per_resident_limit", ""),
        ({"min_score": "600"}, "min_score", ""),
        ({"home_city_rule": "listed"}, "eligible_home_cities", "至少选择一个城市"),
    ],
)
def test_bad_input_gets_readable_form_errors(client, world, over, field, text):
    res = login(client, world["staff_a"]).post(ADD, form_data(merchant=world["a"], **over))
    assert res.status_code == 200
    errors = res.context["adminform"].form.errors
    assert field in errors and text in " ".join(errors[field])
    assert Offer.objects.count() == 3


def test_until_before_from_is_a_form_error(client, world):
    data = form_data(merchant=world["a"])
    data["valid_until_0"], data["valid_until_1"] = data["valid_from_0"], "00:00:00"
    data["valid_from_1"] = "12:00:00"
    res = login(client, world["staff_a"]).post(ADD, data)
    assert "结束时间必须晚于开始时间" in " ".join(
        res.context["adminform"].form.errors["valid_until"]
    )


def test_city_staff_cannot_add_offers(client, world):
    c = login(client, world["city_hz"])
    assert c.get(ADD).status_code == 403
    assert c.post(ADD, form_data(merchant=world["a"])).status_code == 403


# --- change -------------------------------------------------------------------------------


def test_merchant_staff_edits_own_draft(client, world):
    offer = world["offer_a"]
    res = login(client, world["staff_a"]).post(change_url(offer), form_data(offer, title="改过的"))
    assert res.status_code == 302
    assert snapshot(offer)[:2] == ("改过的", "draft")


def test_changing_terms_of_a_published_offer_waits_for_the_citys_review(client, world):
    offer = world["offer_a"]
    Offer.objects.filter(pk=offer.pk).update(status="published")
    offer.refresh_from_db()
    res = login(client, world["staff_a"]).post(
        change_url(offer), form_data(offer, benefit_value="30"), follow=True
    )
    assert any("已提交城市审核" in m for m in messages_of(res))
    offer.refresh_from_db()
    assert (offer.status, offer.terms_version, offer.claimed_count) == ("published", 1, 10)
    assert offer.pending_terms == {"benefit_value": "30"}
    assert offer.transitions.get().action == "revise"
    # the city finds it, sees what is proposed, and approves it with the usual action
    reviewer = login(client, world["city_hz"])
    waiting = reviewer.get(CHANGELIST, {"revision": "pending"}).content.decode()
    assert "甲的优惠" in waiting and "乙的优惠" not in waiting
    assert "30" in reviewer.get(change_url(offer)).content.decode()
    reviewer.post(CHANGELIST, {"action": "publish_selected", "_selected_action": [offer.pk]})
    offer.refresh_from_db()
    assert (offer.status, offer.terms_version, offer.pending_terms) == ("published", 2, {})


def test_quota_below_claimed_is_a_form_error(client, world):
    offer = world["offer_a"]  # 10 claimed
    res = login(client, world["staff_a"]).post(change_url(offer), form_data(offer, total_quota="5"))
    assert res.status_code == 200
    assert "不能少于已领取" in " ".join(res.context["adminform"].form.errors["total_quota"])
    assert snapshot(offer)[3] == 100


def test_forged_post_to_another_merchants_offer_changes_nothing(client, world):
    offer_b = world["offer_b"]
    before = snapshot(offer_b)
    c = login(client, world["staff_a"])
    page = c.get(change_url(offer_b))
    assert page.status_code == 404  # as if it did not exist: no form
    res = c.post(change_url(offer_b), form_data(offer_b, title="篡改", benefit_value="50"))
    assert res.status_code == 404
    assert snapshot(offer_b) == before


def test_forged_delete_and_history_of_another_merchants_offer_are_refused(client, world):
    offer_b = world["offer_b"]
    c = login(client, world["staff_a"])
    res = c.post(f"/admin/merchants/offer/{offer_b.pk}/delete/", {"post": "yes"})
    assert res.status_code == 404 and Offer.objects.filter(pk=offer_b.pk).exists()
    assert c.get(f"/admin/merchants/offer/{offer_b.pk}/history/").status_code == 404


def test_submitted_offer_is_read_only_for_its_merchant(client, world):
    offer = world["offer_a"]
    Offer.objects.filter(pk=offer.pk).update(status="submitted")
    c = login(client, world["staff_a"])
    page = c.get(change_url(offer))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert c.post(change_url(offer), form_data(offer, title="x")).status_code == 403
    assert snapshot(offer)[0] == "甲的优惠"


def test_city_staff_view_but_do_not_edit_offers(client, world):
    offer = world["offer_a"]
    c = login(client, world["city_hz"])
    page = c.get(change_url(offer))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert c.post(change_url(offer), form_data(offer, title="x")).status_code == 403
    assert c.get(change_url(world["offer_c"])).status_code == 404


def test_rejection_reason_and_history_are_shown_to_the_merchant(client, world):
    from merchants import services

    offer = services.submit_offer(actor=world["staff_a"], offer=world["offer_a"])
    services.reject_offer(actor=world["city_hz"], offer=offer, reason="请补充使用时段")
    body = login(client, world["staff_a"]).get(change_url(offer)).content.decode()
    assert "请补充使用时段" in body and "审核记录" in body


# --- bulk actions --------------------------------------------------------------------------


def test_bulk_submit_by_merchant_staff_skips_other_merchants_offers(client, world):
    second = OfferFactory(merchant=world["a"], title="甲的第二个")
    res = act(
        login(client, world["staff_a"]),
        "submit_selected",
        world["offer_a"],
        second,
        world["offer_b"],
    )
    assert "已提交审核 2 个优惠。" in messages_of(res)
    assert snapshot(world["offer_a"])[1] == snapshot(second)[1] == "submitted"
    assert snapshot(world["offer_b"])[1] == "draft"


def test_bulk_publish_by_city_staff(client, world):
    Offer.objects.filter(pk__in=[world["offer_a"].pk, world["offer_b"].pk]).update(
        status="submitted"
    )
    res = act(
        login(client, world["city_hz"]), "publish_selected", world["offer_a"], world["offer_b"]
    )
    assert "已发布 2 个优惠。" in messages_of(res)
    assert snapshot(world["offer_a"])[1] == "published"
    assert world["offer_a"].transitions.get().actor == world["city_hz"]


def test_city_staff_of_another_city_cannot_publish(client, world):
    Offer.objects.filter(pk=world["offer_a"].pk).update(status="submitted")
    act(login(client, world["city_hk"]), "publish_selected", world["offer_a"])
    assert snapshot(world["offer_a"])[1] == "submitted"
    assert not world["offer_a"].transitions.exists()


def test_merchant_staff_cannot_publish_even_by_forged_action(client, world):
    Offer.objects.filter(pk=world["offer_a"].pk).update(status="submitted")
    c = login(client, world["staff_a"])
    assert (
        "publish_selected"
        not in c.get(CHANGELIST).context["action_form"].fields["action"].choices.__repr__()
    )
    act(c, "publish_selected", world["offer_a"])
    assert snapshot(world["offer_a"])[1] == "submitted"


def test_invalid_bulk_transition_is_reported_not_applied(client, world):
    res = act(login(client, world["city_hz"]), "publish_selected", world["offer_a"])
    assert any("当前状态下不能" in m for m in messages_of(res))
    assert snapshot(world["offer_a"])[1] == "draft"


def test_bulk_reject_asks_for_a_reason(client, world):
    Offer.objects.filter(pk=world["offer_a"].pk).update(status="submitted")
    c = login(client, world["city_hz"])
    page = act(c, "reject_selected", world["offer_a"])
    assert page.status_code == 200 and "驳回原因" in page.content.decode()
    assert snapshot(world["offer_a"])[1] == "submitted"
    empty = act(c, "reject_selected", world["offer_a"], apply="1", reason="")
    assert "reason" in empty.context["form"].errors
    res = act(c, "reject_selected", world["offer_a"], apply="1", reason="折扣范围不清楚")
    assert "已驳回 1 个优惠。" in messages_of(res)
    world["offer_a"].refresh_from_db()
    assert (world["offer_a"].status, world["offer_a"].rejection_reason) == (
        "rejected",
        "折扣范围不清楚",
    )


def test_bulk_pause_resume_and_end(client, world):
    Offer.objects.filter(pk=world["offer_a"].pk).update(status="published")
    act(login(client, world["staff_a"]), "pause_selected", world["offer_a"])
    assert snapshot(world["offer_a"])[1] == "paused"
    act(client, "resume_selected", world["offer_a"])
    assert snapshot(world["offer_a"])[1] == "published"
    act(client, "end_selected", world["offer_a"])  # merchant staff may not end
    assert snapshot(world["offer_a"])[1] == "published"
    act(login(client, world["city_hz"]), "end_selected", world["offer_a"])
    assert snapshot(world["offer_a"])[1] == "ended"


# --- merchants and stations ---------------------------------------------------------------


def test_merchant_staff_sees_and_edits_only_own_merchant(client, world):
    c = login(client, world["staff_a"])
    body = c.get("/admin/merchants/merchant/").content.decode()
    assert "商户甲" in body and "商户乙" not in body
    page = c.get(change_url(world["a"]))
    assert page.status_code == 200
    assert "credit_code" not in page.context["adminform"].form.fields  # read-only for them
    assert c.get(change_url(world["b"])).status_code == 404
    res = c.post(
        change_url(world["b"]),
        {
            "name": "篡改",
            "district": "x",
            "address": "x",
            "category": "hotel",
            "contact_phone": "13912345678",
        },
    )
    assert res.status_code == 404
    world["b"].refresh_from_db()
    assert world["b"].name == "商户乙"
    assert c.get("/admin/merchants/merchant/add/").status_code == 403
    assert c.get("/admin/merchants/station/").status_code == 403


def merchant_form(**over) -> dict:
    data = {
        "name": "新商户",
        "credit_code": "91350100M000100Y43",
        "city": "330100",
        "district": "上城区",
        "address": "解放路 1 号",
        "category": "dining",
        "contact_phone": "0571-87654321",
        "latitude": "",
        "longitude": "",
        "status": "active",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1000",
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4", "18 位"),
        ("91350100M0001O0Y43", "不含 I、O、Z、S、V"),
    ],
)
def test_city_staff_adding_a_merchant_with_a_bad_code_sees_why(client, world, code, text):
    res = login(client, world["city_hz"]).post(
        "/admin/merchants/merchant/add/", merchant_form(credit_code=code)
    )
    assert res.status_code == 200
    assert text in " ".join(res.context["adminform"].form.errors["credit_code"])


def test_city_staff_add_merchants_only_in_their_city(client, world):
    c = login(client, world["city_hz"])
    res = c.post("/admin/merchants/merchant/add/", merchant_form(city="460100"))
    assert res.status_code == 200 and "city" in res.context["adminform"].form.errors
    res = c.post("/admin/merchants/merchant/add/", merchant_form())
    assert res.status_code == 302
    assert Merchant.objects.get(credit_code="91350100M000100Y43").city_id == "330100"


def test_city_staff_station_may_hold_only_merchants_of_their_city(client, world):
    c = login(client, world["city_hz"])
    data = {
        "name": "西湖站",
        "city": "330100",
        "description": "",
        "merchants": [world["a"].pk, world["c"].pk],
    }
    res = c.post("/admin/merchants/station/add/", data)
    assert res.status_code == 200 and "merchants" in res.context["adminform"].form.errors
    data["merchants"] = [world["a"].pk, world["b"].pk]
    assert c.post("/admin/merchants/station/add/", data).status_code == 302
    assert set(Station.objects.get(name="西湖站").merchants.all()) == {world["a"], world["b"]}
    other = StationFactory(city_id="460100", name="骑楼站")
    assert c.get(change_url(other)).status_code == 404


def test_admin_index_lists_what_each_role_may_use(client, world):
    body = login(client, world["staff_a"]).get("/admin/").content.decode()
    assert "/admin/merchants/offer/" in body and "/admin/merchants/station/" not in body
    assert "/admin/accounts/user/" not in body


# --- workflow buttons on an offer's own page -----------------------------------------------


def test_city_staff_publish_from_the_offer_page(client, world):
    offer = world["offer_a"]
    Offer.objects.filter(pk=offer.pk).update(status="submitted")
    c = login(client, world["city_hz"])
    page = c.get(change_url(offer))
    assert "publish_selected" in str(page.context["action_form"].fields["action"].choices)
    data = {"CHANGE_FORM-action": "publish_selected", "_selected_action": [offer.pk]}
    res = c.post(change_url(offer), data)
    assert res.status_code == 302
    assert snapshot(offer)[1] == "published"


def test_city_staff_reject_from_the_offer_page_with_a_reason(client, world):
    offer = world["offer_a"]
    Offer.objects.filter(pk=offer.pk).update(status="submitted")
    c = login(client, world["city_hz"])
    data = {"CHANGE_FORM-action": "reject_selected", "_selected_action": [offer.pk]}
    page = c.post(change_url(offer), data)
    assert page.status_code == 200 and 'name="CHANGE_FORM-action"' in page.content.decode()
    res = c.post(change_url(offer), {**data, "apply": "1", "reason": "请写明适用门店"})
    assert res.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.rejection_reason) == ("rejected", "请写明适用门店")


def test_other_city_staff_cannot_use_the_offer_page_of_another_city(client, world):
    offer = world["offer_a"]
    Offer.objects.filter(pk=offer.pk).update(status="submitted")
    data = {"CHANGE_FORM-action": "publish_selected", "_selected_action": [offer.pk]}
    res = login(client, world["city_hk"]).post(change_url(offer), data)
    assert res.status_code == 404
    assert snapshot(offer)[1] == "submitted"


def test_merchant_staff_delete_only_own_drafts(client, world):
    c = login(client, world["staff_a"])
    draft = world["offer_a"]
    published = OfferFactory(merchant=world["a"], status="published")
    assert (
        c.post(f"/admin/merchants/offer/{published.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert c.post(f"/admin/merchants/offer/{draft.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Offer.objects.filter(pk=draft.pk).exists()
    assert Offer.objects.filter(pk=published.pk).exists()


def test_a_refusal_found_under_the_lock_is_shown_and_nothing_is_saved(client, world, monkeypatch):
    from core.errors import DomainError
    from merchants import services

    def refuse(**kwargs):
        raise DomainError("invalid_request", "优惠内容有误。", detail={"total_quota": ["太少"]})

    monkeypatch.setattr(services, "revise_offer", refuse)
    offer = world["offer_a"]
    res = login(client, world["staff_a"]).post(
        change_url(offer), form_data(offer, title="不会保存"), follow=True
    )
    assert res.redirect_chain[-1][0] == change_url(offer)
    assert any("total_quota: 太少" in m for m in messages_of(res))
    assert snapshot(offer)[0] == "甲的优惠"
