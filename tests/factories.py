"""factory-boy factories shared by the suite."""

import itertools
import random
from datetime import date, timedelta

import factory

from accounts.identity import id_check_char
from accounts.models import User

PASSWORD = "Trust-reward-2026"


# Serial numbers of made-up ID numbers: unique within a test process, so two residents of
# one test never share an ID number by chance (random ones did, now and then).
_serials = itertools.count(1)
_DAYS = 20_000  # birth dates from 1950 on, about 55 years


def make_id_number(
    region: str = "330106", birth: str | None = None, rng: random.Random | None = None
) -> str:
    """A valid GB 11643-1999 ID number for a fictional person: a different one at every
    call (unless `rng` is given, which draws them at random). Sequence numbers 900–999
    are left to the suite; the sandbox persons use lower ones."""
    if rng is not None:
        year, month, day = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
        birth = birth or f"{year}{month:02d}{day:02d}"
        sequence = rng.randint(0, 999)
    else:
        serial = next(_serials)
        if birth is None:
            birth = f"{date(1950, 1, 1) + timedelta(days=serial % _DAYS):%Y%m%d}"
            sequence = 900 + (serial // _DAYS) % 100
        else:
            sequence = 900 + serial % 100
    first17 = f"{region}{birth}{sequence:03d}"
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
