"""A mixed voucher history: three cities with offers, residents from four, every status,
events right before and right after midnight (Asia/Shanghai)."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from incentives.dashboard.rollup import TZ, local_today
from tests.merchants.factories import city_staff, merchant_staff, superuser

from . import factories as f

WINDOW_DAYS = 45


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class History:
    today: date
    first_day: date
    offers: dict = field(default_factory=dict)
    merchants: dict = field(default_factory=dict)
    residents: list = field(default_factory=list)
    midnight_day: date | None = None


def for_any_range(span: int, scopes, *, examples: int):
    """Hypothesis over a range of a built history (`start`, `length` in days, read by
    `range_of`: from before its first day to past today) and one of `scopes`."""

    def wrap(test):
        ranged = given(
            start=st.integers(min_value=-3, max_value=span + 1),
            length=st.integers(min_value=0, max_value=span + 5),
            scope=st.sampled_from(scopes),
        )(test)
        return settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(ranged)

    return wrap


def range_of(history, start: int, length: int) -> tuple[date, date]:
    """The days `for_any_range` drew: never past today, never backwards."""
    d0 = history.first_day + timedelta(days=start)
    d1 = min(d0 + timedelta(days=length), history.today)
    return min(d0, d1), d1


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ)


def build_history(count: int = 360, seed: int = 20261125) -> History:
    rng = random.Random(seed)
    now = timezone.now()
    today = local_today()
    h = History(today=today, first_day=today - timedelta(days=WINDOW_DAYS))
    specs = [
        ("hz-boat", "330100", "scenic"),
        ("hz-hotel", "330100", "hotel"),
        ("hz-food", "330100", "dining"),
        ("hk-hotel", "460100", "hotel"),
        ("hk-shop", "460100", "shopping"),
        ("sh-museum", "310100", "culture"),
    ]
    for key, city, category in specs:
        m = f.merchant(city, category, name=f"商户{key}")
        h.merchants[key] = m
        h.offers[f"{key}-1"] = f.offer(m, title=f"优惠{key}-1", title_en=f"Offer {key}-1")
        if category in ("scenic", "hotel"):
            h.offers[f"{key}-2"] = f.offer(m, title=f"优惠{key}-2")
    homes = ["330100"] * 4 + ["460100"] * 3 + ["310100"] * 3 + ["320500"] * 2
    h.residents = [f.resident(city) for city in homes]
    offers = list(h.offers.values())
    h.midnight_day = today - timedelta(days=12)
    rows = []
    for i in range(count):
        if i < 24:
            # both sides of one midnight, and of the window's first and last days
            day = [h.midnight_day, h.first_day, today - timedelta(days=1)][i % 3]
            at = [time(23, 59, 59, 999999), time(0, 0), time(23, 59, 30)][(i // 3) % 3]
            issued = local(day + timedelta(days=1 if at == time(0, 0) else 0), at)
        else:
            issued = now - timedelta(seconds=rng.randint(0, WINDOW_DAYS * 86400))
        issued = min(issued, now)
        later = issued + timedelta(minutes=rng.choice([1, 30, 600, 1500, 4000]))
        if i % 7 == 0:  # right at the next midnight after the claim
            later = local(issued.astimezone(TZ).date() + timedelta(days=1), time(0, 0))
        later = min(later, now)
        status = rng.choices(
            ["issued", "redeemed", "cancelled", "expired", "revoked"], [25, 40, 15, 12, 8]
        )[0]
        of = rng.choice(offers)
        category = "other" if i % 19 == 0 else None  # the offer's category changed later
        rows.append(
            f.voucher_fields(
                of,
                rng.choice(h.residents),
                issued,
                status=status,
                redeemed_at=later if status == "redeemed" else None,
                closed_at=later if status in ("cancelled", "expired", "revoked") else None,
                category=category,
            )
        )
    from incentives.models import Voucher

    Voucher.objects.bulk_create([Voucher(**row) for row in rows])
    return h


@pytest.fixture
def history(cities) -> History:
    return build_history()


@pytest.fixture
def staff(cities) -> dict[str, User]:
    return {code: city_staff(code) for code in ("330100", "460100", "310100", "320500")}


@pytest.fixture
def admin_user(cities) -> User:
    return superuser()


@pytest.fixture
def merchant_user(cities) -> User:
    return merchant_staff(f.merchant("330100"))
