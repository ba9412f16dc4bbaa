"""The gate: a merchant graded D or on the seriously-dishonest entities list gets no offer
submitted, published or resumed, in the services and in admin; city staff resume the
offers the credit sync paused with one admin action once the merchant is back in good
standing; a merchant added in admin is graded by the enterprise credit provider."""

import pytest

from core.errors import DomainError
from merchants import services
from merchants.credit.services import pause_offers_of_bad_merchants
from merchants.models import Merchant, MerchantCreditCheck, Offer

from .factories import MerchantFactory, OfferFactory, city_staff, merchant_staff, superuser
from .test_admin import act, login, merchant_form, messages_of

pytestmark = pytest.mark.django_db

MERCHANTS = "/admin/merchants/merchant/"


@pytest.fixture
def shop(cities):
    merchant = MerchantFactory(name="信用商户", city_id="330100")
    return {
        "merchant": merchant,
        "staff": merchant_staff(merchant),
        "city": city_staff("330100"),
        "root": superuser(),
    }


def grade(merchant: Merchant, credit_grade: str, listed: bool = False) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(
        credit_grade=credit_grade, seriously_dishonest=listed
    )
    merchant.refresh_from_db()


def refused_code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(("credit_grade", "listed"), [("D", False), ("A", True), ("", True)])
def test_no_submit_publish_or_resume_for_a_merchant_not_in_good_standing(
    shop, credit_grade, listed
):
    m = shop["merchant"]
    draft = OfferFactory(merchant=m, status="draft")
    submitted = OfferFactory(merchant=m, status="submitted")
    paused = OfferFactory(merchant=m, status="paused")
    grade(m, credit_grade, listed)
    for call in (
        lambda: services.submit_offer(actor=shop["staff"], offer=draft),
        lambda: services.publish_offer(actor=shop["city"], offer=submitted),
        lambda: services.resume_offer(actor=shop["city"], offer=paused),
    ):
        assert refused_code(call) == "merchant_not_in_good_standing"
    statuses = set(Offer.objects.filter(merchant=m).values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "paused"}
    # drafting and withdrawing stay possible: only promotion is refused
    services.withdraw_offer(actor=shop["staff"], offer=submitted)


@pytest.mark.parametrize("credit_grade", ["", "A", "B", "C"])
def test_merchants_in_good_standing_pass_the_gate(shop, credit_grade):
    grade(shop["merchant"], credit_grade)
    offer = OfferFactory(merchant=shop["merchant"], status="draft")
    services.submit_offer(actor=shop["staff"], offer=offer)
    assert services.publish_offer(actor=shop["city"], offer=offer).status == "published"


def test_admin_publish_of_a_d_merchants_offer_shows_why_and_changes_nothing(client, shop):
    offer = OfferFactory(merchant=shop["merchant"], status="submitted")
    grade(shop["merchant"], "D")
    res = act(login(client, shop["city"]), "publish_selected", offer)
    assert any("企业信用不良" in m for m in messages_of(res))
    offer.refresh_from_db()
    assert offer.status == "submitted"


def test_admin_submit_by_merchant_staff_is_refused_too(client, shop):
    offer = OfferFactory(merchant=shop["merchant"], status="draft")
    grade(shop["merchant"], "B", listed=True)
    res = act(login(client, shop["staff"]), "submit_selected", offer)
    assert any("企业信用不良" in m for m in messages_of(res))
    assert Offer.objects.get(pk=offer.pk).status == "draft"


def test_city_staff_see_why_and_resume_credit_paused_offers_with_one_action(client, shop):
    m = shop["merchant"]
    live = [OfferFactory(merchant=m, status="published") for _ in range(2)]
    own_pause = OfferFactory(merchant=m, status="paused")  # paused by the merchant itself
    grade(m, "D")
    assert pause_offers_of_bad_merchants() == 2
    c = login(client, shop["city"])

    page = c.get(f"/admin/merchants/offer/{live[0].pk}/change/").content.decode()
    assert "企业信用等级 D" in page and "信用同步自动暂停" in page
    assert "D 级，优惠已暂停" in c.get(MERCHANTS).content.decode()

    res = c.post(
        MERCHANTS,
        {"action": "resume_credit_paused_selected", "_selected_action": [m.pk]},
        follow=True,
    )
    assert any("企业信用不良" in msg for msg in messages_of(res))  # still graded D
    assert set(
        Offer.objects.filter(pk__in=[o.pk for o in live]).values_list("status", flat=True)
    ) == {"paused"}

    grade(m, "B")  # back in good standing (a later sync)
    res = c.post(
        MERCHANTS,
        {"action": "resume_credit_paused_selected", "_selected_action": [m.pk]},
        follow=True,
    )
    assert "已恢复发布 2 个优惠。" in messages_of(res)
    rows = dict(Offer.objects.filter(merchant=m).values_list("pk", "status"))
    assert [rows[o.pk] for o in live] == ["published", "published"]
    assert rows[own_pause.pk] == "paused"  # not the credit sync's to resume
    assert not Offer.objects.filter(merchant=m, credit_paused_at__isnull=False).exists()
    assert live[0].transitions.filter(action="resume").get().actor == shop["city"]


def test_merchant_staff_cannot_resume_an_offer_the_credit_sync_paused(shop):
    offer = OfferFactory(merchant=shop["merchant"], status="published")
    grade(shop["merchant"], "D")
    pause_offers_of_bad_merchants()
    grade(shop["merchant"], "A")
    offer.refresh_from_db()
    code = refused_code(lambda: services.resume_offer(actor=shop["staff"], offer=offer))
    assert code == "paused_by_city"


def test_merchant_staff_have_no_resume_credit_action(client, shop):
    res = login(client, shop["staff"]).get(MERCHANTS)
    assert res.status_code == 200
    assert "resume_credit_paused_selected" not in res.content.decode()


def test_a_merchant_added_in_admin_is_graded_by_the_enterprise_provider(
    client, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        res = login(client, shop["city"]).post(
            "/admin/merchants/merchant/add/", merchant_form(credit_code="91320500MA00001544")
        )
    assert res.status_code == 302
    added = Merchant.objects.get(credit_code="91320500MA00001544")  # graded D in the sandbox
    assert (added.credit_grade, added.in_good_standing) == ("D", False)
    assert MerchantCreditCheck.objects.get(merchant=added).outcome == "ok"
    assert "credit_grade" not in res.wsgi_request.POST  # never typed in


def test_credit_fields_cannot_be_typed_in_by_anyone(client, shop):
    c = login(client, shop["root"])
    data = merchant_form(credit_code=shop["merchant"].credit_code, credit_grade="A")
    data.update({"seriously_dishonest": "on", "name": "改名"})
    res = c.post(f"/admin/merchants/merchant/{shop['merchant'].pk}/change/", data)
    assert res.status_code == 302
    shop["merchant"].refresh_from_db()
    assert shop["merchant"].name == "改名"
    assert (shop["merchant"].credit_grade, shop["merchant"].seriously_dishonest) == ("", False)


def test_resume_leaves_credit_paused_offers_whose_window_is_over(shop):
    from datetime import timedelta

    from django.utils import timezone

    m = shop["merchant"]
    now = timezone.now()
    live = OfferFactory(merchant=m, status="published")
    over = OfferFactory(
        merchant=m,
        status="published",
        valid_from=now - timedelta(days=10),
        valid_until=now + timedelta(seconds=2),
    )
    grade(m, "D")
    assert pause_offers_of_bad_merchants() == 2
    Offer.objects.filter(pk=over.pk).update(valid_until=now - timedelta(days=1))
    grade(m, "A")
    resumed = services.resume_credit_paused_offers(actor=shop["city"], merchant=m)
    assert [o.pk for o in resumed] == [live.pk]
    assert Offer.objects.get(pk=over.pk).status == "paused"
