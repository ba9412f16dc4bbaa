"""Demo data of incentives (seed_demo): the demo resident's wallet, and months of voucher
history for the dashboards."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, PositiveIntegerField, Value, When
from django.utils import timezone

from core.errors import DomainError
from merchants.models import Offer

from . import signing
from .dashboard.demo import seed_history
from .models import ClaimTally, Voucher
from .vouchers.services import claim_offer, redeem_voucher

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
            issued.append(claim_offer(resident_id=resident.pk, offer_id=offer.pk))
        except DomainError:
            continue  # not eligible or full: the demo takes what a resident could take
    mine = [v for v in issued if v.merchant_id == boat[0].merchant_id] if boat else []
    if mine:
        redeem_voucher(staff_id=clerk.pk, token=signing.voucher_token(mine[0]))


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


INCIDENT_RESIDENT = "13700000004"  # 杭州, 较差: a confirmed incident, open to objection
INCIDENT_REVIEWER = "13900000001"  # 杭州 city staff


def seed_incidents() -> None:
    """One confirmed incident against a demo login (a no-show at the boat's credit lane,
    suspending travel perks, so the resident can see it and object), and one report
    waiting in 海口's queue (on a history use at the clinic)."""
    from merchants.models import MerchantStaff

    from .incidents.models import Incident
    from .incidents.services import decide_incident, report_incident
    from .passes.models import EntitlementUse
    from .passes.services import period_bounds

    User = get_user_model()
    resident = User.objects.filter(phone=INCIDENT_RESIDENT).first()
    clerk = User.objects.filter(phone=GATE_CLERK).first()
    reviewer = User.objects.filter(phone=INCIDENT_REVIEWER).first()
    if resident is None or clerk is None or reviewer is None or Incident.objects.exists():
        return
    if resident.home_city_id is None:  # a demo resident has one (resident_has_identity)
        return
    lane = Offer.objects.filter(
        merchant__staff__user=clerk, kind=Offer.Kind.ENTITLEMENT, status=Offer.Status.PUBLISHED
    ).first()
    if lane is not None:
        at = timezone.now() - timedelta(days=2)
        use = EntitlementUse.objects.create(
            offer=lane,
            resident=resident,
            merchant_id=lane.merchant_id,
            staff=clerk,
            pass_id=-(10**12),  # a demo use, never a real pass id
            period_start=period_bounds(lane.period, at)[0],
            used_at=at,
            scenario=lane.scenario,
            category=lane.category,
            dest_city_id=lane.merchant.city_id,
            home_city_id=resident.home_city_id,
        )
        incident = report_incident(
            staff=clerk, use_id=use.pk, kind="no_show", note="预约优先登船后未到，占用名额。"
        )
        decide_incident(
            actor=reviewer, incident_id=incident.pk, action="confirm", note="商户提供了预约记录。"
        )
    clinic_use = (
        EntitlementUse.objects.filter(offer__merchant__name__startswith="海口市民诊所")
        .order_by("pk")
        .first()
    )
    if clinic_use is not None:
        clinic_staff = MerchantStaff.objects.filter(merchant_id=clinic_use.merchant_id).first()
        if clinic_staff is not None:
            report_incident(
                staff=clinic_staff.user,
                use_id=clinic_use.pk,
                kind="unpaid_pay_later",
                note="先诊疗后付费账单逾期 30 天未结清。",
            )


def seed() -> list[tuple[str, str]]:
    seed_wallet()
    seed_history()
    reconcile_claim_counts()
    seed_incidents()
    return []
