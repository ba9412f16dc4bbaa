"""Error codes of claims, vouchers and redemption (docs/api.md, "Offers and vouchers",
"Merchant staff")."""

from django.utils.translation import gettext_lazy as _

from core.errors import declare

NOT_ELIGIBLE = declare("not_eligible", 403, _("暂不符合该优惠的领取条件。"))
QUOTA_EXHAUSTED = declare("quota_exhausted", 409, _("该优惠已领完。"))
CLAIM_LIMIT_REACHED = declare("claim_limit_reached", 409, _("您已达到该优惠的领取上限。"))
OFFER_NOT_ACTIVE = declare("offer_not_active", 410, _("该优惠当前不可领取。"))
VOUCHER_NOT_CANCELLABLE = declare("voucher_not_cancellable", 409, _("该券当前不能取消。"))
WRONG_MERCHANT = declare("wrong_merchant", 403, _("该券不属于本商户。"))
ALREADY_REDEEMED = declare("already_redeemed", 409, _("该券已核销。"))
VOUCHER_EXPIRED = declare("voucher_expired", 410, _("该券已过期。"))
VOUCHER_REVOKED = declare("voucher_revoked", 410, _("该券已被撤销。"))
VOUCHER_CANCELLED = declare("voucher_cancelled", 410, _("该券已取消。"))
IDEMPOTENCY_KEY_REUSED = declare("idempotency_key_reused", 409, _("该幂等键已用于另一个请求。"))
REQUEST_IN_PROGRESS = declare("request_in_progress", 409, _("相同的请求正在处理中，请稍后重试。"))
NOT_MERCHANT_STAFF = declare("not_merchant_staff", 403, _("只有商户员工可以核销。"))
# the credit pass at the counter, entitlements, incidents (api.md)
PASS_EXPIRED = declare("pass_expired", 410, _("信用码已过期，请居民刷新后重新出示。"))
PASS_ALREADY_USED = declare(
    "pass_already_used", 409, _("该信用码已用于此项权益，请居民刷新信用码。")
)
USAGE_LIMIT_REACHED = declare("usage_limit_reached", 409, _("本周期内的使用次数已用完。"))
OFFER_NOT_CLAIMABLE = declare("offer_not_claimable", 409, _("该权益无需领取，请在柜台出示信用码。"))
OBJECTION_EXISTS = declare("objection_exists", 409, _("已对该事件提出过异议。"))
INCIDENT_NOT_PENDING = declare("incident_not_pending", 409, _("该事件当前状态下不能进行此操作。"))
