"""What a statement should say, computed the slow, obvious way from the raw rows with the
ORM and Python (independent of the statements' SQL)."""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from incentives.models import EntitlementUse, OfflineRedemption, Redemption

TZ = ZoneInfo("Asia/Shanghai")


def bounds(month: date) -> tuple[datetime, datetime]:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime.combine(month, time.min, tzinfo=TZ),
        datetime.combine(nxt, time.min, tzinfo=TZ),
    )


def face(benefit: str | None, value, list_price) -> Decimal | None:
    value = None if value is None else Decimal(str(value))
    price = None if list_price is None else Decimal(str(list_price))
    if benefit == "amount_off":
        return value
    if price is None:
        return None
    if benefit == "percent_off":
        return (price * value / 100).quantize(Decimal("0.01"))
    if benefit == "fixed_price":
        return max(price - value, Decimal(0))
    if benefit == "free_entry":
        return price
    return None


def expected(merchant_id: int, month: date) -> dict:
    """{"lines": {offer_id: [redemptions, uses, conflicts, face]}, "entries": [...]}"""
    start, end = bounds(month)
    lines: dict = defaultdict(lambda: [0, 0, 0, None])
    entries = []

    def add_face(key, amount):
        if amount is not None:
            lines[key][3] = (lines[key][3] or Decimal(0)) + amount

    for r in Redemption.objects.filter(
        merchant_id=merchant_id, redeemed_at__gte=start, redeemed_at__lt=end
    ).select_related("voucher", "staff"):
        t = r.voucher.terms
        amount = face(t.get("benefit_type"), t.get("benefit_value"), t.get("list_price"))
        lines[r.voucher.offer_id][0] += 1
        add_face(r.voucher.offer_id, amount)
        entries.append(
            {
                "kind": 1,
                "occurred_at": r.scanned_at or r.redeemed_at,
                "synced_at": r.redeemed_at if r.scanned_at else None,
                "offer_id": r.voucher.offer_id,
                "code_last4": r.voucher.code[-4:],
                "clerk": r.staff.real_name or f"#{r.staff_id}",
                "offline": r.scanned_at is not None,
                "face_value": amount,
            }
        )
    for u in EntitlementUse.objects.filter(
        merchant_id=merchant_id, used_at__gte=start, used_at__lt=end
    ).select_related("offer", "staff"):
        amount = face(u.offer.benefit_type, u.offer.benefit_value, None)
        lines[u.offer_id][1] += 1
        add_face(u.offer_id, amount)
        entries.append(
            {
                "kind": 2,
                "occurred_at": u.used_at,
                "synced_at": None,
                "offer_id": u.offer_id,
                "code_last4": "",
                "clerk": (u.staff.real_name or f"#{u.staff_id}") if u.staff else "",
                "offline": False,
                "face_value": amount,
            }
        )
    for x in OfflineRedemption.objects.filter(
        merchant_id=merchant_id, conflict=True, synced_at__gte=start, synced_at__lt=end
    ).select_related("voucher", "staff"):
        assert x.voucher is not None  # a conflict names the voucher redeemed first
        lines[x.voucher.offer_id][2] += 1
        entries.append(
            {
                "kind": 3,
                "occurred_at": x.scanned_at,
                "synced_at": x.synced_at,
                "offer_id": x.voucher.offer_id,
                "code_last4": x.voucher.code[-4:],
                "clerk": x.staff.real_name or f"#{x.staff_id}",
                "offline": True,
                "face_value": None,
            }
        )
    totals = [0, 0, 0, None]
    for line in lines.values():
        for i in range(3):
            totals[i] += line[i]
        if line[3] is not None:
            totals[3] = (totals[3] or Decimal(0)) + line[3]
    entries.sort(key=lambda e: (e["occurred_at"], e["kind"]))
    return {"lines": dict(lines), "entries": entries, "totals": totals}
