"""An offer states its list price (a term the city reviews); a voucher claimed through the
service carries it, and the statement counts the discount's face value from it: 20 % of
150.00 is 30.00, a special price of 99.00 saves 51.00, a free ticket is worth 150.00."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from incentives.statements.selectors import current_month, statement
from incentives.vouchers.services import claim_offer, redeem_voucher
from tests.incentives.conftest import make_resident, publish
from tests.merchants.factories import MerchantFactory, merchant_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("benefit", "value", "face"),
    [
        ("percent_off", Decimal("20"), Decimal("30.00")),
        ("fixed_price", Decimal("99"), Decimal("51.00")),
        ("free_entry", None, Decimal("150.00")),
    ],
)
def test_the_statement_counts_the_face_value_from_the_offers_list_price(
    world, benefit, value, face
):
    shop = MerchantFactory(city_id="330100", name="西湖游船")
    clerk = merchant_staff(shop)
    offer = publish(
        merchant=shop,
        min_tier="good",
        total_quota=5,
        benefit_type=benefit,
        benefit_value=value,
        list_price=Decimal("150.00"),
    )
    resident = make_resident()

    voucher = claim_offer(resident_id=resident.pk, offer_id=offer.pk)
    redeem_voucher(staff_id=clerk.pk, code=voucher.code)

    assert voucher.terms["list_price"] == "150.00"
    data = statement(shop, current_month())
    [line] = data.lines
    assert line.figures.redemptions == 1 and line.figures.face_value == face


def test_a_list_price_is_positive(world):
    offer = publish(merchant=MerchantFactory(city_id="330100"), list_price=Decimal("0"))
    with pytest.raises(ValidationError) as refused:
        offer.full_clean()
    assert "list_price" in refused.value.message_dict
