"""Merchants, offers and vouchers for the dashboard tests, made directly with the ORM
(the voucher services are not used: these tests are about counting, not claiming)."""

import itertools
from datetime import datetime, timedelta

from accounts.models import User
from incentives.models import Voucher
from merchants.models import Merchant, Offer
from tests.factories import ResidentFactory
from tests.merchants.factories import MerchantFactory, OfferFactory, credit_code

_codes = itertools.count(1)
_serials = itertools.count(900_000)


def merchant(city: str, category: str = "scenic", **fields) -> Merchant:
    serial = next(_serials)
    return MerchantFactory(
        city_id=city, category=category, credit_code=credit_code(serial, city), **fields
    )


def offer(of: Merchant, category: str | None = None, **fields) -> Offer:
    fields.setdefault("status", Offer.Status.PUBLISHED)
    return OfferFactory(merchant=of, category=category or of.category, **fields)


def resident(home_city: str) -> User:
    return ResidentFactory(home_city_id=home_city)


def voucher(
    of: Offer,
    holder: User,
    issued_at: datetime,
    *,
    status: str = "issued",
    redeemed_at: datetime | None = None,
    closed_at: datetime | None = None,
    category: str | None = None,
) -> Voucher:
    """A voucher as the services would leave it; `category` overrides the offer's (a
    voucher keeps the category its offer had at claim time)."""
    return Voucher.objects.create(
        **voucher_fields(
            of,
            holder,
            issued_at,
            status=status,
            redeemed_at=redeemed_at,
            closed_at=closed_at,
            category=category,
        )
    )


def voucher_fields(
    of: Offer,
    holder: User,
    issued_at: datetime,
    *,
    status: str = "issued",
    redeemed_at: datetime | None = None,
    closed_at: datetime | None = None,
    category: str | None = None,
) -> dict:
    return {
        "code": f"T{next(_codes):011d}",
        "offer": of,
        "resident": holder,
        "status": status,
        "merchant_id": of.merchant_id,
        "dest_city_id": of.merchant.city_id,
        "home_city_id": holder.home_city_id,
        "category": category or of.category,
        "terms": {"offer_id": of.pk},
        "terms_version": 1,
        "key_id": "test",
        "issued_at": issued_at,
        "expires_at": issued_at + timedelta(hours=72),
        "redeemed_at": redeemed_at,
        "closed_at": closed_at,
    }
