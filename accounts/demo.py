"""Demo data of accounts: partner cities, a superuser, city staff and residents."""

from .models import City, User
from .partner_cities import PARTNER_CITIES

DEMO_PASSWORD = "Xinyou#2026"

# (phone, real name, role, city code)
DEMO_STAFF: list[tuple[str, str, str, str | None]] = [
    ("13800000000", "平台管理员", "platform", None),
    ("13900000001", "杭州市信用办", "city_staff", "330100"),
    ("13900000002", "海口市信用办", "city_staff", "460100"),
]
# (phone, real name, home city, ID number): fictional persons the sandbox provider knows.
DEMO_RESIDENTS: list[tuple[str, str, str, str]] = [
    ("13700000001", "王小明", "330100", "33010619900101123X"),
]


def seed() -> list[tuple[str, str]]:
    for code, name, name_en, province in PARTNER_CITIES:
        City.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "province": province}
        )
    logins = []
    for phone, name, role, city in DEMO_STAFF:
        if not User.objects.filter(phone=phone).exists():
            if role == "platform":
                User.objects.create_superuser(phone, DEMO_PASSWORD, real_name=name)
            else:
                User.objects.create_user(
                    phone,
                    DEMO_PASSWORD,
                    real_name=name,
                    role=role,
                    staff_city_id=city,
                    is_staff=True,
                )
        logins.append((phone, f"{name} ({role}{' ' + city if city else ''})"))
    for phone, name, city, id_number in DEMO_RESIDENTS:
        if not User.objects.filter(phone=phone).exists():
            user = User(phone=phone, real_name=name, role=User.Role.RESIDENT, home_city_id=city)
            user.set_id_number(id_number)
            user.set_password(DEMO_PASSWORD)
            user.save()
        logins.append((phone, f"{name} (resident {city})"))
    return logins
