"""Load the demo: partner cities, staff and residents with known logins. Idempotent.

Later parts of the product add their own demo data through `seed_demo_steps` below
(credit schemes, merchants, offers, vouchers).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import City, User
from accounts.partner_cities import PARTNER_CITIES

DEMO_PASSWORD = "Xinyou#2026"

# (phone, real name, role, city code, ID number or None)
DEMO_USERS: list[tuple[str, str, str, str | None, str | None]] = [
    ("13800000000", "平台管理员", "platform", None, None),
    ("13900000001", "杭州市信用办", "city_staff", "330100", None),
    ("13900000002", "海口市信用办", "city_staff", "460100", None),
]
# Residents: the sandbox credit provider knows these ID numbers (see accounts/credit).
DEMO_RESIDENTS: list[tuple[str, str, str, str]] = [
    ("13700000001", "王小明", "330100", "33010619900101123X"),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            for code, name, name_en, province in PARTNER_CITIES:
                City.objects.update_or_create(
                    code=code, defaults={"name": name, "name_en": name_en, "province": province}
                )
            logins = [self._staff(*row) for row in DEMO_USERS]
            logins += [self._resident(*row) for row in DEMO_RESIDENTS]
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for phone, label in logins:
            self.stdout.write(f"  {phone}  {label}")

    def _staff(self, phone: str, name: str, role: str, city: str | None, _id: str | None):
        user = User.objects.filter(phone=phone).first()
        if user is None:
            if role == "platform":
                user = User.objects.create_superuser(phone, DEMO_PASSWORD, real_name=name)
            else:
                user = User.objects.create_user(
                    phone,
                    DEMO_PASSWORD,
                    real_name=name,
                    role=role,
                    staff_city_id=city,
                    is_staff=True,
                )
        return phone, f"{name} ({role}{' ' + city if city else ''})"

    def _resident(self, phone: str, name: str, city: str, id_number: str):
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User(phone=phone, real_name=name, role=User.Role.RESIDENT, home_city_id=city)
            user.set_id_number(id_number)
            user.set_password(DEMO_PASSWORD)
            user.save()
        return phone, f"{name} (resident {city})"
