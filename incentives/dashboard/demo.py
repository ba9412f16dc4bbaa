"""Demo history for the dashboards: a few thousand vouchers over the last 90 days across
the demo offers, claimed by synthetic residents of every partner city, with a realistic
mix of redemptions, cancellations, expiries and revocations; then the roll-ups.

Idempotent: nothing is added when history vouchers exist. History vouchers are marked
by their key id, `HISTORY_KEY_ID`, which no signing key has (real vouchers carry the id
of the key that signed them); their codes are 12 characters starting with "H", which no
real voucher code (10 characters, any first letter) is, so they never collide either.
The synthetic residents have no password (they cannot log in) and are not the demo
logins, so the demo logins' claim limits stay untouched.
"""

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.identity import id_check_char
from accounts.models import City, User
from merchants.models import Offer

from ..models import Voucher
from .rollup import TZ, local_today, rebuild_rollups

CODE_PREFIX = "H"
HISTORY_KEY_ID = "demo-history"
PHONE_PREFIX = "135"
RESIDENTS = 400
# Where visitors come from: the demo's busiest home cities first.
HOME_WEIGHTS = {"330100": 8, "310100": 8, "460100": 5, "320500": 4, "320100": 3, "330200": 3}


def _home(resident: User) -> str:
    home = resident.home_city_id
    assert home is not None  # a resident always has a home city (User's check constraint)
    return home


def _residents(rng: random.Random) -> list[User]:
    existing = list(User.objects.filter(phone__startswith=PHONE_PREFIX, role=User.Role.RESIDENT))
    if len(existing) >= RESIDENTS:
        return existing
    cities = list(City.objects.values_list("code", flat=True))
    weights = [HOME_WEIGHTS.get(code, 1) for code in cities]
    taken = {u.phone for u in existing}
    made = []
    for i in range(RESIDENTS):
        phone = f"{PHONE_PREFIX}{i:08d}"
        if phone in taken:
            continue
        home = rng.choices(cities, weights)[0]
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
        first17 = f"{home[:4]}02{birth:%Y%m%d}{i % 1000:03d}"
        user = User(phone=phone, role=User.Role.RESIDENT, home_city_id=home, real_name="演示居民")
        user.set_id_number(first17 + id_check_char(first17))
        user.set_unusable_password()
        made.append(user)
    User.objects.bulk_create(made, ignore_conflicts=True)
    return list(User.objects.filter(phone__startswith=PHONE_PREFIX, role=User.Role.RESIDENT))


def _claim_time(rng: random.Random, now: datetime, days: int) -> datetime:
    """More claims lately (the programme grows) and by day than by night."""
    back = int(days * (rng.random() ** 1.6))
    day = (now.astimezone(TZ) - timedelta(days=back)).date()
    hour = rng.choices(
        range(24), [1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 9, 8, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2]
    )[0]
    at = datetime(
        day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59), tzinfo=TZ
    )
    return min(at, now - timedelta(minutes=1))


def _outcome(rng: random.Random, issued: datetime, expires: datetime, now: datetime) -> dict:
    redeem_at = issued + (expires - issued) * rng.uniform(0.02, 0.8)
    roll = rng.random()
    if roll < 0.58 and redeem_at <= now:
        return {"status": "redeemed", "redeemed_at": redeem_at}
    if roll < 0.68:
        at = issued + (expires - issued) * rng.uniform(0.01, 0.5)
        if at <= now:
            return {"status": "cancelled", "closed_at": at}
    if roll < 0.71:
        at = issued + (expires - issued) * rng.uniform(0.01, 0.9)
        if at <= now:
            return {"status": "revoked", "closed_at": at}
    if expires <= now:
        return {"status": "expired", "closed_at": expires + timedelta(minutes=rng.randint(1, 5))}
    return {"status": "issued"}


def history_seeded() -> bool:
    """Whether the demo history is in the database (real vouchers do not count, whatever
    their code looks like)."""
    return Voucher.objects.filter(key_id=HISTORY_KEY_ID).exists()


def seed_history(count: int = 3000, days: int = 90, seed: int = 2026) -> int:
    """Create `count` history vouchers over the last `days` days, then rebuild the
    roll-ups of those days; returns how many vouchers were made (0 when done before)."""
    if history_seeded():
        return 0
    offers = list(
        Offer.objects.filter(status=Offer.Status.PUBLISHED, kind=Offer.Kind.VOUCHER)
        .select_related("merchant__city__scheme")
        .prefetch_related("eligible_home_cities")
    )
    if not offers:
        return 0
    rng = random.Random(seed)
    residents = _residents(rng)
    by_city: dict[str, list[User]] = {}
    for r in residents:
        by_city.setdefault(_home(r), []).append(r)
    terms = {o.pk: o.terms_snapshot() for o in offers}
    popularity = [rng.uniform(0.3, 3.0) for _ in offers]
    now = timezone.now()
    vouchers = []
    for i in range(count):
        offer = rng.choices(offers, popularity)[0]
        local = by_city.get(offer.merchant.city_id)
        holder = rng.choice(local) if local and rng.random() < 0.45 else rng.choice(residents)
        issued = _claim_time(rng, now, days)
        expires = issued + timedelta(hours=offer.voucher_lifetime_hours)
        vouchers.append(
            Voucher(
                code=f"{CODE_PREFIX}{i:011d}",
                offer=offer,
                resident=holder,
                merchant_id=offer.merchant_id,
                dest_city_id=offer.merchant.city_id,
                home_city_id=_home(holder),
                category=offer.category,
                terms=terms[offer.pk],
                terms_version=offer.terms_version,
                key_id=HISTORY_KEY_ID,
                issued_at=issued,
                expires_at=expires,
                **_outcome(rng, issued, expires, now),
            )
        )
    _one_place_at_a_time(vouchers, now)
    Voucher.objects.bulk_create(vouchers, batch_size=1000)
    _seed_redemptions(vouchers)
    _seed_counter_history(rng, residents, now, days)
    today = local_today()
    rebuild_rollups(date_from=today - timedelta(days=days + 1), date_to=today)
    return len(vouchers)


def _one_place_at_a_time(vouchers: list[Voucher], now: datetime) -> None:
    """A person is in one place at a time: a redemption sooner after one in a far city
    than travel allows (the rule of the travel-time risk signal) did not happen; such a
    voucher stays unused instead (expired, or still issued)."""
    from django.conf import settings

    from ..risk.geo import distance_km

    speed, slack = settings.RISK_TRAVEL_KMH, settings.RISK_TRAVEL_SLACK_HOURS
    last: dict[int, Voucher] = {}
    redeemed = [(v.redeemed_at, v) for v in vouchers if v.status == "redeemed" and v.redeemed_at]
    for _at, v in sorted(redeemed, key=lambda pair: pair[0]):
        before = last.get(v.resident_id)
        if before is not None and before.redeemed_at is not None and v.redeemed_at is not None:
            km = distance_km(before.dest_city_id, v.dest_city_id) or 0.0
            hours = (v.redeemed_at - before.redeemed_at).total_seconds() / 3600
            if km and hours < km / speed + slack:
                _unused(v, now)
                continue
        last[v.resident_id] = v


def _unused(v: Voucher, now: datetime) -> None:
    v.redeemed_at = None
    if v.expires_at <= now:
        v.status, v.closed_at = "expired", v.expires_at + timedelta(minutes=2)
    else:
        v.status = "issued"


def _seed_redemptions(vouchers: list[Voucher]) -> None:
    """The redemption rows of the redeemed history vouchers, by a clerk of the merchant,
    online. None for a merchant without staff, nor for a voucher redeemed outside its
    offer's dates (the history predates some demo offers: their vouchers only count)."""
    from merchants.models import MerchantStaff

    from ..vouchers.models import Redemption

    clerks: dict[int, int] = {}
    for merchant_id, user_id in MerchantStaff.objects.order_by("pk").values_list(
        "merchant_id", "user_id"
    ):
        clerks.setdefault(merchant_id, user_id)
    Redemption.objects.bulk_create(
        [
            Redemption(
                voucher_id=v.pk,
                merchant_id=v.merchant_id,
                staff_id=clerks[v.merchant_id],
                redeemed_at=v.redeemed_at,
            )
            for v in vouchers
            if v.status == "redeemed"
            and v.redeemed_at
            and v.merchant_id in clerks
            and v.offer.valid_from <= v.redeemed_at <= v.offer.valid_until
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


# How often each reason turned someone away, relative to the others (refusal history).
REFUSAL_WEIGHTS = {
    "tier_too_low": 10,
    "seriously_dishonest": 3,
    "home_city_not_eligible": 4,
    "standing_expired": 2,
    "usage_limit_reached": 3,
    "suspended": 1,
}


def _seed_counter_history(rng: random.Random, residents: list[User], now, days: int) -> None:
    """Entitlement uses (pass ids are the history's own serials, never a real pass's),
    their per-period tallies, and refusal counts, over the same days."""
    from ..passes.models import EntitlementTally, EntitlementUse, RefusalCount
    from ..passes.services import period_bounds

    offers = list(
        Offer.objects.filter(status=Offer.Status.PUBLISHED, kind=Offer.Kind.ENTITLEMENT)
        .select_related("merchant")
        .order_by("pk")
    )
    if not offers:
        return
    tally: dict[tuple[int, int, date], int] = {}
    uses = []
    for i in range(len(offers) * 80):
        offer = offers[i % len(offers)]
        holder = rng.choice(residents)
        at = _claim_time(rng, now, days)
        period_start, _next = period_bounds(offer.period, at)
        key = (offer.pk, holder.pk, period_start)
        limit = offer.limit_per_period
        assert limit is not None  # an entitlement has one (Offer's check constraint)
        if tally.get(key, 0) >= limit:
            continue
        tally[key] = tally.get(key, 0) + 1
        uses.append(
            EntitlementUse(
                offer=offer,
                resident=holder,
                merchant_id=offer.merchant_id,
                staff_id=None,
                pass_id=-(i + 1),  # negative: issued passes' ids are never negative
                period_start=period_start,
                used_at=at,
                scenario=offer.scenario,
                category=offer.category,
                dest_city_id=offer.merchant.city_id,
                home_city_id=_home(holder),
            )
        )
    EntitlementUse.objects.bulk_create(uses, batch_size=1000)
    EntitlementTally.objects.bulk_create(
        [
            EntitlementTally(offer_id=o, resident_id=r, period_start=p, used=n)
            for (o, r, p), n in tally.items()
        ],
        ignore_conflicts=True,
    )
    counts: dict[tuple, int] = {}
    reasons, weights = list(REFUSAL_WEIGHTS), list(REFUSAL_WEIGHTS.values())
    for _i in range(days * 6):
        offer = rng.choice(offers)
        day = _claim_time(rng, now, days).astimezone(TZ).date()
        source = "pass_check" if rng.random() < 0.6 else "claim"
        reason = rng.choices(reasons, weights)[0]
        if source == "claim" and reason == "usage_limit_reached":
            reason = "tier_too_low"
        counted = (offer.merchant.city_id, day, source, reason, offer.scenario)
        counts[counted] = counts.get(counted, 0) + 1
    RefusalCount.objects.bulk_create(
        [
            RefusalCount(dest_city_id=c, day=d, source=s, reason=r, scenario=sc, count=n)
            for (c, d, s, r, sc), n in counts.items()
        ],
        ignore_conflicts=True,
    )
