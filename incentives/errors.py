"""Stable error codes of claims, vouchers and redemption (api.md)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError


class VoucherError(DomainError):
    pass


_SPECS: dict[str, tuple[int, Any]] = {
    "consent_required": (403, _("请先同意信用查询授权。")),
    "no_standing": (403, _("请先完成信用核验。")),
    "not_eligible": (403, _("暂不符合该优惠的领取条件。")),
    "quota_exhausted": (409, _("该优惠已领完。")),
    "claim_limit_reached": (409, _("您已达到该优惠的领取上限。")),
    "offer_not_active": (410, _("该优惠当前不可领取。")),
    "voucher_not_cancellable": (409, _("该券当前不能取消。")),
    "invalid_token": (400, _("二维码或券码无效。")),
    "wrong_merchant": (403, _("该券不属于本商户。")),
    "already_redeemed": (409, _("该券已核销。")),
    "voucher_expired": (410, _("该券已过期。")),
    "voucher_revoked": (410, _("该券已被撤销。")),
    "voucher_cancelled": (410, _("该券已取消。")),
    "not_found": (404, _("未找到。")),
    "idempotency_key_reused": (409, _("该幂等键已用于另一个请求。")),
    "request_in_progress": (409, _("相同的请求正在处理中，请稍后重试。")),
    "not_merchant_staff": (403, _("只有商户员工可以核销。")),
    "pass_expired": (410, _("信用码已过期，请居民刷新后重新出示。")),
    "pass_already_used": (409, _("该信用码已用于此项权益，请居民刷新信用码。")),
    "usage_limit_reached": (409, _("本周期内的使用次数已用完。")),
    "offer_not_claimable": (409, _("该权益无需领取，请在柜台出示信用码。")),
    "objection_exists": (409, _("已对该事件提出过异议。")),
    "incident_not_pending": (409, _("该事件当前状态下不能进行此操作。")),
}


def voucher_error(code: str, **detail: Any) -> VoucherError:
    status, message = _SPECS[code]
    return VoucherError(code, message, status=status, detail=detail or None)
