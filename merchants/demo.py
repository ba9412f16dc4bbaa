"""Demo data of merchants: stations, merchants with valid credit codes, merchant staff
logins and offers in every category, most of them published through the review services.

All names are invented for the demo. Idempotent: merchants are keyed by credit code,
offers by (merchant, title); an offer that exists is left as it is.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import City, User
from core.errors import DomainError

from . import services
from .credit.services import check_merchant_credit
from .demo_data import DEMO_MERCHANT_STAFF, ENTITLEMENTS, MERCHANTS, OFFERS, STATIONS
from .models import Merchant, MerchantStaff, Offer, Station
from .validators import credit_code_check_char, organisation_code_check_char

SUPERUSER = "13800000000"
CITY_STAFF = {"330100": "13900000001", "460100": "13900000002"}


def demo_credit_code(division: str, serial: int) -> str:
    """A valid 统一社会信用代码 of an enterprise (91) with a GB 11714 organisation code."""
    body = f"MA{serial:06d}"
    first17 = f"91{division}{body}{organisation_code_check_char(body)}"
    return first17 + credit_code_check_char(first17)


def _score_threshold(city: City) -> dict[str, Any]:
    """Ask for the 'good' band's floor when the city has a scheme; else the tier itself."""
    scheme = city.scheme
    if scheme is None:
        return {"min_tier": "good"}
    rule = scheme.rule_in_force()
    if scheme.is_grade:  # a grade city asks for the lowest 'good' grade (桃花分: A)
        return {"min_grade": rule.grade_scale.in_tier("good")[0] if rule else "A"}
    if rule is not None:
        return {"min_score": rule.good_lo}
    lo, hi = scheme.min_score, scheme.max_score
    assert lo is not None and hi is not None  # a score scheme has its range (Scheme.clean)
    return {"min_score": (lo + hi) // 2}


def _reviewer(city_code: str) -> User:
    phone = CITY_STAFF.get(city_code, SUPERUSER)
    return User.objects.get(phone=phone)


def seed() -> list[tuple[str, str]]:
    now = timezone.now()
    merchants: dict[str, Merchant] = {}
    for serial, (key, row) in enumerate(MERCHANTS.items(), start=1):
        name, city, district, address, category, phone, lat, lng = row
        merchant, _created = Merchant.objects.get_or_create(
            credit_code=demo_credit_code(city, serial),
            defaults={
                "name": name,
                "city_id": city,
                "district": district,
                "address": address,
                "category": category,
                "contact_phone": phone,
                "latitude": Decimal(lat) if lat else None,
                "longitude": Decimal(lng) if lng else None,
            },
        )
        merchants[key] = merchant
        if merchant.credit_checked_at is None:  # the enterprise sandbox grades it
            check_merchant_credit(merchant_id=merchant.pk)
            merchant.refresh_from_db()

    for name, (city, description, keys) in STATIONS.items():
        station, _created = Station.objects.get_or_create(
            city_id=city, name=name, defaults={"description": description}
        )
        station.merchants.add(*(merchants[k] for k in keys))

    logins = []
    staff_users: dict[str, User] = {}
    for phone, key, real_name in DEMO_MERCHANT_STAFF:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.create_user(
                phone,
                DEMO_PASSWORD,
                real_name=real_name,
                role=User.Role.MERCHANT_STAFF,
                is_staff=True,
            )
        MerchantStaff.objects.get_or_create(user=user, defaults={"merchant": merchants[key]})
        staff_users[key] = user
        logins.append((phone, f"{real_name} (merchant_staff, {merchants[key].name})"))

    superuser = User.objects.get(phone=SUPERUSER)
    for spec in OFFERS:  # (not `row`: that names a merchant's tuple above)
        key, title, title_en, category, benefit, value, note, rule, tier, quota, state = spec[:11]
        honour = spec[11] if len(spec) > 11 else ""
        merchant = merchants[key]
        if Offer.objects.filter(merchant=merchant, title=title).exists():
            continue
        author = staff_users.get(key, superuser)
        eligibility = _score_threshold(merchant.city) if tier == "score" else {"min_tier": tier}
        if honour:
            eligibility = {"required_honour": honour}
        fields: dict[str, Any] = {
            "title": title,
            "title_en": title_en,
            "description": f"{merchant.name}为守信居民提供的优惠：{title}。",
            "description_en": f"{title_en}, for residents in good credit standing.",
            "category": category,
            "benefit_type": benefit,
            "benefit_value": Decimal(value) if value else None,
            "benefit_note": note,
            "home_city_rule": rule,
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=180),
            "total_quota": quota,
            "usage_notes": "到店出示信游电子券二维码，并出示本人身份证件核验。",
            **eligibility,
        }
        if rule == "listed":
            fields["eligible_home_cities"] = ["330100", "350200", "320500"]
        offer = services.create_offer(actor=author, merchant=merchant, fields=fields)
        if state == "draft":
            continue
        try:
            offer = services.submit_offer(actor=author, offer=offer)
        except DomainError:
            continue  # the D-graded demo merchant: its offer stays a draft (the gate)
        reviewer = _reviewer(merchant.city_id)
        if state == "published":
            services.publish_offer(actor=reviewer, offer=offer)
        elif state == "rejected":
            services.reject_offer(
                actor=reviewer,
                offer=offer,
                reason="赠品价值需写明（如“价值 28 元的同款咖啡”），请补充后重新提交。",
            )
    for (
        key,
        title,
        title_en,
        category,
        scenario,
        benefit,
        limit,
        period,
        rule,
        tier,
    ) in ENTITLEMENTS:
        merchant = merchants[key]
        if Offer.objects.filter(merchant=merchant, title=title).exists():
            continue
        author = staff_users.get(key, superuser)
        fields = {
            "kind": Offer.Kind.ENTITLEMENT,
            "scenario": scenario,
            "title": title,
            "title_en": title_en,
            "description": f"{merchant.name}为守信居民提供：{title}。到柜台出示信用码即可。",
            "description_en": f"{title_en}: show your credit pass at the counter.",
            "category": category,
            "benefit_type": benefit,
            "home_city_rule": rule,
            "min_tier": tier,
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=365),
            "limit_per_period": limit,
            "period": period,
            "usage_notes": "在柜台出示信游信用码，工作人员扫码核验并核对身份证后四位。",
        }
        offer = services.create_offer(actor=author, merchant=merchant, fields=fields)
        offer = services.submit_offer(actor=author, offer=offer)
        services.publish_offer(actor=_reviewer(merchant.city_id), offer=offer)
    return logins
