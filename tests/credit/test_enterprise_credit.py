"""Enterprise credit of merchants: the query when a merchant is added, the daily sync
against a real local enterprise credit server, and what a downgrade does to offers."""

import pytest

from accounts.credit.providers import ProviderUnavailable
from merchants.credit import services
from merchants.credit.providers import EnterpriseSandbox
from merchants.models import Merchant, MerchantCreditCheck, Offer, OfferTransition
from tests.incentives.conftest import client_for, make_resident, publish, world  # noqa: F401
from tests.merchants.factories import MerchantFactory, credit_code, merchant_staff

GOOD = {"grade": "A", "seriously_dishonest": False}


@pytest.fixture
def http_enterprise(settings, partner_server):
    settings.ENTERPRISE_CREDIT_PROVIDER = {
        "kind": "http",
        "base_url": partner_server.base_url,
        "app_key": partner_server.app_key,
        "app_secret": partner_server.app_secret,
        "retries": 0,
        "timeout": 2,
    }
    return partner_server


def test_sandbox_grades_the_demo_merchants_mostly_a_and_b_one_c_one_d():
    grades = [item.grade for item in EnterpriseSandbox().iter_grades()]
    assert grades.count("C") == 1 and grades.count("D") == 1
    assert grades.count("A") + grades.count("B") == len(grades) - 2
    assert grades.count("A") >= grades.count("B") > 0


def test_a_merchant_is_graded_when_it_is_checked(world, http_enterprise):  # noqa: F811
    merchant = MerchantFactory()
    http_enterprise.enterprises[merchant.credit_code] = {"grade": "B", "seriously_dishonest": False}
    assert services.check_merchant_credit(merchant_id=merchant.pk) == "ok"
    merchant.refresh_from_db()
    assert (merchant.credit_grade, merchant.seriously_dishonest) == ("B", False)
    assert merchant.credit_checked_at is not None
    assert merchant.in_good_standing and not merchant.trustworthy
    check = MerchantCreditCheck.objects.get(merchant=merchant)
    assert (check.source, check.outcome, check.grade) == ("query", "ok", "B")


@pytest.mark.parametrize(
    "answer,reason",
    [
        ({"grade": "E", "seriously_dishonest": False}, "bad_grade"),
        ({"grade": "a", "seriously_dishonest": False}, "bad_grade"),
        ({"grade": "A", "seriously_dishonest": "no"}, "bad_flag"),
        ({"grade": None, "seriously_dishonest": False}, "bad_grade"),
    ],
)
def test_a_malformed_answer_is_rejected_audited_and_not_stored(
    world,  # noqa: F811
    http_enterprise,
    answer,
    reason,
):
    merchant = MerchantFactory()
    http_enterprise.enterprises[merchant.credit_code] = answer
    assert services.check_merchant_credit(merchant_id=merchant.pk) == "rejected"
    merchant.refresh_from_db()
    assert (merchant.credit_grade, merchant.credit_checked_at) == ("", None)
    check = MerchantCreditCheck.objects.get(merchant=merchant)
    assert check.outcome == "rejected" and reason in check.error


def test_an_unknown_enterprise_stays_ungraded(world, http_enterprise):  # noqa: F811
    merchant = MerchantFactory()
    assert services.check_merchant_credit(merchant_id=merchant.pk) == "not_found"
    merchant.refresh_from_db()
    assert merchant.credit_grade == "" and merchant.in_good_standing


def test_sync_stores_grades_and_skips_and_audits_malformed_items(world, http_enterprise):  # noqa: F811
    good, listed, untouched = MerchantFactory(), MerchantFactory(), MerchantFactory()
    bad_check = credit_code(999)[:-1] + ("0" if credit_code(999)[-1] != "0" else "1")
    http_enterprise.enterprises.update(
        {
            good.credit_code: GOOD,
            listed.credit_code: {"grade": "B", "seriously_dishonest": True},
            bad_check: GOOD,  # fails the GB 32100 check character
            credit_code(998): {"grade": "E", "seriously_dishonest": False},
            credit_code(997): {"grade": "A", "seriously_dishonest": 1},
            untouched.credit_code.lower(): {"grade": "D", "seriously_dishonest": False},
        }
    )
    report = services.sync_enterprise_credit()
    assert (report.entries, report.rejected, report.merchants_updated) == (6, 4, 2)
    rows = {m.pk: m for m in Merchant.objects.all()}
    assert (rows[good.pk].credit_grade, rows[good.pk].trustworthy) == ("A", True)
    assert rows[listed.pk].seriously_dishonest and not rows[listed.pk].in_good_standing
    assert rows[untouched.pk].credit_grade == "" and rows[untouched.pk].credit_checked_at is None
    rejected = MerchantCreditCheck.objects.filter(source="sync", outcome="rejected")
    assert sorted(rejected.values_list("error", flat=True)) == [
        "bad_credit_code",
        "bad_credit_code",
        "bad_flag",
        "bad_grade",
    ]
    summary = MerchantCreditCheck.objects.get(source="sync", outcome="ok")
    assert summary.detail["rejected"] == 4


@pytest.mark.parametrize("mode", ["truncated_list", "tampered_list", "bad_signature"])
def test_a_list_that_does_not_authenticate_changes_nothing(world, http_enterprise, mode):  # noqa: F811
    merchant = MerchantFactory()
    offer = publish(merchant=merchant)
    http_enterprise.enterprises[merchant.credit_code] = {"grade": "D", "seriously_dishonest": False}
    http_enterprise.set_mode(mode)
    with pytest.raises(ProviderUnavailable):
        services.sync_enterprise_credit()
    merchant.refresh_from_db()
    offer.refresh_from_db()
    assert merchant.credit_grade == "" and offer.status == Offer.Status.PUBLISHED
    assert MerchantCreditCheck.objects.filter(source="sync", outcome="unavailable").count() == 1


@pytest.mark.parametrize(
    "downgrade",
    [{"grade": "D", "seriously_dishonest": False}, {"grade": "A", "seriously_dishonest": True}],
)
def test_a_sync_that_downgrades_a_merchant_pauses_its_offers_and_vouchers_stay_redeemable(
    world,  # noqa: F811
    http_enterprise,
    downgrade,
):
    merchant = MerchantFactory()
    other = MerchantFactory()
    clerk = merchant_staff(merchant)
    offer = publish(merchant=merchant, min_tier="good", total_quota=5)
    second = publish(merchant=merchant, min_tier="good")
    draft = publish(merchant=merchant, status=Offer.Status.DRAFT)
    elsewhere = publish(merchant=other, min_tier="good")
    resident, neighbour = make_resident(score=720), make_resident(score=720)
    claimed = client_for(resident).post(f"/api/v1/offers/{offer.pk}/claim")
    assert claimed.status_code == 201, claimed.content
    code = claimed.json()["code"]

    http_enterprise.enterprises.update({merchant.credit_code: downgrade, other.credit_code: GOOD})
    report = services.sync_enterprise_credit()

    assert report.offers_paused == 2
    statuses = dict(Offer.objects.values_list("pk", "status"))
    assert statuses[offer.pk] == statuses[second.pk] == Offer.Status.PAUSED
    assert statuses[draft.pk] == Offer.Status.DRAFT
    assert statuses[elsewhere.pk] == Offer.Status.PUBLISHED
    pause = OfferTransition.objects.get(offer=offer, action="pause")
    assert pause.actor is None and "信用同步自动暂停" in pause.reason
    assert Offer.objects.get(pk=offer.pk).credit_paused_at is not None

    refused = client_for(neighbour).post(f"/api/v1/offers/{offer.pk}/claim")
    assert (refused.status_code, refused.json()["error"]["code"]) == (410, "offer_not_active")
    listed = client_for(neighbour).get("/api/v1/offers").json()["results"]
    assert [o["id"] for o in listed] == [elsewhere.pk]

    redeemed = client_for(clerk).post("/api/v1/merchant/redemptions", {"code": code}, format="json")
    assert redeemed.status_code == 201, redeemed.content

    again = services.sync_enterprise_credit()  # idempotent: nothing more to pause
    assert again.offers_paused == 0
    assert OfferTransition.objects.filter(offer=offer, action="pause").count() == 1
