"""Demo data of incentives (seed_demo): the demo resident's wallet, and months of voucher
history for the dashboards."""

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, PositiveIntegerField, Value, When

from core.errors import DomainError
from merchants.models import Offer

from . import signing
from .dashboard.demo import seed_history
from .models import ClaimTally, Voucher
from .services import claim_offer, redeem_voucher

WALLET_RESIDENT = "13700000001"  # 王小明, 杭州, 钱江分 812
GATE_CLERK = "13600000001"  # 西湖画舫游船 staff


def seed_wallet() -> None:
    """A few issued vouchers and one redeemed, claimed and redeemed through the services."""
    User = get_user_model()
    resident = User.objects.filter(phone=WALLET_RESIDENT).first()
    clerk = User.objects.filter(phone=GATE_CLERK).first()
    if resident is None or clerk is None or Voucher.objects.filter(resident=resident).exists():
        return
    boat = Offer.objects.filter(
        merchant__staff__user=clerk, status=Offer.Status.PUBLISHED
    ).order_by("pk")
    others = (
        Offer.objects.filter(
            status=Offer.Status.PUBLISHED, merchant__city_id__in=["330100", "460100", "310100"]
        )
        .exclude(merchant__staff__user=clerk)
        .order_by("pk")
    )
    issued = []
    for offer in [*boat[:2], *others[:4]]:
        try:
            issued.append(claim_offer(resident=resident, offer_id=offer.pk))
        except DomainError:
            continue  # not eligible or full: the demo takes what a resident could take
    mine = [v for v in issued if v.merchant_id == boat[0].merchant_id] if boat else []
    if mine:
        redeem_voucher(staff=clerk, token=signing.voucher_token(mine[0]))


def reconcile_claim_counts() -> None:
    """Make each offer's claimed count and the per-resident tallies agree with the live
    vouchers (the history is bulk-inserted, not claimed): quotas the invented history
    overran are raised to fit, so the database constraints keep holding."""
    live = Voucher.objects.exclude(status__in=[Voucher.Status.CANCELLED, Voucher.Status.REVOKED])
    per_offer = live.values("offer").annotate(n=Count("id"))
    for row in per_offer:
        Offer.objects.filter(pk=row["offer"]).update(
            claimed_count=row["n"],
            total_quota=Case(
                When(total_quota__lt=row["n"], then=Value(row["n"])),
                default=F("total_quota"),
                output_field=PositiveIntegerField(),
            ),
        )
    tallies = live.values("offer", "resident").annotate(n=Count("id"))
    ClaimTally.objects.bulk_create(
        [ClaimTally(offer_id=t["offer"], resident_id=t["resident"], held=t["n"]) for t in tallies],
        update_conflicts=True,
        unique_fields=["offer", "resident"],
        update_fields=["held"],
    )


def seed() -> list[tuple[str, str]]:
    seed_wallet()
    seed_history()
    reconcile_claim_counts()
    return []
