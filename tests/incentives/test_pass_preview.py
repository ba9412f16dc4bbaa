"""POST /api/v1/merchant/pass-checks/preview: the masked holder first, and which of the
merchant's entitlement offers can be applied now; it changes and records nothing."""

import pytest

from accounts.identity import mask_name
from incentives.models import EntitlementTally, EntitlementUse, RefusalCount

from .conftest import client_for, make_resident
from .test_passes import check, entitlement, pass_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/merchant/pass-checks/preview"


def preview(clerk, token):
    return client_for(clerk).post(URL, {"token": token}, format="json")


def test_the_preview_names_the_masked_holder_and_what_can_be_applied(clerk, merchant):
    holder = make_resident(real_name="王小明")
    twice = entitlement(merchant, title="押金减免", limit_per_period=2)
    token = pass_of(holder)["token"]
    res = preview(clerk, token)
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["holder"] == {"name": mask_name("王小明"), "id_last4": holder.id_masked[-4:]}
    assert "小" not in body["holder"]["name"]
    [row] = body["offers"]
    assert row["offer"]["id"] == twice.pk
    assert (row["can_apply"], row["reasons"], row["used"], row["limit"]) == (True, [], 0, 2)
    assert not EntitlementUse.objects.exists() and not EntitlementTally.objects.exists()


def test_used_up_for_the_period_is_not_offered(clerk, merchant):
    holder = make_resident()
    once = entitlement(merchant, limit_per_period=1)
    assert check(clerk, pass_of(holder)["token"], once).status_code == 201
    fresh = pass_of(holder)["token"]  # another pass of the same person: the tally is theirs
    [row] = preview(clerk, fresh).json()["offers"]
    assert row["can_apply"] is False
    assert row["reasons"] == ["usage_limit_reached"]
    assert (row["used"], row["limit"]) == (1, 1)
    assert row["next_available_at"] is not None
    assert check(clerk, fresh, once).json()["error"]["code"] == "usage_limit_reached"


def test_the_same_pass_already_used_for_an_offer_says_so(clerk, merchant):
    holder = make_resident()
    twice = entitlement(merchant, limit_per_period=2)
    token = pass_of(holder)["token"]
    assert check(clerk, token, twice).status_code == 201
    [row] = preview(clerk, token).json()["offers"]
    assert row["reasons"] == ["pass_already_used"]


def test_an_ineligible_holder_gets_the_checks_reasons_and_nothing_is_counted(clerk, merchant):
    holder = make_resident(score=560)  # below the offer's tier
    offer = entitlement(merchant, min_tier="excellent")
    token = pass_of(holder)["token"]
    [row] = preview(clerk, token).json()["offers"]
    assert row["can_apply"] is False
    assert row["reasons"] == check(clerk, token, offer).json()["error"]["detail"]["reasons"]
    RefusalCount.objects.all().delete()
    preview(clerk, token)
    assert not RefusalCount.objects.exists()


def test_no_offers_still_shows_the_holder(clerk):
    holder = make_resident(real_name="李四")
    body = preview(clerk, pass_of(holder)["token"]).json()
    assert body["offers"] == [] and body["holder"]["id_last4"] == holder.id_masked[-4:]


@pytest.mark.parametrize("token", ["XP1nonsense", "", "A" * 300])
def test_bad_tokens_are_400(clerk, token):
    res = preview(clerk, token)
    assert res.status_code == 400
    assert res.json()["error"]["code"] in {"invalid_token", "invalid_request"}


def test_only_merchant_staff(resident):
    res = client_for(resident).post(URL, {"token": pass_of(resident)["token"]}, format="json")
    assert res.status_code == 403
