"""factory-boy factories shared by the suite."""

import random

import factory

from accounts.identity import id_check_char
from accounts.models import User

PASSWORD = "Trust-reward-2026"


def make_id_number(region: str = "330106", birth: str | None = None, rng=random) -> str:
    """A valid GB 11643-1999 ID number for a fictional person."""
    birth = birth or f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{region}{birth}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


class ResidentFactory(factory.django.DjangoModelFactory):
    """A resident; pass `id_number=` to fix the ID number, `password=` to fix the password."""

    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"137{n:08d}")
    real_name = factory.Iterator(["王小明", "李华", "张伟", "陈静怡"])
    role = User.Role.RESIDENT

    @classmethod
    def _create(cls, model_class, *args, id_number=None, password=PASSWORD, **kwargs):
        user = model_class(**kwargs)
        region = user.home_city_id or "330106"
        user.set_id_number(id_number or make_id_number(region=region[:4] + "06"))
        user.set_password(password)
        user.save()
        return user


class StaffFactory(factory.django.DjangoModelFactory):
    """City staff by default; pass role= and staff_city= as needed."""

    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"139{n:08d}")
    real_name = "工作人员"
    role = User.Role.CITY_STAFF
    is_staff = True

    @classmethod
    def _create(cls, model_class, *args, password=PASSWORD, **kwargs):
        user = model_class(**kwargs)
        user.set_password(password)
        user.save()
        return user
