"""Factories for merchants, stations, offers and the users who work on them."""

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Scheme, User
from merchants.models import Merchant, MerchantStaff, Offer, Station
from merchants.validators import credit_code_check_char
from tests.factories import PASSWORD, StaffFactory


def credit_code(serial: int, division: str = "330100") -> str:
    first17 = f"91{division}MA{serial:07d}"
    return first17 + credit_code_check_char(first17)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"测试商户{n}")
    credit_code = factory.Sequence(lambda n: credit_code(n))
    city_id = "330100"
    district = "西湖区"
    address = "测试路 1 号"
    category = "scenic"
    contact_phone = "0571-87654321"


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    name = factory.Sequence(lambda n: f"测试站{n}")
    city_id = "330100"


def merchant_staff(merchant: Merchant, phone: str | None = None) -> User:
    """A merchant-staff login (admin access) belonging to `merchant`."""
    kwargs = {"phone": phone} if phone else {}
    user = StaffFactory(role=User.Role.MERCHANT_STAFF, staff_city=None, **kwargs)
    MerchantStaff.objects.create(user=user, merchant=merchant)
    return user


def city_staff(city_code: str) -> User:
    return StaffFactory(role=User.Role.CITY_STAFF, staff_city_id=city_code)


_superusers = itertools.count()


def superuser() -> User:
    return User.objects.create_superuser(f"188{next(_superusers):08d}", PASSWORD)


def scheme(name: str = "钱江分", lo: int = 0, hi: int = 1000) -> Scheme:
    return Scheme.objects.get_or_create(name=name, defaults={"min_score": lo, "max_score": hi})[0]


class OfferFactory(factory.django.DjangoModelFactory):
    """A valid draft by default; pass status= to place it anywhere in the workflow."""

    class Meta:
        model = Offer

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"测试优惠{n}")
    description = "守信居民专享。"
    category = "scenic"
    benefit_type = "percent_off"
    benefit_value = Decimal("20")
    min_tier = "good"
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    total_quota = 100
    status = Offer.Status.DRAFT
