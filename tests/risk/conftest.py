"""Rows for the risk-signal tests, made directly with the ORM as the services leave them:
vouchers and their redemption rows (online, or offline with the scan time and device)."""

import itertools
from datetime import date, datetime, time, timedelta

import pytest

from incentives.dashboard.rollup import TZ
from incentives.models import OfflineRedemption, Redemption, Voucher
from tests.dashboard.factories import merchant, offer, resident, voucher_fields
from tests.merchants.factories import city_staff, merchant_staff, superuser

DAY = date(2026, 11, 18)  # a Wednesday, the day the signals are computed for
_nonces = itertools.count(1)


def local(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=TZ)


def redeem(
    of, holder, at: datetime, clerk, *, device: str = "", offline: bool = False
) -> Redemption:
    """A voucher of `of` held by `holder`, redeemed at `at` by `clerk` (offline: scanned at
    `at` on `device`, recorded when synced an hour later)."""
    fields = voucher_fields(of, holder, at - timedelta(hours=2), status="redeemed")
    fields["redeemed_at"] = at + (timedelta(hours=1) if offline else timedelta())
    fields["expires_at"] = at + timedelta(days=2)
    v = Voucher.objects.create(**fields)
    return Redemption.objects.create(
        voucher=v,
        merchant_id=of.merchant_id,
        staff=clerk,
        redeemed_at=fields["redeemed_at"],
        scanned_at=at if offline else None,
        device_id=device,
    )


def offline_row(shop, clerk, at: datetime, outcome: str = "redeemed", conflict: bool = False):
    return OfflineRedemption.objects.create(
        merchant=shop,
        city_id=shop.city_id,
        staff=clerk,
        nonce=f"n{next(_nonces)}",
        device_id="pad-1",
        fingerprint="f" * 64,
        scanned_at=at,
        synced_at=at + timedelta(hours=1),
        outcome=outcome,
        conflict=conflict,
    )


class World:
    def __init__(self) -> None:
        self.shop = merchant("330100")  # 杭州
        self.offer = offer(
            self.shop,
            valid_from=local(DAY - timedelta(days=60), 0),
            valid_until=local(DAY + timedelta(days=60), 0),
        )
        self.clerk = merchant_staff(self.shop)
        self.other_shop = merchant("330100")
        self.other_offer = offer(
            self.other_shop,
            valid_from=local(DAY - timedelta(days=60), 0),
            valid_until=local(DAY + timedelta(days=60), 0),
        )
        self.other_clerk = merchant_staff(self.other_shop)
        self.haikou = merchant("460100")
        self.haikou_offer = offer(
            self.haikou,
            valid_from=local(DAY - timedelta(days=60), 0),
            valid_until=local(DAY + timedelta(days=60), 0),
        )
        self.haikou_clerk = merchant_staff(self.haikou)
        self.residents = [resident("310100") for _ in range(60)]
        self.hangzhou_staff = city_staff("330100")
        self.haikou_staff = city_staff("460100")
        self.superuser = superuser()


@pytest.fixture
def world(cities) -> World:
    return World()
