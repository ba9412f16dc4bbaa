"""A month of raw rows for the statement tests, planted with the ORM as the services leave
them (the redemption services are not under test here: counting and freezing are).

`month` is two months back (its close time has passed whatever today is); rows sit right
inside and right outside its Asia/Shanghai bounds."""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import cast

import pytest

from accounts.models import User
from accounts.reference import load_reference_data
from incentives.models import EntitlementUse, OfflineRedemption, Redemption, Voucher
from incentives.statements.rows import TZ, add_months
from incentives.statements.selectors import current_month
from merchants.models import Merchant, Offer
from tests.factories import ResidentFactory
from tests.merchants.factories import (
    MerchantFactory,
    OfferFactory,
    city_staff,
    merchant_staff,
    superuser,
)

_serial = itertools.count(1)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """An Asia/Shanghai wall-clock time."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=TZ)


def offer(merchant: Merchant, **fields) -> Offer:
    fields.setdefault("status", Offer.Status.PUBLISHED)
    return cast(Offer, OfferFactory(merchant=merchant, **fields))


def merchant_in(city: str, name: str) -> Merchant:
    return cast(Merchant, MerchantFactory(city_id=city, name=name))


def resident() -> User:
    return cast(User, ResidentFactory(home_city_id="330100"))


def redeem(
    of: Offer,
    when: datetime,
    clerk,
    *,
    list_price: str | None = None,
    scanned_at: datetime | None = None,
    holder_of: User | None = None,
) -> Redemption:
    """A redeemed voucher of `of` (terms as claimed, plus a stated list price) and its
    redemption, recorded at `when` (offline: scanned at `scanned_at`, synced at `when`)."""
    terms = of.terms_snapshot()
    if list_price is not None:
        terms["list_price"] = list_price
    holder = holder_of or resident()
    voucher = Voucher.objects.create(
        code=f"V{next(_serial):07d}X{next(_serial) % 10}",
        offer=of,
        resident=holder,
        status=Voucher.Status.REDEEMED,
        merchant_id=of.merchant_id,
        dest_city_id=of.merchant.city_id,
        home_city_id="330100",
        category=of.category,
        terms=terms,
        terms_version=of.terms_version,
        key_id="test",
        issued_at=when - timedelta(hours=2),
        expires_at=when + timedelta(days=3),
        redeemed_at=when,
    )
    return Redemption.objects.create(
        voucher=voucher,
        merchant_id=of.merchant_id,
        staff=clerk,
        redeemed_at=when,
        scanned_at=scanned_at,
        device_id="dev-1" if scanned_at else "",
    )


def use(of: Offer, when: datetime, clerk) -> EntitlementUse:
    holder = resident()
    return EntitlementUse.objects.create(
        offer=of,
        resident=holder,
        merchant_id=of.merchant_id,
        staff=clerk,
        pass_id=next(_serial),
        period_start=when.astimezone(TZ).date(),
        used_at=when,
        scenario=of.scenario or "stay",
        category=of.category,
        dest_city_id=of.merchant.city_id,
        home_city_id="330100",
    )


def conflict(redemption: Redemption, synced: datetime, clerk) -> OfflineRedemption:
    """A second device's offline upload of a voucher that was redeemed first."""
    return OfflineRedemption.objects.create(
        merchant_id=redemption.merchant_id,
        city_id=redemption.voucher.dest_city_id,
        staff=clerk,
        nonce=f"n{next(_serial)}",
        device_id="dev-2",
        fingerprint="0" * 64,
        voucher=redemption.voucher,
        scanned_at=synced - timedelta(hours=1),
        synced_at=synced,
        outcome=OfflineRedemption.Outcome.ALREADY_REDEEMED,
        redeemed_at=redemption.redeemed_at,
        conflict=True,
    )


@dataclass
class World:
    month: date
    merchant: Merchant
    other: Merchant
    shanghai: Merchant
    offers: dict[str, Offer]
    clerk: object
    clerk2: object
    other_clerk: object
    redemptions: list = field(default_factory=list)


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    load_reference_data()
    month = add_months(current_month(), -2)
    first, last = month, add_months(month, 1) - timedelta(days=1)
    merchant = merchant_in("330100", "西湖游船")
    other = merchant_in("330100", "灵隐茶馆")
    shanghai = merchant_in("310100", "外滩酒店")
    Merchant.objects.filter(pk__in=[merchant.pk, other.pk, shanghai.pk]).update(
        created_at=at(first) - timedelta(days=90)
    )
    merchant.refresh_from_db()
    offers = {
        "boat": offer(
            merchant,
            title="游船立减",
            title_en="Boat ride off",
            benefit_type="amount_off",
            benefit_value=Decimal("30"),
        ),
        "museum": offer(
            merchant, title="博物馆八折", benefit_type="percent_off", benefit_value=Decimal("20")
        ),
        "show": offer(
            merchant, title="演出特价", benefit_type="fixed_price", benefit_value=Decimal("80")
        ),
        "park": offer(merchant, title="公园免票", benefit_type="free_entry", benefit_value=None),
        "spa": offer(
            merchant,
            title='=HYPERLINK("x")',
            benefit_type="percent_off",
            benefit_value=Decimal("10"),
        ),
        "deposit": offer(
            merchant,
            title="免押金",
            kind=Offer.Kind.ENTITLEMENT,
            scenario="stay",
            category="hotel",
            benefit_type="deposit_waiver",
            benefit_value=None,
            min_tier="",
            limit_per_period=5,
            period="day",
        ),
        "lane": offer(
            merchant,
            title="信用立减",
            kind=Offer.Kind.ENTITLEMENT,
            scenario="stay",
            category="hotel",
            benefit_type="amount_off",
            benefit_value=Decimal("10"),
            min_tier="",
            limit_per_period=5,
            period="day",
        ),
        "tea": offer(
            other, title="茶馆立减", benefit_type="amount_off", benefit_value=Decimal("5")
        ),
        "hotel": offer(
            shanghai, title="酒店立减", benefit_type="amount_off", benefit_value=Decimal("50")
        ),
    }
    clerk = merchant_staff(merchant)
    clerk.real_name = "店员甲"
    clerk.save(update_fields=["real_name"])
    clerk2 = merchant_staff(merchant)
    other_clerk = merchant_staff(other)
    sh_clerk = merchant_staff(shanghai)
    w = World(month, merchant, other, shanghai, offers, clerk, clerk2, other_clerk)
    o = offers
    # inside the month: first second, middle, last second (Asia/Shanghai)
    w.redemptions = [
        redeem(o["boat"], at(first, 0, 0, 0), clerk),
        redeem(o["boat"], at(first + timedelta(days=3)), clerk2),
        redeem(o["museum"], at(first + timedelta(days=4)), clerk, list_price="150.00"),
        redeem(o["show"], at(first + timedelta(days=5)), clerk, list_price="100.00"),
        redeem(o["park"], at(first + timedelta(days=6)), clerk, list_price="60.00"),
        redeem(o["spa"], at(first + timedelta(days=7)), clerk),  # no list price: no face value
        # offline: scanned on the last evening of the month before, synced in this month
        redeem(
            o["boat"],
            at(first, 9),
            clerk2,
            scanned_at=at(first - timedelta(days=1), 22),
        ),
        redeem(o["boat"], at(last, 23, 59, 59), clerk),
    ]
    use(o["deposit"], at(first + timedelta(days=2)), clerk)
    use(o["lane"], at(first + timedelta(days=2), 13), clerk)
    use(o["lane"], at(last, 20), None)
    conflict(w.redemptions[1], at(first + timedelta(days=3), 18), clerk2)
    # outside the month, or another merchant's
    redeem(o["boat"], at(first - timedelta(days=1), 23, 59, 59), clerk)
    redeem(o["boat"], at(last + timedelta(days=1), 0, 0, 0), clerk)
    use(o["lane"], at(last + timedelta(days=1), 0, 0, 1), clerk)
    redeem(o["tea"], at(first + timedelta(days=2)), other_clerk)
    redeem(o["tea"], at(first + timedelta(days=9)), other_clerk)
    redeem(o["hotel"], at(first + timedelta(days=2)), sh_clerk)
    return w


@pytest.fixture
def hz_staff(world):
    return city_staff("330100")


@pytest.fixture
def sh_staff(world):
    return city_staff("310100")


@pytest.fixture
def root(world):
    return superuser()
